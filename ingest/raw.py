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

from ingest.errors import ExportError
from ingest.land import LandedFile, read_manifest
from ingest.layouts import SOURCES, layout_for, load_layout
from ingest.parse import QUARANTINE_SCHEMA, FileLoad, empty_raw_file, parse_file

FILES_PER_WORKER = 16  # below this many files per worker, starting the workers costs more than it saves
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


def partition(data: Path, source: str, export_date: dt.date, quarantine: bool = False) -> Path:
    """`raw/<source>/export_date=<date>` or its quarantine twin."""
    base = data / "raw" / source
    if quarantine:
        base = base / "quarantine"
    return base / f"export_date={export_date.isoformat()}"


def parse_night(data: Path, export_date: dt.date) -> list[FileLoad]:
    """Parse every landed file of the night; all partitions appear together or not at all."""
    landed = read_manifest(data, export_date)
    for orphan in (data / "raw").glob(".staging-*"):  # left by a killed run; one parse runs at a time
        shutil.rmtree(orphan, ignore_errors=True)
    staging = data / "raw" / f".staging-{uuid.uuid4().hex[:8]}"
    loads: list[FileLoad] = []
    errors: list[str] = []
    try:
        for source in SOURCES:
            canonical = load_layout(source)
            out, quarantine = staging / source / "loaded", staging / source / "quarantine"
            files = [f for f in landed if f.source == source]
            for outcome in _map(_parse_landed, [(f, export_date, out, quarantine) for f in files]):
                if isinstance(outcome, FileLoad):
                    loads.append(outcome)
                else:
                    errors.append(outcome)
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


def _parse_landed(job: tuple[LandedFile, dt.date, Path, Path]) -> FileLoad | str:
    """One landed file parsed into the staging folders: its load, or the error that refused it."""
    landed_file, export_date, out, quarantine = job
    if landed_file.superseded:
        return _superseded(landed_file)
    try:
        layout = layout_for(landed_file.source, landed_file.name)
        if layout is None:
            raise ExportError(landed_file.name, f"matches no {landed_file.source} layout's file name pattern")
        path = Path(landed_file.path)
        load = parse_file(path, landed_file.name, layout, export_date, out, quarantine, landed_file.sha256)
    except ExportError as err:
        return str(err)
    load.version = landed_file.version
    return load


def parse_workers() -> int:
    """Processes that parse a night's files side by side: `SOCORG_PARSE_WORKERS`, else one per core."""
    return max(1, int(os.environ.get("SOCORG_PARSE_WORKERS") or os.cpu_count() or 1))


def _map(function, jobs: list):
    """`function` over the jobs in order: in worker processes when there are many files (a national
    night has 10,000 membership files of 2,000 rows, each a DuckDB query), else in this process."""
    workers = min(parse_workers(), len(jobs) // FILES_PER_WORKER)
    if workers < 2:
        return map(function, jobs)
    # spawn, not fork: the task process runs threads (Airflow's, DuckDB's) a fork would copy mid-step.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(function, jobs, chunksize=8))


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
