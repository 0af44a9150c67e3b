"""Parse a night's landed files into raw/ partitions that are swapped in whole, plus the load log."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.errors import ExportError
from ingest.land import LandedFile, read_manifest
from ingest.layouts import SOURCES, layout_for, load_layout
from ingest.parse import QUARANTINE_SCHEMA, FileLoad, empty_raw_file, parse_file

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
            for landed_file in files:
                if landed_file.superseded:
                    loads.append(_superseded(landed_file))
                    continue
                try:
                    layout = layout_for(source, landed_file.name)
                    if layout is None:
                        raise ExportError(landed_file.name, f"matches no {source} layout's file name pattern")
                    load = parse_file(
                        Path(landed_file.path),
                        landed_file.name,
                        layout,
                        export_date,
                        out,
                        quarantine,
                        landed_file.sha256,
                    )
                    load.version = landed_file.version
                    loads.append(load)
                except ExportError as err:
                    errors.append(str(err))
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
