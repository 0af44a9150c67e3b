"""What the gate found: one finding per expectation and source, summed over chunks, described and written."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ingest.common.files import write_atomically
from ingest.common.paths import partition
from ingest.validate.suites import SEVERITY_NAMES

ROW_ID = ("source_file", "source_row")  # how a failing row is named: its file and row number


# What a failing row is about, beside where it is (never a personal column): a duplicate names its key.
ROW_NAME = {
    "registry": ("credit_code", "organization_code", "registration_number"),
    "membership": ("association_credit_code", "member_credit_code", "member_name_normalized"),
    "qualifications": ("credit_code",),
    "funding": ("provider_credit_code", "provider_name_normalized"),
    **dict.fromkeys(
        ("inspections", "annual_reports", "credit_lists"), ("credit_code", "org_name_normalized")
    ),
}


@dataclass
class Finding:
    """One expectation's outcome on one source's night, summed over its chunks."""

    source: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    unexpected_count: int
    element_count: int
    sample: list

    @property
    def unexpected_share(self) -> float:
        return self.unexpected_count / self.element_count if self.element_count else 0.0

    def as_row(self) -> dict:
        return {**asdict(self), "column_name": self.column, "unexpected_share": self.unexpected_share}


def mark_audited(folder: Path, export_date: dt.date) -> None:
    """`raw/audited/export_date=<date>/`: the night passed the gate, so history may use its snapshot."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    table = pa.table({"export_date": pa.array([export_date], pa.date32())})
    write_atomically(folder / "audited.parquet", lambda tmp: pq.write_table(table, tmp))


QUALITY_SCHEMA_FIELDS = [
    ("source", "string"), ("expectation", "string"), ("column_name", "string"), ("severity", "string"),
    ("success", "bool_"), ("unexpected_count", "int64"), ("element_count", "int64"),
    ("unexpected_share", "float64"), ("export_date", "date32"),
]  # fmt: skip


def write_quality(data: Path, export_date: dt.date, findings: list[Finding]) -> Path:
    """The night's outcomes as `raw/quality/export_date=<date>/quality.parquet` (for `quality`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, getattr(pa, kind)()) for name, kind in QUALITY_SCHEMA_FIELDS])
    rows = [{**f.as_row(), "export_date": export_date} for f in findings]
    folder = partition(data, "quality", export_date)
    table = pa.Table.from_pylist(rows, schema=schema)
    return write_atomically(folder / "quality.parquet", lambda tmp: pq.write_table(table, tmp))


def describe(f: Finding) -> str:
    return (
        f"{f.source}: {f.expectation}({f.column}) [{f.severity}] failed on {f.unexpected_count} of "
        f"{f.element_count} rows, e.g. " + "; ".join(f.sample[:3])
    )


def write_outcome(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


def findings_of(source: str, checkpoint_result) -> list[Finding]:
    findings = []
    for run_result in checkpoint_result.run_results.values():
        for r in run_result.results:
            config = r.expectation_config
            res = r.result or {}
            column = config.kwargs.get("column")
            findings.append(
                Finding(
                    source=source,
                    expectation=config.type,
                    column=column or None,
                    severity=SEVERITY_NAMES.get(
                        str(getattr(config.severity, "value", config.severity)), "error"
                    ),
                    success=bool(r.success),
                    unexpected_count=int(res.get("unexpected_count") or 0),
                    element_count=int(res.get("element_count") or 0),
                    sample=_examples(res),
                )
            )
    return findings


def _examples(result: dict) -> list[str]:
    """Up to five failing rows as `file row N (key): column value`, else the failing values as GX
    lists them; values as a person writes them (2, not np.int64(2))."""
    located = result.get("partial_unexpected_index_list") or []
    if not located:
        return [_shown(v) for v in result.get("partial_unexpected_list") or []]
    examples = []
    names = {n for row_name in ROW_NAME.values() for n in row_name}
    for entry in located[:5]:
        shown = {k: _shown(v) for k, v in entry.items() if k not in ROW_ID and not _missing(v)}
        values = ", ".join(f"{k} = {v}" for k, v in shown.items() if k not in names)
        about = ", ".join(f"{k} {v}" for k, v in shown.items() if k in names)
        if not values:
            values, about = ", ".join(f"{k} = {v}" for k, v in shown.items()), ""
        where = f"{entry.get('source_file')} row {_shown(entry.get('source_row'))}"
        examples.append(f"{where}: {values}{f' ({about})' if about else ''}")
    return examples


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _shown(value) -> str:
    """A value of a GX result in a message: numpy scalars as plain numbers, text quoted."""
    value = value.item() if hasattr(value, "item") else value
    return repr(value) if isinstance(value, str) else str(value)


def summed(findings: list[Finding]) -> list[Finding]:
    """One finding per expectation over all chunks of a source, in suite order."""
    merged: dict[tuple, Finding] = {}
    for f in findings:
        key = (f.expectation, f.column)
        if key not in merged:
            merged[key] = Finding(**{**asdict(f), "sample": list(f.sample)})
            continue
        m = merged[key]
        m.success = m.success and f.success
        m.unexpected_count += f.unexpected_count
        m.element_count += f.element_count
        m.sample = (m.sample + f.sample)[:5]
    return list(merged.values())
