"""End to end: sample exports → `socorg run` (the Airflow DAG, GX, dbt, publish) → published Parquet."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from runner import FIRST_NIGHT as DATE
from runner import published_state, socorg

from ingest.publish.datasets import DATASETS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def night(first_night):
    return first_night


def published(data: Path, dataset: str) -> list[dict]:
    glob = data / "publish" / dataset / "*" / "*.parquet"
    rel = duckdb.sql(f"select * from read_parquet('{glob}', hive_partitioning = true)")
    return [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]


def test_city_summary_reproduces_the_suzhou_report(night, suzhou_figures):
    rows = {r["city_code"]: r for r in published(night["data"], "city_summary")}
    assert {k: rows["320500"][k] for k in suzhou_figures} == suzhou_figures
    assert rows["320500"]["snapshot_date"] == dt.date(2023, 10, 31)
    shenzhen = night["truth"]["cities"]["440300"]["city_summary"]
    assert {k: rows["440300"][k] for k in shenzhen} == shenzhen
    assert "active_org_count" in night["run"].stdout and "11,849" in night["run"].stdout
    assert "registry changes: none (the first audited night" in night["run"].stdout


def test_every_shenzhen_strategic_cluster_has_an_association(night):
    clusters = [r for r in published(night["data"], "clusters") if r["city_code"] == "440300"]
    strategic = [r for r in clusters if r["category"] == "strategic_emerging"]
    assert len(strategic) == 20 and all(r["has_association"] for r in strategic)
    future = [r for r in clusters if r["category"] == "future_industry"]
    assert len(future) == 8 and 0 < sum(r["has_association"] for r in future) < 8
    medical = [r for r in published(night["data"], "clusters") if r["cluster_name"] == "医疗器械"]
    assert medical[0]["member_enterprise_count"] == 528


def test_the_reports_remaining_figures_are_the_generators(night):
    """Funded and high-grade cluster associations, the province's share, Shenzhen's pairs (issue 23)."""
    rows = {r["city_code"]: r for r in published(night["data"], "city_summary")}
    suzhou = rows["320500"]
    assert (suzhou["funded_cluster_association_count"], suzhou["cluster_association_count"]) == (9, 25)
    assert suzhou["funded_cluster_association_share"] == pytest.approx(0.36)
    assert (suzhou["city_name"], rows["440300"]["city_name"]) == ("苏州市", "深圳市")
    for code, city in night["truth"]["cities"].items():
        truth = city["city_summary"]
        row = rows[code]
        assert row["high_grade_cluster_association_count"] == truth["high_grade_cluster_association_count"]
        assert row["high_grade_cluster_association_share"] == pytest.approx(
            truth["high_grade_cluster_association_count"] / truth["cluster_association_count"]
        )
        clusters = [r for r in published(night["data"], "clusters") if r["city_code"] == code]
        assert (
            sum(bool(r["association_funded"]) for r in clusters) == truth["funded_cluster_association_count"]
        )
        assert (
            sum(bool(r["association_is_high_grade"]) for r in clusters)
            == row["high_grade_cluster_association_count"]
        )
    # Only Suzhou of Jiangsu's 13 cities delivered: the province is incomplete, no share is given.
    provinces = {r["province_code"]: r for r in published(night["data"], "province_summary")}
    jiangsu = provinces["320000"]
    assert (jiangsu["province_name"], jiangsu["city_count"], jiangsu["expected_city_count"]) == (
        "江苏省",
        1,
        13,
    )
    assert jiangsu["is_complete"] is False and jiangsu["active_org_count"] == suzhou["active_org_count"]
    assert suzhou["province_share"] is None
    # Shenzhen's 28 clusters each paired with an exhibition point of the seed.
    points = {
        r["credit_code"]: r["org_name"]
        for r in published(night["data"], "organizations")
        if r["is_exhibition_point"]
    }
    shenzhen = [r for r in published(night["data"], "clusters") if r["city_code"] == "440300"]
    assert all(
        points[r["paired_exhibition_point_code"]] == r["paired_exhibition_point_name"] for r in shenzhen
    )
    assert len({r["paired_exhibition_point_code"] for r in shenzhen}) == 28
    assert "city 440300: 28 of 28 clusters paired with an exhibition point (结对子)" in night["run"].stdout
    report = night["data"] / "publish" / "reports" / DATE
    assert f"Report:     {report / 'index.html'} (charts and tables per city" in night["run"].stdout
    assert f"Workbook:   {report / f'socorg_{DATE}.xlsx'}" in night["run"].stdout
    # Every funding row loaded is published, matched to the registry by code or by name.
    funding = published(night["data"], "funding")
    loads = [r for r in published(night["data"], "loads") if r["source"] == "funding"]
    assert len(funding) == sum(r["rows_loaded"] for r in loads) > 0
    assert {r["match_method"] for r in funding} == {"credit_code", "normalized_name"}
    assert re.search(r"funded_cluster_association_share\s+36\.0%\n", night["run"].stdout)
    assert (
        "province 320000 江苏省: 7,724 active organizations; 1 of 13 cities delivered" in night["run"].stdout
    )


def test_every_quarantined_row_is_one_the_generator_made_bad(night):
    glob = night["data"] / "raw" / "*" / "quarantine" / "*" / "*.parquet"
    got = set(duckdb.sql(f"select source_file, source_row, reason from read_parquet('{glob}')").fetchall())
    planted = {(q["file"], q["row"], q["reason"]) for q in night["truth"]["quarantine"]}
    assert got == planted and len(got) > 50


def test_every_row_read_is_loaded_or_quarantined(night):
    glob = night["data"] / "raw" / "load_log" / "*" / "*.parquet"
    log = duckdb.sql(f"select * from read_parquet('{glob}')").fetchall()
    columns = duckdb.sql(f"select * from read_parquet('{glob}')").columns
    rows = [dict(zip(columns, r, strict=True)) for r in log]
    assert len(rows) == len(list((night["exports"]).glob(f"*/{DATE}/*")))
    for row in rows:
        assert row["rows_read"] == row["rows_loaded"] + row["rows_quarantined"], row["file_name"]
        if row["footer_total"] is not None:
            assert row["footer_total"] == row["rows_read"]


def test_the_published_load_log_accounts_for_every_file_and_row(night):
    loads = published(night["data"], "loads")
    files = list(night["exports"].glob(f"*/{DATE}/*"))
    assert len(loads) == len(files)
    assert all(r["rows_read"] == r["rows_loaded"] + r["rows_quarantined"] for r in loads)
    quarantined = sum(r["rows_quarantined"] for r in loads)
    assert quarantined == len(night["truth"]["quarantine"])
    registry = [r for r in loads if r["file_name"] == "registry_320500_20231031.xlsx"][0]
    assert (registry["title_rows"], registry["footer_total"]) == (1, registry["rows_read"])
    assert json.loads(registry["quarantine_reasons"])["duplicate_credit_code"] == 3


def test_no_personal_data_in_any_published_file(night):
    personal = set(night["truth"]["personal_values"])
    assert len(personal) > 1000
    files = list((night["data"] / "publish").rglob("*.parquet"))
    assert len(files) == len(DATASETS) == 20
    # Nor in the night report: its page and its workbook (every cell string).
    report = night["data"] / "publish" / "reports" / DATE
    page = (report / "index.html").read_text(encoding="utf-8")
    assert not {v for v in personal if len(v) > 2 and v in page}
    import openpyxl

    book = openpyxl.load_workbook(report / f"socorg_{DATE}.xlsx")
    cells = {str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None}
    assert len(cells) > 100 and not cells & personal
    for path in files:
        rel = duckdb.sql(f"select * from read_parquet('{path}')")
        assert not {"legal_representative", "phone", "contact_person"} & set(rel.columns)
        for column, kind in zip(rel.columns, rel.types, strict=True):
            if str(kind) == "VARCHAR":
                values = {
                    v
                    for (v,) in duckdb.sql(
                        f"select distinct \"{column}\" from read_parquet('{path}')"
                    ).fetchall()
                }
                assert not values & personal, (path.name, column)


def test_release_index_matches_the_files(night):
    publish = night["data"] / "publish"
    latest = json.loads((publish / "latest.json").read_text())
    index = json.loads((publish / latest["index"]).read_text())
    assert latest["snapshot_date"] == DATE
    assert (
        {f["dataset"] for f in index["files"]}
        == set(DATASETS)
        == {
            "city_by_year",
            "cluster_by_year",
            "registrar_placements",
            "organizations",
            "organization_history",
            "registry_changes",
            "memberships",
            "membership_changes",
            "enterprises",
            "clusters",
            "registry_stats",
            "city_summary",
            "province_summary",
            "funding",
            "loads",
            "quality",
            "quarantine_reasons",
            "organization_standing",
            "annual_reports",
            "standing_unmatched",
        }
    )
    assert [r["path"] for r in index["reports"]] == [
        f"reports/{DATE}/index.html",
        f"reports/{DATE}/socorg_{DATE}.xlsx",
    ]
    assert (latest["report"], latest["workbook"]) == tuple(r["path"] for r in index["reports"])
    for entry in [*index["files"], *index["reports"]]:
        path = publish / entry["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        if "rows" in entry:
            rows = duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchall()[0][0]
            assert rows == entry["rows"]
    assert (night["data"] / "docs" / "gx" / "index.html").exists()
    assert (night["data"] / "docs" / "dbt" / "index.html").exists()


def own_copy(night, tmp_path) -> dict:
    """The session's published night copied (exports and data folder) for a test that runs nights on it."""
    exports = shutil.copytree(night["exports"], tmp_path / "exports")
    data = shutil.copytree(night["data"], tmp_path / "data")
    env = {**night["env"], "SOCORG_EXPORTS": str(exports), "SOCORG_DATA": str(data)}
    return {**night, "exports": exports, "data": data, "env": env}


def test_a_missing_registry_export_stops_the_run_and_publishes_nothing(night, tmp_path):
    night = own_copy(night, tmp_path)
    before = published_state(night["data"])
    run = socorg("run", "--date", "2023-11-01", env=night["env"])
    assert run.returncode != 0
    assert "NOT published" in run.stderr
    assert "export missing: no registry export for 2023-11-01" in run.stderr
    assert published_state(night["data"]) == before


def test_a_footer_that_disagrees_stops_the_run_before_anything_is_built(night, tmp_path):
    night = own_copy(night, tmp_path)
    date = "2023-11-02"
    for source in ("registry", "membership", "qualifications"):
        shutil.copytree(night["exports"] / source / DATE, night["exports"] / source / date)
    registry = night["exports"] / "registry" / date / "registry_440300_20231031.csv"
    lines = registry.read_bytes().decode("gb18030").splitlines(keepends=True)
    lines[-1] = "共 99 条\r\n"
    registry.write_bytes("".join(lines).encode("gb18030"))
    stray = night["exports"] / "sanctions" / date / "sanction_440300_2022.csv"  # no source reads it
    stray.parent.mkdir(parents=True)
    stray.write_text("统一社会信用代码,年检结论\n", encoding="utf-8")
    before = published_state(night["data"])
    run = socorg("run", "--date", date, env=night["env"])
    assert run.returncode != 0
    assert "registry_440300_20231031.csv: footer control total says 99 rows" in run.stderr
    # A stopped night has no release to list the files it did not read: the run says them.
    assert (
        "warning: 1 file(s) under " in run.stderr
        and f"sanctions/{date}/sanction_440300_2022.csv" in run.stderr
    )
    assert published_state(night["data"]) == before
    assert not (night["data"] / "raw" / "registry" / f"export_date={date}").exists()


def test_quality_and_quarantine_counts_are_published(night):
    from ingest.rules.layouts import SOURCES
    from ingest.validate.suites import SUITES

    publish = night["data"] / "publish"
    quality = duckdb.sql(f"select * from read_parquet('{publish}/quality/*/*.parquet')").fetchdf()
    assert len(quality) == sum(len(SUITES[s]()) for s in SOURCES)
    assert quality.loc[quality.severity == "error", "success"].all()
    assert set(quality.severity) == {"error", "warning"}
    counts = f"read_parquet('{publish}/quarantine_reasons/*/*.parquet')"
    loads = f"read_parquet('{publish}/loads/*/*.parquet')"
    quarantined = duckdb.sql(f"select sum(quarantined_rows) from {counts}").fetchall()[0][0]
    assert quarantined == duckdb.sql(f"select sum(rows_quarantined) from {loads}").fetchall()[0][0]
    assert quarantined == len(night["truth"]["quarantine"])
    columns = [row[0] for row in duckdb.sql(f"describe select * from {counts}").fetchall()]
    assert columns == ["source", "file_name", "version", "reason", "quarantined_rows", "snapshot_date"]


def test_shenzhens_exhibition_points_and_mediation_rooms_are_flagged(night):
    orgs = [r for r in published(night["data"], "organizations") if r["is_exhibition_point"]]
    assert len(orgs) == 30 and {r["city_code"] for r in orgs} == {"440300"}
    kinds = {(r["exhibition_point_type"], r["exhibition_point_year"]) for r in orgs}
    assert kinds == {("first_batch", 2021), ("hub", 2022), ("domain", 2022)}
    assert [sum(r["exhibition_point_type"] == k for r in orgs) for k in ("first_batch", "hub", "domain")] == [
        10
    ] * 3
    assert sum(r["has_mediation_room"] for r in published(night["data"], "organizations")) == 10


def test_every_member_written_in_another_spelling_without_its_code_is_matched(night):
    from ingest.parse.cells import normalize_name

    variants = night["truth"]["variant_members"]
    assert len(variants) > 50
    rows = {
        (r["association_credit_code"], normalize_name(r["member_name"])): r
        for r in published(night["data"], "memberships")
    }
    for member in variants:
        row = rows[(member["association_credit_code"], normalize_name(member["member_name"]))]
        assert row["member_credit_code"] == member["member_credit_code"], member
        assert row["match_method"] in ("exact_name", "normalized_name"), member
    traditional = [m for m in variants if "蘇州" in m["member_name"] or "車" in m["member_name"]]
    assert traditional, "the sample writes some members in traditional characters"


def test_standing_figures_and_associations_are_the_generators(night):
    """Inspections, annual reports and credit lists (issue 35): each city's figures, and which designated
    associations are not in good standing, as the generator drew them."""
    cities = {r["city_code"]: r for r in published(night["data"], "city_summary")}
    clusters = published(night["data"], "clusters")
    for code, city in night["truth"]["cities"].items():
        truth = city["standing"]
        row = cities[code]
        assert (row["inspection_year"], row["inspected_count"], row["on_credit_list_count"]) == (
            truth["inspection_year"],
            truth["inspected_count"],
            truth["on_credit_list_count"],
        ), code
        assert row["inspection_passed_share"] == pytest.approx(truth["inspection_passed_share"], abs=5e-5)
        named = sorted(
            re.findall(
                r"\((\w{18})\): ", " | ".join(r["association_standing_reason"] or "" for r in clusters)
            )
        )
        assert set(truth["associations_not_in_good_standing"]) <= set(named)
    assert sorted(named) == sorted(
        c
        for city in night["truth"]["cities"].values()
        for c in city["standing"]["associations_not_in_good_standing"]
    )
    standing = {r["credit_code"]: r for r in published(night["data"], "organization_standing")}
    for code in named:
        assert standing[code]["eligible_for_evaluation"] is False and standing[code]["standing_reason"]
    assert all(r["standing_reason"] for r in standing.values())
    unmatched = published(night["data"], "standing_unmatched")
    reports = published(night["data"], "annual_reports")
    bad = [q for q in night["truth"]["quarantine"] if q["source"] == "annual_reports"]
    loaded = night["truth"]["rows"]["annual_reports"] - len(bad)
    assert len(reports) == loaded - sum(r["source"] == "annual_reports" for r in unmatched) > 1000
    assert sorted(r["org_name"] for r in unmatched) == sorted(night["truth"]["standing_unmatched"])
    issues = json.loads((night["data"] / "publish" / "releases" / DATE / "issues.json").read_text("utf-8"))
    assert any(i["kind"] == "standing_unmatched" for i in issues["issues"]) == bool(unmatched)
    assert "rows name an organization the registry does not know" in night["run"].stdout
    assert re.search(r"inspection_year\s+2022\n", night["run"].stdout)  # a year, not 2,022
