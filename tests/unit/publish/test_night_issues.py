"""The release's issues say what a night would otherwise pass over: an export with no data rows, rows of
a standing list naming an organization the registry does not know."""

from __future__ import annotations

import datetime as dt

import duckdb

from ingest.common.notes import ISSUE_KINDS
from ingest.publish.release import night_issues

NIGHT = dt.date(2023, 10, 31)


def marts() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.quality (source varchar, expectation varchar, column_name varchar, "
        "unexpected_count bigint, element_count bigint, success boolean)"
    )
    con.execute(
        "create table marts.quarantine_reasons (source varchar, reason varchar, quarantined_rows bigint)"
    )
    con.execute(
        "create table marts.loads (source varchar, file_name varchar, version integer, status varchar, "
        "rows_read bigint)"
    )
    con.execute(
        "insert into marts.loads values ('inspections', 'inspection_320500_2022.csv', 1, 'loaded', 0), "
        "('inspections', 'inspection_320500_2021.csv', 1, 'superseded', 0), "
        "('registry', 'registry_320500_20231031.csv', 1, 'loaded', 7724)"
    )
    con.execute(
        "create table marts.standing_unmatched (source varchar, file_name varchar, source_row bigint, "
        "org_name varchar, credit_code varchar, delivered_on date, snapshot_date date)"
    )
    con.execute(
        "insert into marts.standing_unmatched values "
        "('inspections', 'inspection_320500_2023.csv', 5, '查无此会', null, ?, ?), "
        "('inspections', 'inspection_320500_2023.csv', 9, '另一个会', null, ?, ?), "
        "('credit_lists', 'credit_list_320500_20230101.csv', 2, '旧名单之会', null, '2023-01-02', ?)",
        [NIGHT, NIGHT, NIGHT, NIGHT, NIGHT],
    )
    return con


def test_an_empty_export_and_unknown_organizations_are_said():
    issues = night_issues(marts(), [])
    empty = [i for i in issues if i["kind"] == "empty_export"]
    assert empty == [
        {
            "level": "warning",
            "kind": "empty_export",
            "source": "inspections",
            "message": "inspection_320500_2022.csv: a header and no data rows; nothing of it was loaded",
        }
    ]
    unmatched = [i for i in issues if i["kind"] == "standing_unmatched"]
    # tonight's deliveries only: an earlier night's list was said on its night
    assert [(i["source"], i["rows"]) for i in unmatched] == [("inspections", 2)]
    assert "查无此会、另一个会" in unmatched[0]["message"]
    assert {i["kind"] for i in issues} <= set(ISSUE_KINDS)
