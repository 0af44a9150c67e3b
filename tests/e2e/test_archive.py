"""A bureau's archive, from 2014 (no credit codes yet) to tonight, loaded with one command: one history,
the figures of each year, the report and the workbook; stopped and started again, nothing is redone."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil

import duckdb
import pytest
from conftest import ARCHIVE
from runner import published_state, socorg

pytestmark = pytest.mark.e2e
CITY = "440300"
TONIGHT = ARCHIVE[-1]


def rows(data, dataset: str, night: str, partition: str = "snapshot_date") -> list[dict]:
    path = data / "publish" / dataset / f"{partition}={night}" / f"{dataset}.parquet"
    rel = duckdb.sql(f"select * from read_parquet('{path}', hive_partitioning = false)")
    return [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]


def test_the_archive_loads_with_one_command_in_date_order_with_progress(archive):
    run = archive["run"]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"socorg run: 6 nights from {ARCHIVE[0]} to {TONIGHT}, in date order" in run.stdout
    published = re.findall(r"socorg run (\S+): published \(latest = (\S+)\)", run.stdout)
    assert published == [(night, night) for night in ARCHIVE]
    progress = re.findall(r"\[night (\d) of 6\] (\S+) · \d+:\d\d elapsed(, about \d+:\d\d left)?", run.stderr)
    assert [(int(k), night) for k, night, _ in progress] == list(enumerate(ARCHIVE, start=1))
    assert all(left for _, _, left in progress[1:]) and not progress[0][2]
    versions = json.loads((archive["data"] / "publish" / "versions.json").read_text(encoding="utf-8"))
    assert [r["snapshot_date"] for r in versions["releases"]] == list(reversed(ARCHIVE))


def test_every_nights_figures_are_the_generators(archive):
    """Including what each year's exports could not give: members and qualifications before the lists
    came (2021) are unknown, not 0; a 2014 export's associations are found by organization code or name."""
    for night in ARCHIVE:
        expected = archive["truths"][night]["cities"][CITY]["city_summary"]
        [got] = rows(archive["data"], "city_summary", night)
        assert {k: got[k] for k in expected} == expected, night
    [old] = rows(archive["data"], "city_summary", ARCHIVE[0])
    assert old["cluster_member_enterprise_count"] is None and old["listed_count"] is None
    assert old["deregistered_in_year"] is None
    assert old["high_grade_cluster_association_count"] == expected_2014_high_grade(archive) > 0


def expected_2014_high_grade(archive) -> int:
    return archive["truths"][ARCHIVE[0]]["cities"][CITY]["city_summary"][
        "high_grade_cluster_association_count"
    ]


def test_city_by_year_holds_each_years_last_snapshot_and_the_seed_reports_comparison(archive):
    data = archive["data"]
    years = rows(data, "city_by_year", TONIGHT, "release_date")
    assert [(r["year"], r["snapshot_date"].isoformat()) for r in years] == [(int(n[:4]), n) for n in ARCHIVE]
    for row in years:
        [summary] = rows(data, "city_summary", row["snapshot_date"].isoformat())
        assert {k: row[k] for k in summary} == summary
        assert row["release_date"] == dt.date.fromisoformat(TONIGHT)
    # Shenzhen's exhibition points: the first 10 from September 2021, 30 after 2022-07-22.
    assert [r["exhibition_point_count"] for r in years] == [0, 0, 0, 10, 30, 30]
    assert [r["cluster_member_enterprise_count"] is None for r in years] == [True] * 3 + [False] * 3
    # Each release holds the years up to its night.
    as_of_2021 = rows(data, "city_by_year", "2021-12-31", "release_date")
    assert [r["year"] for r in as_of_2021] == [2014, 2016, 2020, 2021]
    # Read as analysts do, with DuckDB's hive partitions: the release's night beside each row's own.
    glob = data / "publish" / "city_by_year" / "*" / "*.parquet"
    read = duckdb.sql(
        f"select release_date, year, snapshot_date from read_parquet('{glob}') "
        f"where release_date = '{TONIGHT}'"
    ).fetchall()
    assert sorted((y, s.isoformat()) for _, y, s in read) == [(int(n[:4]), n) for n in ARCHIVE]


def test_cluster_by_year_holds_each_clusters_years(archive):
    data = archive["data"]
    years = rows(data, "cluster_by_year", TONIGHT, "release_date")
    assert len(years) == 28 * len(ARCHIVE)
    for night in ARCHIVE:
        published = {r["cluster_code"]: r for r in rows(data, "clusters", night)}
        for row in (r for r in years if r["snapshot_date"].isoformat() == night):
            assert {k: row[k] for k in published[row["cluster_code"]]} == published[row["cluster_code"]]
    unknown = {r["year"] for r in years if r["has_association"] and r["member_enterprise_count"] is None}
    assert unknown == {2014, 2016, 2020}


def test_an_organization_is_one_organization_across_the_change_to_credit_codes(archive):
    data = archive["data"]
    first = rows(data, "organizations", ARCHIVE[0])
    # Named by organization code where the export gives one, else by registration number in its city.
    assert all(r["credit_code"] is None for r in first)
    by_code = [r for r in first if r["organization_code"]]
    assert all(r["org_id"] == r["organization_code"] for r in by_code)
    by_number = [r for r in first if not r["organization_code"]]
    assert all(re.fullmatch(r"440300:深[社民基]证字第\d{5}号", r["org_id"]) for r in by_number)
    assert len(by_code) > 2 * len(by_number) > 0
    truth = json.loads((archive["exports"] / "_truth" / "changes.json").read_text(encoding="utf-8"))
    for night in ARCHIVE[1:]:
        expected = {(c["credit_code"], c["change"]) for c in truth if c["night"] == night}
        got = {(r["credit_code"], r["change_type"]) for r in rows(data, "registry_changes", night)}
        assert got == expected, night
    assigned = [
        r for r in rows(data, "registry_changes", "2016-12-31") if r["change_type"] == "credit_code_assigned"
    ]
    assert len(assigned) > 7000
    before = {r["org_id"] for r in first}
    assert all(r["value_before"] in before and r["value_after"] == r["org_id"] for r in assigned)
    history = rows(data, "organization_history", TONIGHT)
    numbered = next(r for r in assigned if r["value_before"].startswith("440300:"))
    org = numbered["org_id"]
    versions = sorted((r for r in history if r["org_id"] == org), key=lambda r: r["version_no"])
    assert versions[0]["valid_from"] == dt.date(2014, 12, 31) and versions[0]["credit_code"] is None
    assert versions[0]["registration_number"] == numbered["value_before"].split(":", 1)[1]
    assert versions[1]["valid_from"] == dt.date(2016, 12, 31) and versions[1]["credit_code"] == org
    current = {r["org_id"] for r in history if r["is_current"]}
    assert current == {r["org_id"] for r in rows(data, "organizations", TONIGHT)}


def test_the_report_and_the_workbook_show_the_years(archive):
    import openpyxl

    data = archive["data"]
    years = {r["year"]: r for r in rows(data, "city_by_year", TONIGHT, "release_date")}
    page = (data / "publish" / "reports" / TONIGHT / "index.html").read_text(encoding="utf-8")
    cells = re.findall(
        r'data-dataset="city_by_year" data-key="440300:(\d{4})" data-column="([^"]+)">([^<]*)<', page
    )
    assert len(cells) == 6 * len(ARCHIVE)
    for year, column, shown in cells:
        value = years[int(year)][column]
        assert shown == ("—" if value is None else f"{value:,}"), (year, column)
    chart = page[page.index('id="years-440300"') :]
    marks = chart[
        chart.index("rect mark container") : chart.index("</g>", chart.index("rect mark container"))
    ]
    assert marks.count("<path") == 3 * len(ARCHIVE)  # three organization types, every year
    sheet = openpyxl.load_workbook(data / "publish" / "reports" / TONIGHT / f"socorg_{TONIGHT}.xlsx")[
        "历年城市"
    ]
    english = [c.value for c in sheet[2]]
    written = [dict(zip(english, r, strict=True)) for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert [(r["year"], r["exhibition_point_count"]) for r in written] == [
        (y, years[y]["exhibition_point_count"]) for y in sorted(years)
    ]


@pytest.fixture
def copy(archive, tmp_path) -> dict:
    exports = shutil.copytree(archive["exports"], tmp_path / "exports")
    data = shutil.copytree(archive["data"], tmp_path / "data")
    return {"exports": exports, "data": data, "env": {**archive["env"], "SOCORG_EXPORTS": str(exports),
                                                      "SOCORG_DATA": str(data)}}  # fmt: skip


def test_stopped_and_started_again_it_redoes_nothing_published(copy):
    before = published_state(copy["data"])
    again = socorg("run", "--all", env=copy["env"])
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    for night in ARCHIVE:
        assert f"socorg run {night}: {night} is published and its exports are unchanged" in again.stdout
    assert "running the socorg_nightly DAG" not in again.stdout
    assert published_state(copy["data"]) == before
    ranged = socorg("run", "--from", "2015-01-01", "--to", "2020-12-31", env=copy["env"])
    assert ranged.returncode == 0
    assert re.findall(r"socorg run (\S+): \S+ is published", ranged.stdout) == ["2016-12-31", "2020-12-31"]


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["--dates", "2016-12-31,2019-12-31"], 4, "no registry export for 2019-12-31 (in "),
        (["--from", "2024-01-01"], 4, "holds no registry export from 2024-01-01 to the last"),
        (["--date", "2019-12-31"], 4, "export missing: no registry export for 2019-12-31 in "),
        (["--date", "1949-12-31"], 2, "1949-12-31 is before 1950-01-01, the first export date"),
        (["--dates", "2016-12-31", "--nights", "2"], 2, "--nights counts days from --date"),
    ],
)
def test_nights_that_cannot_run_are_said_and_nothing_runs(copy, args, code, said):
    before = published_state(copy["data"])
    done = socorg("run", *args, env=copy["env"])
    assert done.returncode == code, done.stdout[-2000:] + done.stderr[-2000:]
    assert said in done.stderr
    assert "Traceback" not in done.stderr
    assert published_state(copy["data"]) == before


def test_an_earlier_snapshot_delivered_again_rebuilds_the_later_release_once(copy, archive):
    """2022's export delivered again with one organization deregistered: the plan is said before the
    night runs, 2022 and then tonight are built, and tonight's figures by year show 2022's new count."""
    registry = next((copy["exports"] / "registry" / "2022-12-31").glob("*.csv"))
    text = registry.read_bytes().decode("gb18030")
    line = next(x for x in text.splitlines() if ",正常," in x or ",存续," in x)
    registry.write_bytes(
        text.replace(line, line.replace(",正常,", ",已注销,").replace(",存续,", ",已注销,"), 1).encode(
            "gb18030"
        )
    )
    done = socorg("run", "--dates", "2022-12-31", env=copy["env"])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    plan = done.stdout.index(
        f"socorg run: 1 release(s) published before were built after 2022-12-31: {TONIGHT}"
    )
    assert plan < done.stdout.index("socorg run 2022-12-31: running the socorg_nightly DAG")
    assert re.findall(r"socorg run (\S+): published", done.stdout) == ["2022-12-31", TONIGHT]
    was = archive["truths"]["2022-12-31"]["cities"][CITY]["city_summary"]["active_org_count"]
    years = {r["year"]: r for r in rows(copy["data"], "city_by_year", TONIGHT, "release_date")}
    assert years[2022]["active_org_count"] == was - 1
    assert (
        years[2023]["deregistered_in_year"]
        == archive["truths"][TONIGHT]["cities"][CITY]["city_summary"]["deregistered_in_year"]
    )
