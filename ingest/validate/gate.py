"""The quality gate: batch checks, then the suites on the night's raw partitions through the file context.

Failed `error` expectations and failed batch checks stop the run; failed `warning` ones are reported.
Every outcome is written to `runs/<date>/validation.json`, from which the `quality` dataset is built.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from ingest.common.errors import GateError
from ingest.common.paths import EXPECTATIONS_DIR
from ingest.parse.night import partition, partition_dates
from ingest.rules.layouts import SOURCES, load_layout
from ingest.validate.batches import night_chunks, night_files
from ingest.validate.suites import SEVERITY_NAMES, SUITES, night_parameters

DATASOURCE = "socorg_raw"
ROW_ID = ("source_file", "source_row")  # how a failing row is named: its file and row number
# What a failing row is about, beside where it is (never a personal column): a duplicate names its key.
ROW_NAME = {
    "registry": ("credit_code",),
    "membership": ("association_credit_code", "member_credit_code", "member_name_normalized"),
    "qualifications": ("credit_code",),
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


def _context(data: Path):
    import great_expectations as gx

    os.environ["SOCORG_DATA"] = str(data)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    return gx.get_context(mode="file", project_root_dir=str(EXPECTATIONS_DIR))


def _checkpoint(context, source: str):
    """The source's suite, batch definition, validation definition and checkpoint, kept current.

    Stored objects are rewritten only when they changed, so a run leaves `expectations/` as it was.
    """
    import great_expectations as gx

    suite_name = SUITES[source].__name__
    suite = _stored(context.suites, gx.ExpectationSuite(name=suite_name, expectations=SUITES[source]()))
    datasource = next((d for d in context.data_sources.all().values() if d.name == DATASOURCE), None)
    datasource = datasource or context.data_sources.add_pandas(name=DATASOURCE)
    asset = next((a for a in datasource.assets if a.name == source), None)
    asset = asset or datasource.add_dataframe_asset(name=source)
    batch = next((b for b in asset.batch_definitions if b.name == "night"), None)
    batch = batch or asset.add_batch_definition_whole_dataframe("night")
    validation = _stored(
        context.validation_definitions,
        gx.ValidationDefinition(name=f"{suite_name}__night", data=batch, suite=suite),
    )
    return _stored(
        context.checkpoints,
        gx.Checkpoint(
            name=f"{suite_name}__checkpoint",
            validation_definitions=[validation],
            actions=[],  # Data Docs are built once per night, after every chunk of every source
            result_format={
                "result_format": "SUMMARY",
                "partial_unexpected_count": 5,
                "unexpected_index_column_names": [*ROW_ID, *ROW_NAME.get(source, ())],
            },
        ),
    )


def _without_ids(value):
    """A GX object's JSON form without the ids GX assigns when it stores one."""
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def _stored(store, wanted):
    """The stored suite, validation definition or checkpoint of that name if unchanged, else `wanted`
    stored (GX's ids aside)."""
    try:
        stored = store.get(wanted.name)
    except Exception:  # GX raises its own not-found error, by version
        return store.add(wanted)
    if _without_ids(_json_form(stored)) == _without_ids(_json_form(wanted)):
        return stored
    return store.add_or_update(wanted)


def _json_form(obj) -> dict:
    return obj.to_json_dict() if hasattr(obj, "to_json_dict") else json.loads(obj.json())


def validate_night(data: Path, export_date: dt.date) -> dict:
    """Check and validate every source of the night; raise GateError naming what failed, else summarize."""
    from great_expectations.core.run_identifier import RunIdentifier

    out = data / "runs" / export_date.isoformat() / "validation.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    docs = data / "docs" / "gx" / "index.html"
    audited = partition(data, "audited", export_date)
    shutil.rmtree(audited, ignore_errors=True)  # a night that passed before must pass again
    try:
        check_batches(data, export_date)
    except GateError as err:
        _write(out, {"batch_check": str(err), "data_docs": str(docs), "findings": []})
        raise
    context = _context(data)
    findings: list[Finding] = []
    results = []  # identifiers of tonight's validation results: the Data Docs pages to build
    for source in SOURCES:
        checkpoint = _checkpoint(context, source)
        per_chunk = []
        columns = {e.column for e in checkpoint.validation_definitions[0].suite.expectations} - {None}
        frames = night_chunks(
            data, source, export_date, sorted(columns | {*ROW_ID, *ROW_NAME.get(source, ())})
        )
        for chunk, frame in enumerate(frames):
            run_id = RunIdentifier(run_name=f"{export_date.isoformat()}-{source}-chunk{chunk + 1}")
            outcome = checkpoint.run(
                batch_parameters={"dataframe": frame},
                expectation_parameters=night_parameters(export_date),
                run_id=run_id,
            )
            results += list(outcome.run_results)
            per_chunk += _findings(source, outcome)
        findings += _summed(per_chunk)
    # Tonight's pages and the index only: earlier nights' pages are already built.
    context.build_data_docs(resource_identifiers=results)
    errors = [f for f in findings if not f.success and f.severity == "error"]
    warnings = [f for f in findings if not f.success and f.severity != "error"]
    summary = {
        "expectations_evaluated": len(findings),
        "failed": len(errors),
        "warnings": len(warnings),
        "data_docs": str(docs),
    }
    _write(
        out,
        {**summary, "findings": [f.as_row() for f in findings]},
    )
    write_quality(data, export_date, findings)
    if errors:
        raise GateError(
            "quality gate failed:\n  " + "\n  ".join(map(_describe, errors)) + f"\nData Docs: {docs}"
        )
    _mark_audited(audited, export_date)
    return {**summary, "warning_details": [_describe(f) for f in warnings]}


def _mark_audited(folder: Path, export_date: dt.date) -> None:
    """`raw/audited/export_date=<date>/`: the night passed the gate, so history may use its snapshot."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    table = pa.table({"export_date": pa.array([export_date], pa.date32())})
    pq.write_table(table, folder / "audited.parquet.tmp")
    (folder / "audited.parquet.tmp").replace(folder / "audited.parquet")


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
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "quality.parquet"
    tmp = target.with_name(target.name + ".tmp")
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp)
    tmp.replace(target)
    return target


def _describe(f: Finding) -> str:
    return (
        f"{f.source}: {f.expectation}({f.column}) [{f.severity}] failed on {f.unexpected_count} of "
        f"{f.element_count} rows, e.g. " + "; ".join(f.sample[:3])
    )


def _write(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


def _findings(source: str, checkpoint_result) -> list[Finding]:
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


def _summed(findings: list[Finding]) -> list[Finding]:
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


def check_batches(data: Path, export_date: dt.date) -> None:
    """Whole-batch checks: an empty registry, too many quarantined rows, a registry that shrank."""
    import pyarrow.parquet as pq

    log = pq.read_table(partition(data, "load_log", export_date)).to_pylist()
    registry = [r for r in log if r["source"] == "registry"]
    if sum(r["rows_read"] for r in registry) == 0:
        files = ", ".join(r["file_name"] for r in registry) or "no file"
        raise GateError(f"registry: the night's registry export ({files}) holds no rows")
    for source in SOURCES:
        layout = load_layout(source)
        files = [r for r in log if r["source"] == source]
        night = {
            "file_name": "the night",
            "rows_read": sum(r["rows_read"] for r in files),
            "rows_quarantined": sum(r["rows_quarantined"] for r in files),
        }
        # A flooded file is named before the night it floods.
        for r in [*(r for r in files if r["rows_read"] >= layout.quarantine_min_rows), night]:
            read, bad = r["rows_read"], r["rows_quarantined"]
            if read and bad / read > layout.quarantine_threshold:
                raise GateError(
                    f"{source}: {r['file_name']}: {bad} of {read} rows quarantined ({bad / read:.1%}); "
                    f"expected at most {layout.quarantine_threshold:.0%}"
                )
    _check_shrink(data, export_date)


def last_good_snapshot(data: Path) -> dt.date | None:
    """The snapshot date of the last published release (latest.json), if any."""
    from ingest.publish.release import latest_snapshot

    latest = latest_snapshot(data / "publish")
    return dt.date.fromisoformat(latest) if latest else None


def expected_organizations() -> dict[str, int]:
    """Each city's expected registry size for a first night: `SOCORG_EXPECTED_ORGANIZATIONS`, written
    `320500=7700,440300=12000`."""
    setting = os.environ.get("SOCORG_EXPECTED_ORGANIZATIONS", "")
    expected = {}
    for item in filter(None, (x.strip() for x in setting.split(","))):
        city, _, count = item.partition("=")
        if not count.strip().isdigit():
            raise GateError(f"SOCORG_EXPECTED_ORGANIZATIONS: expected city=count items, got {item!r}")
        expected[city.strip()] = int(count)
    return expected


def _registry_counts(data: Path, export_date: dt.date) -> dict[str, int]:
    import duckdb

    if not partition(data, "registry", export_date).exists():
        return {}
    rows = duckdb.sql(
        f"select city_code, count(*) from {night_files(data, 'registry', export_date)} group by 1"
    ).fetchall()
    return {city or "unknown": n for city, n in rows}


def _check_shrink(data: Path, export_date: dt.date) -> None:
    """Each city's registry may not fall far below what came before: more than the layout's max_shrink
    below the last good snapshot or, before the first release, below the last night parsed; on a first
    night, below half its expected size (a half-delivered export)."""
    share = load_layout("registry").max_shrink
    if share is None:
        return
    last, what = last_good_snapshot(data), "the last good snapshot"
    if last is None or last >= export_date:
        earlier = [d for d in partition_dates(data, "registry") if d < export_date]
        last, what = (earlier[-1] if earlier else None), "the last night parsed"
    tonight_counts = _registry_counts(data, export_date)
    if last is None:
        for city, count in sorted(expected_organizations().items()):
            tonight = tonight_counts.get(city, 0)
            if tonight < count * EXPECTED_FLOOR:
                raise GateError(
                    f"registry: city {city} has {tonight} organizations tonight, less than "
                    f"{EXPECTED_FLOOR:.0%} of the {count} expected (SOCORG_EXPECTED_ORGANIZATIONS) — "
                    "a half-delivered export?"
                )
        return
    for city, count in sorted(_registry_counts(data, last).items()):
        tonight = tonight_counts.get(city, 0)
        if count and tonight < count * (1 - share):
            raise GateError(
                f"registry: city {city} has {tonight} organizations tonight but had {count} in {what} "
                f"({last.isoformat()}); expected a fall of at most {share:.0%}, came "
                f"{(count - tonight) / count:.1%} — a truncated export?"
            )


EXPECTED_FLOOR = 0.5  # a first night's registry below this share of the expected size is refused
