"""Parse a night's landed files into raw/ partitions that are swapped in whole, plus the load log."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import shutil
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.common import progress
from ingest.common.errors import ExportError
from ingest.common.paths import partition
from ingest.land.landing import LandedFile, read_manifest
from ingest.parse.files import QUARANTINE_SCHEMA, FileLoad, ParseJob, empty_raw_file, parse_files
from ingest.rules.layouts import SOURCES, layout_for, load_layout

FILES_PER_WORKER = 16  # below this many files per worker, starting the workers costs more than it saves
# A worker's share of files at a time: parse_files types a group's CSV files of one shape in one query.
GROUP_BYTES = 32 << 20
LOAD_LOG_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("export_date", pa.string()),
        ("file_name", pa.string()),
        ("sha256", pa.string()),
        ("bytes", pa.int64()),
        ("version", pa.int32()),
        ("status", pa.string()),
        ("encoding", pa.string()),
        ("delimiter", pa.string()),
        ("header_row", pa.int32()),
        ("title_rows", pa.int32()),
        ("footer_rows", pa.int32()),
        ("footer_total", pa.int64()),
        ("unknown_headers", pa.string()),
        ("rows_read", pa.int64()),
        ("rows_loaded", pa.int64()),
        ("rows_quarantined", pa.int64()),
        ("quarantine_reasons", pa.string()),
        ("cell_notes", pa.string()),
        ("seconds", pa.float64()),
    ]
)


def parse_night(data: Path, export_date: dt.date) -> list[FileLoad]:
    """Parse every landed file of the night; all partitions appear together or not at all."""
    landed = read_manifest(data, export_date)
    staging = data / "raw" / f".staging-{uuid.uuid4().hex[:8]}"
    loads: list[FileLoad] = []
    errors: list[str] = []
    try:
        for source in SOURCES:
            canonical = load_layout(source)
            out, quarantine = staging / source / "loaded", staging / source / "quarantine"
            files = [f for f in landed if f.source == source]
            for outcome in _map(_parse_group, _groups(files, export_date, out, quarantine), len(files)):
                if isinstance(outcome, FileLoad):
                    loads.append(outcome)
                else:
                    errors.append(outcome)
                progress.step("parse", len(loads) + len(errors), len(landed), "files")
            empty_raw_file(canonical, out / "_empty.parquet")
            quarantine.mkdir(parents=True, exist_ok=True)
            pq.write_table(QUARANTINE_SCHEMA.empty_table(), quarantine / "_empty.parquet")
        if errors:
            raise ExportError(f"{len(errors)} file(s)", "could not be loaded:\n  " + "\n  ".join(errors))
        log = staging / "load_log"
        log.mkdir(parents=True)
        table = pa.Table.from_pylist([load.as_row() for load in loads], schema=LOAD_LOG_SCHEMA)
        pq.write_table(table, log / "load_log.parquet")
        for source in SOURCES:
            _swap(staging / source / "loaded", partition(data, source, export_date))
            _swap(staging / source / "quarantine", partition(data, source, export_date, True))
        _swap(log, partition(data, "load_log", export_date))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return loads


def _groups(files: list[LandedFile], export_date: dt.date, out: Path, quarantine: Path) -> list[list[tuple]]:
    """The night's files of one source in groups of about GROUP_BYTES, in order: a worker's share."""
    groups: list[list[tuple]] = [[]]
    size = 0
    for landed_file in files:
        if groups[-1] and size + landed_file.bytes > GROUP_BYTES:
            groups.append([])
            size = 0
        groups[-1].append((landed_file, export_date, out, quarantine))
        size += landed_file.bytes
    return [g for g in groups if g]


def _parse_group(jobs: list[tuple[LandedFile, dt.date, Path, Path]]) -> list[FileLoad | str]:
    """Landed files parsed into the staging folders together: each one's load, or the error that
    refused it."""
    outcomes: list[FileLoad | str] = [""] * len(jobs)
    parsed, positions = [], []
    for i, (landed_file, export_date, out, quarantine) in enumerate(jobs):
        layout = layout_for(landed_file.source, landed_file.name)
        if landed_file.superseded:
            outcomes[i] = _superseded(landed_file)
        elif layout is None:
            outcomes[i] = str(
                ExportError(landed_file.name, f"matches no {landed_file.source} layout's file name pattern")
            )
        else:
            path, name, sha256 = Path(landed_file.path), landed_file.name, landed_file.sha256
            parsed.append(ParseJob(path, name, layout, export_date, out, quarantine, sha256))
            positions.append(i)
    for i, result in zip(positions, parse_files(parsed), strict=True):
        if isinstance(result, ExportError):
            outcomes[i] = str(result)
        else:
            result.version = jobs[i][0].version
            outcomes[i] = result
    return outcomes


def parse_workers() -> int:
    """Processes that parse a night's files side by side: `SOCORG_PARSE_WORKERS`, else one per core."""
    return max(1, int(os.environ.get("SOCORG_PARSE_WORKERS") or os.cpu_count() or 1))


def _map(function, groups: list[list], files: int) -> list:
    """`function` over the groups, outcomes flattened in order: in worker processes when there are
    many files (a national night has 10,000 membership files of 2,000 rows), else in this process."""
    workers = min(parse_workers(), len(groups), files // FILES_PER_WORKER)
    if workers < 2:
        return [outcome for group in groups for outcome in function(group)]
    # spawn, not fork: the task process runs threads (Airflow's, DuckDB's) a fork would copy mid-step.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return [outcome for outcomes in pool.map(function, groups) for outcome in outcomes]


def _superseded(landed: LandedFile) -> FileLoad:
    """A load-log row for an earlier delivery that a newer one with other content replaced."""
    return FileLoad(
        landed.source,
        landed.export_date,
        landed.name,
        landed.sha256,
        landed.bytes,
        version=landed.version,
        status="superseded",
    )


def _swap(new: Path, final: Path) -> None:
    """Replace a partition folder by a complete new one (retries overwrite, never append)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = final.with_name(f".{final.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.replace(old)
    new.replace(final)
    shutil.rmtree(old, ignore_errors=True)
