"""Parse landed exports into typed Parquet in raw/, quarantining bad rows with a reason code."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.common.errors import ExportError
from ingest.parse import fast as fastparse
from ingest.parse.fast.sql import typed_columns
from ingest.parse.readers import open_export
from ingest.parse.rows import Rejected, file_defaults, type_record
from ingest.rules.creditcode import verify
from ingest.rules.formats import DELIMITER_NAMES
from ingest.rules.layouts import Layout, load_layout
from ingest.rules.personal import quarantine_json
from ingest.rules.typing_rules import (
    INDIVIDUAL_COLUMNS,
    INDIVIDUAL_KIND,
    NAMED_BY_COLUMN,
    NORMALIZED_SUFFIX,
    unique_key_parts,
)

BATCH_ROWS = 50_000

LINEAGE = [
    pa.field("export_date", pa.date32()),
    pa.field("source_file", pa.string()),
    pa.field("source_row", pa.int64()),
]
QUARANTINE_SCHEMA = pa.schema(
    [
        *LINEAGE,
        pa.field("reason", pa.string()),
        pa.field("column_name", pa.string()),
        pa.field("value", pa.string()),
        pa.field("row_json", pa.string()),
    ]
)


def raw_schema(layout: Layout) -> pa.Schema:
    """The typed Parquet schema of a source in raw/: canonical columns, no personal data."""
    fields = [pa.field(name, kind) for name, kind in typed_columns(layout)]
    file_fields = [pa.field(k, pa.string()) for k in layout.file_pattern.groupindex if k != "file_date"]
    return pa.schema([*file_fields, *fields, *LINEAGE])


@dataclass
class FileLoad:
    """Accounting of one file: every row read is loaded or quarantined."""

    source: str
    export_date: str
    file_name: str
    sha256: str
    bytes: int
    version: int = 1
    status: str = "loaded"
    encoding: str = ""
    delimiter: str | None = None  # a text export's, by name (comma, tab, semicolon, pipe)
    header_row: int = 0
    title_rows: int = 0
    footer_rows: int = 0
    footer_total: int | None = None
    unknown_headers: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    cell_notes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    typed_by: str = field(default="", compare=False)  # "duckdb" or "python": which path typed the rows

    def as_row(self) -> dict:
        """The load log's row (which path typed the file is not part of it: both give the same rows)."""
        row = asdict(self)
        del row["typed_by"]
        row["unknown_headers"] = json.dumps(self.unknown_headers, ensure_ascii=False)
        row["quarantine_reasons"] = json.dumps(self.quarantine_reasons, ensure_ascii=False)
        row["cell_notes"] = json.dumps(self.cell_notes, ensure_ascii=False)
        return row


def _row_keys(layout: Layout, record: dict[str, object]) -> list[tuple[str, object]]:
    """The keys that must be unique within one file, per the layout's `unique_key` (see UNIQUE_KEYS),
    each with the column a repeat is named by: one key, or for a key of alternatives named by column
    (an organization's credit code, organization code, registration number) each one the row has."""
    if not layout.unique_key:
        return []
    parts = unique_key_parts(layout.unique_key)
    if layout.unique_key in NAMED_BY_COLUMN:  # the first present part, named by its column
        named = next(((c, v) for c in parts["either"] if (v := record.get(c))), None)
        return [(named[0], named)] if named else []
    either = next((v for c in parts["either"] if (v := record.get(c))), None)
    values = [either, *(record.get(c) for c in parts["and_also"])]
    if not all(values):
        return []
    return [(layout.unique_key, "|".join(map(str, values)) if len(values) > 1 else either)]


def _conflicting_keys(layout: Layout, rows: list[tuple]) -> set:
    """The keys held by rows that disagree on the layout's conflict_column (an organization listed twice
    in one year with two conclusions): every row of such a key is quarantined, none chosen."""
    if not layout.conflict_column:
        return set()
    values: dict[object, set] = {}
    for record in (r for _, _, r in rows if not isinstance(r, Rejected)):
        for _, key in _row_keys(layout, record):
            values.setdefault(key, set()).add(record.get(layout.conflict_column))
    return {key for key, found in values.items() if len(found) > 1}


def _drop_personal_names(layout: Layout, record: dict) -> None:
    """Individual members' names are personal data: they do not reach raw/."""
    if layout.source == "membership" and record.get("member_kind") == INDIVIDUAL_KIND:
        for name in INDIVIDUAL_COLUMNS:
            record[name] = None
            if f"{name}{NORMALIZED_SUFFIX}" in record:
                record[f"{name}{NORMALIZED_SUFFIX}"] = None


class _BatchWriter:
    """Write Arrow batches to `<final>.tmp`, renamed into place only when closed cleanly."""

    def __init__(self, final: Path, schema: pa.Schema):
        self.final, self.schema = final, schema
        self.tmp = final.with_name(final.name + ".tmp")
        final.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(self.tmp, schema, compression="zstd")
        self.rows: list[dict] = []

    def add(self, row: dict) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
            self.rows = []

    def commit(self) -> None:
        self.flush()
        self.writer.close()
        self.tmp.replace(self.final)

    def abort(self) -> None:
        self.writer.close()
        self.tmp.unlink(missing_ok=True)


@dataclass
class _Job:
    """One landed file, opened and ready to parse: where its rows go and what its load log says."""

    path: Path
    layout: Layout
    export_date: dt.date
    export: object
    load: FileLoad
    outputs: dict[str, Path]
    file_fields: dict
    lineage: dict
    schema: pa.Schema
    defaults: dict = field(default_factory=dict)  # what the file gives its rows' empty cells

    def fast_file(self) -> fastparse.FastFile:
        tmp = {kind: p.with_name(p.name + ".tmp") for kind, p in self.outputs.items()}
        for p in tmp.values():
            p.parent.mkdir(parents=True, exist_ok=True)
        return fastparse.FastFile(self.path, self.export.encoding, tmp, self.file_fields, self.lineage)


class ParseJob(NamedTuple):
    """One landed file to parse: where it is, its name as exported, and where its rows go."""

    path: Path
    name: str
    layout: Layout
    export_date: dt.date
    raw_dir: Path
    quarantine_dir: Path
    sha256: str


def _open_job(job: ParseJob) -> _Job:
    """Check a file's name, open it and find its header; raises ExportError for a file refused whole."""
    path, name, layout, export_date, raw_dir, quarantine_dir, sha256 = job
    match = layout.file_pattern.match(name)
    if not match:
        raise ExportError(name, f"does not match the {layout.source} file name pattern")
    file_fields = {k: v for k, v in match.groupdict().items() if k != "file_date"}
    named = dict(file_fields)
    if "association_credit_code" in file_fields:
        verdict = verify(file_fields["association_credit_code"])
        if not verdict.ok:
            raise ExportError(
                name, f"names association {verdict.code}, which is not a valid credit code ({verdict.reason})"
            )
        file_fields["association_credit_code"] = verdict.code
    load = FileLoad(layout.source, export_date.isoformat(), name, sha256, path.stat().st_size)
    export = open_export(path, layout, name)
    load.encoding, load.header_row = export.encoding, export.header_row
    load.delimiter = DELIMITER_NAMES.get(export.delimiter)
    load.title_rows, load.unknown_headers = export.title_rows, export.unknown_headers
    stem = name.rsplit(".", 1)[0]
    schema = raw_schema(load_layout(layout.source))
    file_fields = {k: v for k, v in file_fields.items() if k in schema.names}
    outputs = {"loaded": raw_dir / f"{stem}.parquet", "rejected": quarantine_dir / f"{stem}.parquet"}
    lineage = {"export_date": export_date, "source_file": name}
    defaults = file_defaults(layout, named, export.titles)
    return _Job(path, layout, export_date, export, load, outputs, file_fields, lineage, schema, defaults)


def parse_file(
    path: Path,
    name: str,
    layout: Layout,
    export_date: dt.date,
    raw_dir: Path,
    quarantine_dir: Path,
    sha256: str,
    fast: bool = True,
) -> FileLoad:
    """Parse one landed file (exported as `name`) into raw_dir and quarantine_dir Parquet files.

    CSV files go through DuckDB (ingest.parse.fast) unless `fast` is false; rows and files it
    declines are parsed here, with identical results.
    """
    started = time.perf_counter()
    job = _open_job(ParseJob(path, name, layout, export_date, raw_dir, quarantine_dir, sha256))
    _parse_one(job, fast)
    job.load.seconds = round(time.perf_counter() - started, 3)
    return job.load


def parse_files(jobs: list[ParseJob]) -> list[FileLoad | ExportError]:
    """Parse landed files: each file's load, or the error that refused it.

    CSV files of one shape go through DuckDB together (the caller bounds how many bytes one call
    holds), which gives the same files as parse_file one by one; a batched file's seconds are the
    batch's shared out by size.
    """
    outcomes: list[FileLoad | ExportError | _Job] = []
    for job in jobs:
        try:
            outcomes.append(_open_job(ParseJob(*job)))
        except ExportError as err:
            outcomes.append(err)
    batches: dict[tuple, list[int]] = {}
    for i, job in enumerate(outcomes):
        if isinstance(job, _Job) and _fast_eligible(job):
            batches.setdefault(fastparse.shape(job.layout, job.export), []).append(i)
    done: set[int] = set()
    alone: set[int] = set()  # declined by a batch of one: no use trying DuckDB again
    for batch in batches.values():
        if len(batch) == 1:
            alone.update(batch)
        started = time.perf_counter()
        taken = _parse_fast([outcomes[i] for i in batch])
        seconds = time.perf_counter() - started
        size = sum(outcomes[i].load.bytes for i in batch) or 1
        for i, ok in zip(batch, taken, strict=True):
            if ok is True:
                outcomes[i].load.seconds = round(seconds * outcomes[i].load.bytes / size, 3)
                done.add(i)
            elif isinstance(ok, ExportError):
                outcomes[i] = ok
                done.add(i)
    for i, job in enumerate(outcomes):
        if isinstance(job, _Job) and i not in done:
            started = time.perf_counter()
            try:
                _parse_one(job, fast=i not in alone)
            except ExportError as err:
                outcomes[i] = err
                continue
            job.load.seconds = round(time.perf_counter() - started, 3)
    return [o.load if isinstance(o, _Job) else o for o in outcomes]


def _parse_one(job: _Job, fast: bool) -> None:
    """Parse one file: with ingest.parse.fast when `fast` and it is eligible, else (or when declined)
    row by row; raises ExportError when the file is refused."""
    taken = fast and _fast_eligible(job) and _parse_fast([job])[0]
    if isinstance(taken, ExportError):
        raise taken
    if not taken:
        _parse_python(job)


def _fast_eligible(job: _Job) -> bool:
    return fastparse.eligible(job.layout, job.path, job.export.encoding)


def _parse_fast(jobs: list[_Job]) -> list[bool | ExportError]:
    """Parse files of one shape with ingest.parse.fast: per file True, False when it was declined
    (nothing written), or the ExportError its footer total raised (nothing written)."""
    files = [job.fast_file() for job in jobs]
    try:
        results = fastparse.parse_csvs(
            files, jobs[0].layout, jobs[0].export, jobs[0].export_date, jobs[0].schema
        )
    except BaseException:
        for file in files:
            for p in file.outputs.values():
                p.unlink(missing_ok=True)
        raise
    taken: list[bool | ExportError] = []
    for job, file, result in zip(jobs, files, results, strict=True):
        try:
            if isinstance(result, fastparse.Declined):
                raise result
            _reconcile(job.load.file_name, result.footer_total, result.rows_read)
        except (fastparse.Declined, ExportError) as exc:
            for p in file.outputs.values():
                p.unlink(missing_ok=True)
            taken.append(exc if isinstance(exc, ExportError) else False)
            continue
        for kind, p in file.outputs.items():
            p.replace(job.outputs[kind])
        load = job.load
        load.rows_read, load.rows_loaded = result.rows_read, result.rows_loaded
        load.footer_rows, load.footer_total = result.footer_rows, result.footer_total
        load.rows_quarantined = sum(result.reasons.values())
        load.quarantine_reasons = dict(sorted(result.reasons.items()))
        load.typed_by = "duckdb"
        taken.append(True)
    return taken


def _parse_python(job: _Job) -> None:
    """Parse a file row by row with ingest.parse.rows into its outputs, filling in its load."""
    layout, load, lineage = job.layout, job.load, job.lineage
    load.typed_by = "python"
    loaded = _BatchWriter(job.outputs["loaded"], job.schema)
    rejected = _BatchWriter(job.outputs["rejected"], QUARANTINE_SCHEMA)
    reasons: Counter[str] = Counter()
    notes: Counter[str] = Counter()
    seen: set[object] = set()
    export = job.export

    def settle(rows: list[tuple[int, dict, dict | Rejected]]) -> None:
        """Write typed rows: loaded, or quarantined with their reason (a repeated key, a conflict)."""
        conflicts = _conflicting_keys(layout, rows)
        for number, cells, outcome in rows:
            try:
                if isinstance(outcome, Rejected):
                    raise outcome
                keys = _row_keys(layout, outcome)
                conflict = next((key for _, key in keys if key in conflicts), None)
                if conflict is not None:
                    column = layout.conflict_column
                    raise Rejected(
                        f"conflicting_{column}", column, outcome.get(f"{column}_label") or outcome[column]
                    )
                repeated = next(((column, key) for column, key in keys if key in seen), None)
                seen.update(key for _, key in keys)
                if repeated:
                    column, key = repeated
                    value = key[1] if isinstance(key, tuple) else key
                    raise Rejected(f"duplicate_{column}", column, value)
            except Rejected as bad:
                reasons[bad.reason] += 1
                rejected.add(
                    {
                        **lineage,
                        "source_row": number,
                        **bad.fields(),
                        "row_json": quarantine_json(layout, cells),
                    }
                )
                continue
            loaded.add({**job.file_fields, **outcome, **lineage, "source_row": number})
            load.rows_loaded += 1

    held: list[tuple[int, dict, dict | Rejected]] = []  # a layout with a conflict_column: the whole file
    try:
        for number, cells, problem in export.records():
            load.rows_read += 1
            try:
                if problem:
                    raise Rejected(problem, None, None)
                outcome = type_record(layout, cells, job.export_date, notes, job.defaults)
                _drop_personal_names(layout, outcome)
            except Rejected as bad:
                outcome = bad
            held.append((number, cells, outcome))
            if not layout.conflict_column:
                settle(held)
                held.clear()
        settle(held)
        _reconcile(load.file_name, export.footer_total, load.rows_read)
    except BaseException:
        loaded.abort()
        rejected.abort()
        raise
    loaded.commit()
    rejected.commit()
    load.footer_rows, load.footer_total = export.footer_rows, export.footer_total
    load.rows_quarantined = sum(reasons.values())
    load.quarantine_reasons = dict(sorted(reasons.items()))
    load.cell_notes = dict(sorted(notes.items()))


def _reconcile(file_name: str, footer: int | None, rows_read: int) -> None:
    if footer is not None and footer != rows_read:
        raise ExportError(
            file_name,
            f"footer control total says {footer} rows but the file holds {rows_read} data rows",
        )


def empty_raw_file(layout: Layout, path: Path) -> None:
    """Write an empty, typed Parquet file so that a night without files still has its partition."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(raw_schema(layout).empty_table(), path, compression="zstd")
