"""Run the suites on the night's raw partitions through the file context; stop the run on failure."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import GateError
from ingest.layouts import SOURCES, load_layout
from ingest.paths import EXPECTATIONS_DIR
from ingest.raw import partition
from ingest.validate.suites import SUITES

CHUNK_ROWS = 250_000
DATASOURCE = "socorg_raw"


@dataclass
class Finding:
    """One expectation's outcome on one chunk of one source."""

    source: str
    chunk: int
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int
    element_count: int
    sample: list


def _context(data: Path):
    import great_expectations as gx

    os.environ["SOCORG_DATA"] = str(data)
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    return gx.get_context(mode="file", project_root_dir=str(EXPECTATIONS_DIR))


def _checkpoint(context, source: str, export_date: dt.date):
    """The source's suite, batch definition, validation definition and checkpoint, kept current."""
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    suite_name = SUITES[source].__name__
    suite = gx.ExpectationSuite(name=suite_name, expectations=SUITES[source](export_date))
    suite = context.suites.add_or_update(suite)
    datasource = context.data_sources.add_or_update_pandas(name=DATASOURCE)
    asset = next((a for a in datasource.assets if a.name == source), None)
    asset = asset or datasource.add_dataframe_asset(name=source)
    batch = next((b for b in asset.batch_definitions if b.name == "night"), None)
    batch = batch or asset.add_batch_definition_whole_dataframe("night")
    validation = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=f"{suite_name}__night", data=batch, suite=suite)
    )
    return context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=f"{suite_name}__checkpoint",
            validation_definitions=[validation],
            actions=[UpdateDataDocsAction(name="update_data_docs")],
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
        )
    )


def validate_night(data: Path, export_date: dt.date) -> dict:
    """Validate every source of the night; raise GateError naming what failed, else return a summary."""
    import pyarrow.dataset as ds
    from great_expectations.core.run_identifier import RunIdentifier

    check_batches(data, export_date)
    context = _context(data)
    findings: list[Finding] = []
    for source in SOURCES:
        checkpoint = _checkpoint(context, source, export_date)
        dataset = ds.dataset(partition(data, source, export_date), format="parquet")
        for chunk, frame in enumerate(_chunks(dataset)):
            run_id = RunIdentifier(run_name=f"{export_date.isoformat()}-{source}-chunk{chunk + 1}")
            result = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=run_id)
            findings += _findings(source, chunk, result)
    docs = data / "docs" / "gx" / "index.html"
    failed = [f for f in findings if not f.success]
    summary = {
        "expectations_evaluated": len(findings),
        "failed": len(failed),
        "data_docs": str(docs),
    }
    out = data / "runs" / export_date.isoformat() / "validation.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {**summary, "findings": [f.__dict__ for f in findings]},
            ensure_ascii=False,
            indent=1,
            default=str,
        ),
        encoding="utf-8",
    )
    if failed:
        lines = [
            f"{f.source}: {f.expectation}({f.column}) failed on {f.unexpected_count} of "
            f"{f.element_count} rows, e.g. {f.sample[:3]}"
            for f in failed
        ]
        raise GateError("quality gate failed:\n  " + "\n  ".join(lines) + f"\nData Docs: {docs}")
    return summary


def _chunks(dataset):
    """DataFrames of at most about CHUNK_ROWS rows, across file boundaries: memory stays bounded."""
    import pyarrow as pa

    pending, rows = [], 0
    for batch in dataset.to_batches(batch_size=CHUNK_ROWS):
        if batch.num_rows:
            pending.append(batch)
            rows += batch.num_rows
        if rows >= CHUNK_ROWS:
            yield pa.Table.from_batches(pending).to_pandas()
            pending, rows = [], 0
    if pending:
        yield pa.Table.from_batches(pending).to_pandas()


def _findings(source: str, chunk: int, checkpoint_result) -> list[Finding]:
    findings = []
    for run_result in checkpoint_result.run_results.values():
        for r in run_result.results:
            config = r.expectation_config
            res = r.result or {}
            findings.append(
                Finding(
                    source=source,
                    chunk=chunk,
                    expectation=config.type,
                    column=config.kwargs.get("column"),
                    success=bool(r.success),
                    unexpected_count=int(res.get("unexpected_count") or 0),
                    element_count=int(res.get("element_count") or 0),
                    sample=list(res.get("partial_unexpected_list") or []),
                )
            )
    return findings


def check_batches(data: Path, export_date: dt.date) -> None:
    """An empty registry, or too many bad rows in a source, stops the run like a bad file."""
    import pyarrow.parquet as pq

    log = pq.read_table(partition(data, "load_log", export_date)).to_pylist()
    for source in SOURCES:
        rows = [r for r in log if r["source"] == source]
        read = sum(r["rows_read"] for r in rows)
        bad = sum(r["rows_quarantined"] for r in rows)
        if source == "registry" and read == 0:
            files = ", ".join(r["file_name"] for r in rows) or "no file"
            raise GateError(f"registry: the night's registry export ({files}) holds no rows")
        limit = load_layout(source).quarantine_threshold
        if read and bad / read > limit:
            raise GateError(
                f"{source}: {bad} of {read} rows quarantined ({bad / read:.1%}); the threshold is {limit:.0%}"
            )
