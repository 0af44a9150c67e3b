"""The Great Expectations gate: quiet on clean batches, and a failure names source, expectation, rows."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.errors import GateError
from ingest.layouts import SOURCES, load_layout
from ingest.parse import FileLoad, raw_schema
from ingest.raw import LOAD_LOG_SCHEMA, partition
from ingest.validate.gate import validate_night

DATE = dt.date(2023, 10, 31)
CODE = "51100000500002862F"


def night(data, registry_rows, read=None, quarantined=0):
    for source in SOURCES:
        rows = registry_rows if source == "registry" else []
        folder = partition(data, source, DATE)
        folder.mkdir(parents=True)
        table = pa.Table.from_pylist(rows, schema=raw_schema(load_layout(source)))
        pq.write_table(table, folder / "part.parquet")
    log = FileLoad("registry", DATE.isoformat(), "registry_320500_20231031.csv", "x", 1)
    log.rows_read = read if read is not None else len(registry_rows)
    log.rows_loaded, log.rows_quarantined = len(registry_rows), quarantined
    folder = partition(data, "load_log", DATE)
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([log.as_row()], schema=LOAD_LOG_SCHEMA), folder / "log.parquet")


def org(**overrides):
    row = {
        "city_code": "320500",
        "credit_code": CODE,
        "org_name": "中国自动化学会",
        "org_type": "social_group",
        "status": "active",
        "rating": 4,
        "division_code": "320508",
        "export_date": DATE,
        "source_file": "registry_320500_20231031.csv",
        "source_row": 2,
    }
    return {**row, **overrides}


def test_clean_batch_passes_and_writes_data_docs(tmp_path):
    night(tmp_path, [org(), org(credit_code="53100000500019795A", source_row=3)])
    summary = validate_night(tmp_path, DATE)
    assert summary["failed"] == 0 and summary["expectations_evaluated"] >= 10
    assert (tmp_path / "docs" / "gx" / "index.html").exists()
    findings = json.loads((tmp_path / "runs" / DATE.isoformat() / "validation.json").read_text())
    assert all(f["success"] for f in findings["findings"])


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([org(), org(source_row=3)], "expect_column_values_to_be_unique(credit_code) failed on 2 of 2"),
        ([org(status="suspended")], "expect_column_values_to_be_in_set(status) failed on 1 of 1"),
        ([org(rating=7)], "expect_column_values_to_be_between(rating) failed on 1 of 1"),
        ([org(credit_code="5110000050000286")], "expect_column_values_to_match_regex(credit_code)"),
    ],
)
def test_failed_expectation_stops_the_run_with_a_message(tmp_path, rows, expected):
    night(tmp_path, rows)
    with pytest.raises(GateError) as err:
        validate_night(tmp_path, DATE)
    assert f"registry: {expected}" in str(err.value)
    assert "Data Docs:" in str(err.value)


def test_too_many_quarantined_rows_stop_the_run(tmp_path):
    night(tmp_path, [org()], read=10, quarantined=9)
    with pytest.raises(GateError, match=r"registry: 9 of 10 rows quarantined \(90.0%\); the threshold is 5%"):
        validate_night(tmp_path, DATE)
