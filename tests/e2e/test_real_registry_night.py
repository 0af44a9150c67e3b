"""A night of real registrations (../shared/data/real-registrations): the civil-affairs rows of a public
national extract, registered by the ministry, by provinces and by counties the division list lacks; and
real foundations' annual-report figures (../shared/data/real-annual-reports) through a site layout."""

from __future__ import annotations

import csv
import os
import re
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from runner import FIRST_NIGHT, socorg

pytestmark = pytest.mark.e2e
RICF = "ricf_2013_financial_activities.sample.tsv"
SITE = Path(__file__).resolve().parents[1] / "sites" / "ricf"


def ricf_rows(shared) -> list[dict]:
    with (shared / "data" / "real-annual-reports" / RICF).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.fixture(scope="module")
def night(shared, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("real-night")
    folder = root / "exports" / "registry" / FIRST_NIGHT
    folder.mkdir(parents=True)
    shutil.copy(
        shared / "data" / "real-registrations" / "civil_affairs_5x_subset.csv",
        folder / "civil_affairs_5x_2023.csv",
    )
    # The research catalog's file as it is, and a registry naming its foundations (codes and names as
    # the catalog gives them, in the national extract's layout: the figures are what is under test).
    reports = root / "exports" / "annual_reports" / FIRST_NIGHT
    reports.mkdir(parents=True)
    shutil.copy(shared / "data" / "real-annual-reports" / RICF, reports / RICF)
    with (folder / "ricf_foundations_2013.csv").open("w", encoding="utf-8") as fh:
        fh.write("企业名称,统一社会信用代码\n")
        fh.writelines(f"{r['ba_cn']},{r['ba_uscc']}\n" for r in ricf_rows(shared))
    env = {
        **os.environ,
        "SOCORG_EXPORTS": str(root / "exports"),
        "SOCORG_DATA": str(root / "data"),
        "SOCORG_SITE": str(SITE),
    }
    done = socorg("run", "--date", FIRST_NIGHT, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {"publish": root / "data" / "publish", "stdout": done.stdout}


def rows(publish, dataset: str) -> list[dict]:
    rel = duckdb.sql(f"select * from read_parquet('{publish}/{dataset}/*/*.parquet')")
    return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]


def test_every_organization_is_placed_and_counted_once(night):
    organizations = rows(night["publish"], "organizations")
    loaded = sum(r["rows_loaded"] for r in rows(night["publish"], "loads") if r["source"] == "registry")
    assert len(organizations) == loaded > 60
    by_city = {}
    for org in organizations:
        if org["is_active"]:
            by_city[org["city_code"]] = by_city.get(org["city_code"], 0) + 1
    # Registered by the ministry (100000) or by a province itself (xx0000): no city of their own.
    assert any(code == "100000" for code in by_city) and any(
        code.endswith("0000") and code != "100000" for code in by_city
    )
    cities = {r["city_code"]: r for r in rows(night["publish"], "city_summary")}
    assert cities and not any(code.endswith("0000") for code in cities)
    assert {code: r["active_org_count"] for code, r in cities.items()} == {
        code: n for code, n in by_city.items() if not code.endswith("0000")
    }
    # Every province's total holds its cities' and its own registrations; the ministry's are in none.
    provinces = {r["province_code"]: r for r in rows(night["publish"], "province_summary")}
    assert sum(r["active_org_count"] for r in provinces.values()) == sum(by_city.values()) - by_city["100000"]
    assert "530000" in provinces and not any(r["is_complete"] for r in provinces.values())
    assert all(r["province_share"] is None for r in cities.values())


def test_the_report_names_every_city_and_the_run_sums_the_provinces(night):
    cities = rows(night["publish"], "city_summary")
    page = (night["publish"] / "reports" / FIRST_NIGHT / "index.html").read_text(encoding="utf-8")
    assert all(
        f'<h2>{r["city_name"]} <span class="code">{r["city_code"]}</span></h2>' in page for r in cities
    )
    assert not any(r["city_name"].startswith("未知城市") for r in cities)
    provinces = rows(night["publish"], "province_summary")
    assert (
        f"{len(provinces)} provinces: {sum(r['active_org_count'] for r in provinces):,} active organizations"
        in night["stdout"]
    )


def test_where_the_organizations_outside_the_cities_went_is_said_everywhere(night):
    """The ministry's, the provinces' own and a county the division list lacks: registrar_placements,
    `socorg run`'s summary, the report's section and the workbook's sheet all count them."""
    import openpyxl

    organizations = rows(night["publish"], "organizations")
    placements = {r["registrar_code"]: r for r in rows(night["publish"], "registrar_placements")}
    ministry = [o for o in organizations if o["division_code"] == "100000"]
    assert (
        placements["100000"]["placement"] == "ministry" and placements["100000"]["registrar_name"] == "民政部"
    )
    assert placements["100000"]["org_count"] == len(ministry) > 0
    assert placements["100000"]["active_org_count"] == sum(o["is_active"] for o in ministry)
    own = {code for code, r in placements.items() if r["placement"] == "province"}
    assert own and all(code.endswith("0000") for code in own)
    unlisted = [r for r in placements.values() if r["placement"] == "unlisted_division"]
    assert {(r["registrar_code"], r["counted_in_city_code"]) for r in unlisted} >= {("530328", "530300")}
    # Every organization the lists place in no city, or in a city by the rule, is in one row.
    outside = [o for o in organizations if o["division_code"] in placements]
    assert sum(r["org_count"] for r in placements.values()) == len(outside)
    active = sum(r["active_org_count"] for r in placements.values())
    assert f"outside the cities' divisions: {active:,} active organizations" in night["stdout"]
    page = (night["publish"] / "reports" / FIRST_NIGHT / "index.html").read_text(encoding="utf-8")
    shown = dict(
        re.findall(
            r'data-dataset="registrar_placements" data-key="(\d+)" data-column="org_count">([^<]+)<', page
        )
    )
    assert shown == {code: f"{r['org_count']:,}" for code, r in placements.items()}
    book = night["publish"] / "reports" / FIRST_NIGHT / f"socorg_{FIRST_NIGHT}.xlsx"
    sheet = openpyxl.load_workbook(book)["城市以外"]
    codes = [r[0] for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert sorted(codes) == sorted(placements)


def test_the_research_catalogs_annual_reports_reach_the_mart_with_each_amount_its_two_parts_added(
    night, shared
):
    reports = {r["credit_code"]: r for r in rows(night["publish"], "annual_reports")}
    source = ricf_rows(shared)
    assert len(reports) == len(source) == 40
    for row in source:
        got = reports[row["ba_uscc"]]
        assert got["report_year"] == 2013 and got["match_method"] == "credit_code"
        for column, parts in {
            "donation_income": ("fa_dine", "fa_dinu"),
            "income_total": ("fa_intoe", "fa_intou"),
            "expense_total": ("fa_cotoe", "fa_cotou"),
        }.items():
            want = sum((Decimal(row[p]) for p in parts if row[p]), Decimal(0))
            assert got[column] == want.quantize(Decimal("0.01")), (row["ba_cn"], column)
    assert not [r for r in rows(night["publish"], "standing_unmatched") if r["source"] == "annual_reports"]
    loads = [r for r in rows(night["publish"], "loads") if r["source"] == "annual_reports"]
    assert [(r["file_name"], r["rows_loaded"], r["rows_quarantined"]) for r in loads] == [(RICF, 40, 0)]
