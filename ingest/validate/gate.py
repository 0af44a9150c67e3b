"""The quality gate: batch checks, then the suites on the night's raw partitions in bounded chunks.

Failed `error` expectations and failed batch checks stop the run; failed `warning` ones are reported.
Every outcome is written to `runs/<date>/validation.json`, from which the `quality` dataset is built.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from ingest.common import progress
from ingest.common.errors import GateError
from ingest.common.paths import partition
from ingest.rules.layouts import SOURCES
from ingest.validate.batches import night_chunks, night_rows
from ingest.validate.checks import check_batches
from ingest.validate.context import build_docs, checkpoint_for, index_nights_setting, open_context
from ingest.validate.results import (
    ROW_ID,
    ROW_NAME,
    Finding,
    describe,
    findings_of,
    mark_audited,
    summed,
    write_outcome,
    write_quality,
)
from ingest.validate.suites import night_parameters


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
        write_outcome(out, {"batch_check": str(err), "data_docs": str(docs), "findings": []})
        raise
    index_nights_setting()  # a bad SOCORG_DATA_DOCS_NIGHTS stops the gate before it validates
    context = open_context(data)
    findings: list[Finding] = []
    results = []  # identifiers of tonight's validation results: the Data Docs pages to build
    for source in SOURCES:
        checkpoint = checkpoint_for(context, source)
        per_chunk = []
        columns = {e.column for e in checkpoint.validation_definitions[0].suite.expectations} - {None}
        frames = night_chunks(
            data, source, export_date, sorted(columns | {*ROW_ID, *ROW_NAME.get(source, ())})
        )
        rows, checked = night_rows(data, source, export_date), 0
        for chunk, frame in enumerate(frames):
            checked += len(frame)
            progress.step("validate", checked, rows, f"{source} rows")
            run_id = RunIdentifier(run_name=f"{export_date.isoformat()}-{source}-chunk{chunk + 1}")
            outcome = checkpoint.run(
                batch_parameters={"dataframe": frame},
                expectation_parameters=night_parameters(export_date),
                run_id=run_id,
            )
            results += list(outcome.run_results)
            per_chunk += findings_of(source, outcome)
        findings += summed(per_chunk)
    build_docs(context, results, data)  # tonight's pages and the index: earlier nights' pages are built
    errors = [f for f in findings if not f.success and f.severity == "error"]
    warnings = [f for f in findings if not f.success and f.severity != "error"]
    summary = {
        "expectations_evaluated": len(findings),
        "failed": len(errors),
        "warnings": len(warnings),
        "data_docs": str(docs),
    }
    write_outcome(
        out,
        {**summary, "findings": [f.as_row() for f in findings]},
    )
    write_quality(data, export_date, findings)
    if errors:
        raise GateError(
            "quality gate failed:\n  " + "\n  ".join(map(describe, errors)) + f"\nData Docs: {docs}"
        )
    mark_audited(audited, export_date)
    return {**summary, "warning_details": [describe(f) for f in warnings]}
