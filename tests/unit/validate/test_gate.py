"""The quality gate: every expectation fires on a fixture and stays quiet on clean data; batch checks."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.common.errors import GateError, SocorgError
from ingest.common.paths import partition
from ingest.parse.files import FileLoad, raw_schema
from ingest.parse.night import LOAD_LOG_SCHEMA
from ingest.rules.creditcode import corrupt_check_character, make_code
from ingest.rules.layouts import SOURCES, load_layout
from ingest.validate.gate import validate_night
from ingest.validate.suites import SUITES

DATE = dt.date(2023, 10, 31)
RNG = random.Random(5)
GROUP = make_code("5", "1", "320508", RNG)
FOUNDATION = make_code("5", "3", "320508", RNG)
MEMBER = make_code("9", "1", "320583", RNG)


def org(**overrides):
    row = {
        "city_code": "320500",
        "credit_code": GROUP,
        "org_name": "苏州市甲协会",
        "org_type": "social_group",
        "status": "active",
        "rating": 4,
        "registered_on": dt.date(2010, 5, 1),
        "division_code": "320508",
        "export_date": DATE,
        "source_file": "registry_320500_20231031.csv",
        "source_row": 2,
    }
    return {**row, **overrides}


def member(**overrides):
    row = {
        "association_credit_code": GROUP,
        "member_name": "苏州甲科技有限公司",
        "member_credit_code": MEMBER,
        "member_kind": "organization",
        "role": "member",
        "member_status": "active",
        "joined_on": dt.date(2020, 1, 1),
        "source_file": f"membership_{GROUP}_20231031.csv",
        "source_row": 2,
    }
    return {**row, **overrides}


def qualification(**overrides):
    row = {
        "enterprise_name": "苏州甲科技有限公司",
        "credit_code": MEMBER,
        "qualification": "high_tech",
        "recognized_year": 2021,
        "source_file": "qualifications_320500_20231031.csv",
        "source_row": 2,
    }
    return {**row, **overrides}


def project(**overrides):
    row = {
        "project_name": "行业培训服务项目",
        "purchaser": "苏州市民政局",
        "provider_name": "苏州市甲协会",
        "provider_credit_code": FOUNDATION,
        "amount": Decimal("35.5"),
        "funded_year": 2023,
        "source_file": "funding_苏州市财政局_2023.csv",
        "source_row": 2,
    }
    return {**row, **overrides}


def conclusion(**overrides):
    row = {
        "authority": "320500",
        "list_year": "2022",
        "org_name": "苏州市甲协会",
        "credit_code": GROUP,
        "inspection_year": 2022,
        "result": "passed",
        "inspected_on": dt.date(2023, 5, 1),
        "source_file": "inspection_320500_2022.csv",
        "source_row": 2,
    }
    return {**row, **overrides}


def report(**overrides):
    row = {
        "authority": "320500",
        "list_year": "2022",
        "org_name": "苏州市甲协会",
        "credit_code": GROUP,
        "report_year": 2022,
        "income_total": Decimal("120000.50"),
        "expense_total": Decimal("98000"),
        "full_time_staff": 3,
        "volunteers": 20,
        "members": 85,
        "source_file": "annual_report_320500_2022.csv",
        "source_row": 2,
    }
    return {**row, **overrides}


def entry(**overrides):
    row = {
        "authority": "320500",
        "list_date": "20231020",
        "org_name": "苏州市甲协会",
        "credit_code": GROUP,
        "list_kind": "abnormal",
        "included_on": dt.date(2023, 10, 20),
        "removed_on": None,
        "source_file": "credit_list_320500_20231020.csv",
        "source_row": 3,
    }
    return {**row, **overrides}


CLEAN = {
    "registry": [org(), org(credit_code=FOUNDATION, org_type="foundation", source_row=3)],
    "membership": [member()],
    "qualifications": [qualification()],
    "funding": [project()],
    "inspections": [conclusion()],
    "annual_reports": [report()],
    "credit_lists": [entry()],
}


def night(data, rows: dict, date=DATE, read=None, quarantined=0):
    """Raw partitions and a load log for one night, from rows per source (clean ones by default)."""
    rows = {**CLEAN, **rows}
    for source in SOURCES:
        folder = partition(data, source, date)
        folder.mkdir(parents=True)
        table = pa.Table.from_pylist(
            [{**r, "export_date": date} for r in rows[source]], schema=raw_schema(load_layout(source))
        )
        pq.write_table(table, folder / "part.parquet")
    log = FileLoad("registry", date.isoformat(), "registry_320500_20231031.csv", "x", 1)
    log.rows_read = read if read is not None else len(rows["registry"])
    log.rows_loaded, log.rows_quarantined = len(rows["registry"]), quarantined
    folder = partition(data, "load_log", date)
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([log.as_row()], schema=LOAD_LOG_SCHEMA), folder / "log.parquet")


def test_clean_night_passes_every_expectation_and_writes_data_docs(tmp_path):
    night(tmp_path, {})
    summary = validate_night(tmp_path, DATE)
    assert summary["failed"] == 0 and summary["warnings"] == 0
    assert (tmp_path / "docs" / "gx" / "index.html").exists()
    findings = json.loads((tmp_path / "runs" / DATE.isoformat() / "validation.json").read_text())["findings"]
    assert len(findings) == sum(len(SUITES[s]()) for s in SOURCES)
    assert all(f["success"] and f["unexpected_count"] == 0 for f in findings)
    assert {f["severity"] for f in findings} == {"error", "warning"}


def test_every_suite_link_of_the_data_docs_opens_its_page_built_again_only_when_the_suite_changed(
    tmp_path,
):
    import re

    night(tmp_path, {})
    validate_night(tmp_path, DATE)
    site = tmp_path / "docs" / "gx"
    pages = [site / "index.html", *(site / "validations").rglob("*.html")]
    links = {(page.parent / href).resolve() for page in pages for href in re.findall(
        r'href="([^"#]*expectations/[^"#]+\.html)"', page.read_text(encoding="utf-8"))}  # fmt: skip
    assert {link.stem for link in links} == {SUITES[s].__name__ for s in SOURCES}
    assert all(link.exists() for link in links), sorted(str(link) for link in links if not link.exists())
    suite_page = site / "expectations" / f"{SUITES['registry'].__name__}.html"
    assert "credit_code" in suite_page.read_text(encoding="utf-8")
    built = {link: link.stat().st_mtime_ns for link in links}
    night(tmp_path, {}, date=LATER)
    validate_night(tmp_path, LATER)
    assert {link: link.stat().st_mtime_ns for link in links} == built  # the suites did not change
    suite = tmp_path / "runs" / "gx" / "expectations" / f"{SUITES['registry'].__name__}.json"
    later = suite.stat().st_mtime + 10
    os.utime(suite, (later, later))  # as when the suite is stored again, changed
    validate_night(tmp_path, LATER)
    assert suite_page.stat().st_mtime_ns != built[suite_page.resolve()]
    assert all(built[link] == link.stat().st_mtime_ns for link in links if link.stem != suite.stem)


LATER = dt.date(2023, 11, 1)
# case: (source, its rows tonight, the expectation and column that must fail[, how many rows fail: all])
CASES = {
    "no code, organization code or registration number": (
        "registry",
        [org(credit_code=None)],
        "expect_column_values_to_not_be_null(org_key)",
    ),
    "name missing": ("registry", [org(org_name=None)], "expect_column_values_to_not_be_null(org_name)"),
    "type missing": ("registry", [org(org_type=None)], "expect_column_values_to_not_be_null(org_type)"),
    "status missing": ("registry", [org(status=None)], "expect_column_values_to_not_be_null(status)"),
    "check character": (
        "registry",
        [org(credit_code=corrupt_check_character(GROUP))],
        "expect_column_values_to_be_valid_credit_code(credit_code)",
    ),
    "code twice across files": (
        "registry",
        [org(), org(source_file="registry_320500_20231031.v2.csv")],
        "expect_column_values_to_be_between(credit_code_occurrences)",
    ),
    "organization code twice (a snapshot from before credit codes)": (
        "registry",
        [
            org(credit_code=None, organization_code="500001234"),
            org(credit_code=None, organization_code="500001234"),
        ],
        "expect_column_values_to_be_between(organization_code_occurrences)",
    ),
    "registration number twice in a city": (
        "registry",
        [
            org(credit_code=None, registration_number="深社证字第1号"),
            org(credit_code=None, registration_number="深社证字第1号"),
        ],
        "expect_column_values_to_be_between(registration_number_occurrences)",
    ),
    "category against type": (
        "registry",
        [org(credit_code=FOUNDATION)],
        "expect_column_values_to_be_in_set(credit_code_category_org_type)",
    ),
    "unknown type": (
        "registry",
        [org(org_type="cooperative")],
        "expect_column_values_to_be_in_set(org_type)",
    ),
    "unknown status": ("registry", [org(status="suspended")], "expect_column_values_to_be_in_set(status)"),
    "grade out of range": ("registry", [org(rating=7)], "expect_column_values_to_be_between(rating)"),
    "registered after the export": (
        "registry",
        [org(registered_on=LATER)],
        "expect_column_values_to_be_between(registered_on)",
    ),
    "city code malformed": (
        "registry",
        [org(city_code="32050")],
        "expect_column_values_to_match_regex(city_code)",
    ),
    "division unknown": (
        "registry",
        [org(division_code="999999")],
        "expect_column_values_to_be_known_division(division_code)",
    ),
    "code's division unknown": (
        "registry",
        [org(), org(credit_code=make_code("5", "1", "999999", RNG), source_row=3)],
        "expect_column_values_to_be_known_division(credit_code_division)",
        1,
    ),
    "association code invalid": (
        "membership",
        [member(association_credit_code=corrupt_check_character(GROUP))],
        "expect_column_values_to_be_valid_credit_code(association_credit_code)",
    ),
    "association not a social group": (
        "membership",
        [member(association_credit_code=FOUNDATION)],
        "expect_column_values_to_be_in_set(association_registry_standing)",
    ),
    "member code invalid": (
        "membership",
        [member(member_credit_code=corrupt_check_character(MEMBER))],
        "expect_column_values_to_be_valid_credit_code(member_credit_code)",
    ),
    "member twice": (
        "membership",
        [member(), member(source_row=3)],
        "expect_column_values_to_be_between(member_occurrences)",
    ),
    "member kind unknown": (
        "membership",
        [member(member_kind="robot")],
        "expect_column_values_to_be_in_set(member_kind)",
    ),
    "role unknown": ("membership", [member(role="patron")], "expect_column_values_to_be_in_set(role)"),
    "member status unknown": (
        "membership",
        [member(member_status="sleeping")],
        "expect_column_values_to_be_in_set(member_status)",
    ),
    "joined after the export": (
        "membership",
        [member(joined_on=LATER)],
        "expect_column_values_to_be_between(joined_on)",
    ),
    "enterprise unnamed": (
        "qualifications",
        [qualification(enterprise_name=None)],
        "expect_column_values_to_not_be_null(enterprise_name)",
    ),
    "enterprise code invalid": (
        "qualifications",
        [qualification(credit_code=corrupt_check_character(MEMBER))],
        "expect_column_values_to_be_valid_credit_code(credit_code)",
    ),
    "list kind unknown": (
        "qualifications",
        [qualification(qualification="famous")],
        "expect_column_values_to_be_in_set(qualification)",
    ),
    "year implausible": (
        "qualifications",
        [qualification(recognized_year=1950)],
        "expect_column_values_to_be_between(recognized_year)",
    ),
    **{
        f"project without {column}": (
            "funding",
            [project(**{column: None})],
            f"expect_column_values_to_not_be_null({column})",
        )
        for column in ("project_name", "purchaser", "provider_name", "amount")
    },
    "provider code invalid": (
        "funding",
        [project(provider_credit_code=corrupt_check_character(FOUNDATION))],
        "expect_column_values_to_be_valid_credit_code(provider_credit_code)",
    ),
    "amount negative": (
        "funding",
        [project(amount=Decimal("-1"))],
        "expect_column_values_to_be_between(amount)",
    ),
    "project year after the export": (
        "funding",
        [project(funded_year=2030)],
        "expect_column_values_to_be_between(funded_year)",
    ),
    **{
        f"{source} row naming no organization": (
            source,
            [make(org_name=None, credit_code=None)],
            "expect_column_values_to_not_be_null(org_key)",
        )
        for source, make in (("inspections", conclusion), ("annual_reports", report), ("credit_lists", entry))
    },
    **{
        f"{source} code invalid": (
            source,
            [make(credit_code=corrupt_check_character(GROUP))],
            "expect_column_values_to_be_valid_credit_code(credit_code)",
        )
        for source, make in (("inspections", conclusion), ("annual_reports", report), ("credit_lists", entry))
    },
    "conclusion unknown": (
        "inspections",
        [conclusion(result="excellent")],
        "expect_column_values_to_be_in_set(result)",
    ),
    "inspection year after the export": (
        "inspections",
        [conclusion(inspection_year=2030)],
        "expect_column_values_to_be_between(inspection_year)",
    ),
    "inspected after the export": (
        "inspections",
        [conclusion(inspected_on=dt.date(2024, 1, 1))],
        "expect_column_values_to_be_between(inspected_on)",
    ),
    "report year after the export": (
        "annual_reports",
        [report(report_year=2030)],
        "expect_column_values_to_be_between(report_year)",
    ),
    **{
        f"negative {column}": (
            "annual_reports",
            [report(**{column: -1})],
            f"expect_column_values_to_be_between({column})",
        )
        for column in ("full_time_staff", "volunteers", "members")
    },
    "negative expenses": (
        "annual_reports",
        [report(expense_total=Decimal("-5"))],
        "expect_column_values_to_be_between(expense_total)",
    ),
    "list unknown": (
        "credit_lists",
        [entry(list_kind="blacklist")],
        "expect_column_values_to_be_in_set(list_kind)",
    ),
    "included after the export": (
        "credit_lists",
        [entry(included_on=dt.date(2024, 1, 1))],
        "expect_column_values_to_be_between(included_on)",
    ),
    "removed after the export": (
        "credit_lists",
        [entry(removed_on=dt.date(2024, 1, 1))],
        "expect_column_values_to_be_between(removed_on)",
    ),
}


def test_every_expectation_has_a_case_that_fires_it():
    suites = set()
    for source in SOURCES:
        for exp in SUITES[source]():
            kwargs = exp.configuration.kwargs
            column = kwargs.get("column") or f"{kwargs.get('column_A')},{kwargs.get('column_B')}"
            suites.add(f"{source}: {exp.expectation_type}({column})")
    assert suites == {f"{source}: {expected}" for source, _, expected, *_ in CASES.values()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_expectation_fires(tmp_path, case):
    source, rows, expected, *count = CASES[case]
    night(tmp_path, {source: rows})
    unexpected = count[0] if count else len(rows)
    try:
        summary = validate_night(tmp_path, DATE)
        severity, messages = "warning", summary["warning_details"]
        assert summary["failed"] == 0
    except GateError as err:
        severity, messages = "error", str(err).splitlines()
        assert "Data Docs:" in str(err)
    failed = [m for m in messages if f"{source}: {expected} [{severity}] failed on {unexpected} of" in m]
    assert len(failed) == 1, messages
    # The message points at a failing row: its file and row number.
    assert any(f"{r['source_file']} row {r['source_row']}: " in failed[0] for r in rows), failed[0]


def test_expectations_count_rows_when_chunks_are_dictionary_encoded(tmp_path):
    # Forty members of one association that is not in the registry, one with a bad code; eight
    # organizations in an unknown division: repeated values reach GX as categoricals.
    rows = [
        member(member_credit_code=make_code("9", "1", "320583", random.Random(i)), source_row=i + 2)
        for i in range(40)
    ]
    rows[7]["member_credit_code"] = corrupt_check_character(rows[7]["member_credit_code"])
    stranger = make_code("5", "1", "320508", random.Random(99))
    rows = [{**r, "association_credit_code": stranger} for r in rows]
    orgs = [
        org(
            credit_code=make_code("5", "1", "320508", random.Random(i)),
            division_code="329999",
            source_row=i + 2,
        )
        for i in range(8)
    ]
    night(tmp_path, {"membership": rows, "registry": orgs})
    with pytest.raises(GateError) as err:
        validate_night(tmp_path, DATE)
    message = str(err.value)
    assert (
        "expect_column_values_to_be_in_set(association_registry_standing) [error] failed on 40 of 40"
        in message
    )
    assert "expect_column_values_to_be_valid_credit_code(association_credit_code)" not in message
    assert (
        "expect_column_values_to_be_valid_credit_code(member_credit_code) [error] failed on 1 of 40"
        in message
    )
    assert "row 9: " in message
    findings = json.loads((tmp_path / "runs" / DATE.isoformat() / "validation.json").read_text())["findings"]
    division = [f for f in findings if f["expectation"] == "expect_column_values_to_be_known_division"]
    assert {(f["column"], f["unexpected_count"]) for f in division} == {
        ("division_code", 8),
        ("credit_code_division", 0),
    }


def test_too_many_quarantined_rows_stop_the_run(tmp_path):
    night(tmp_path, {}, read=200, quarantined=180)
    with pytest.raises(
        GateError, match=r"registry: registry_320500_20231031.csv: 180 of 200 rows quarantined \(90.0%\); exp"
    ):
        validate_night(tmp_path, DATE)


def test_small_files_flooding_the_night_together_stop_the_run(tmp_path):
    night(tmp_path, {})
    _load_log(tmp_path, [(f"registry_32050{k}_20231031.csv", 50, 10) for k in range(3)])
    with pytest.raises(
        GateError, match=r"registry: the night: 30 of 150 rows quarantined \(20.0%\); expected at most 5%"
    ):
        validate_night(tmp_path, DATE)


def test_a_small_source_publishes_its_quarantined_rows_as_warnings(tmp_path):
    """1 bad row of an 8-row list is 12.5 %, but 8 rows are too few for a share to mean anything."""
    night(tmp_path, {}, read=8, quarantined=1)
    assert validate_night(tmp_path, DATE)["failed"] == 0


def test_a_source_with_every_row_quarantined_stops_however_small(tmp_path):
    night(tmp_path, {}, read=8, quarantined=8)
    with pytest.raises(GateError, match=r"registry: every one of the night's 8 rows was quarantined \("):
        validate_night(tmp_path, DATE)


def _load_log(data, files: list[tuple[str, int, int]]):
    """Replace the night's load log by registry files given as (name, rows read, rows quarantined)."""
    logs = []
    for name, read, bad in files:
        log = FileLoad("registry", DATE.isoformat(), name, "x", 1)
        log.rows_read, log.rows_loaded, log.rows_quarantined = read, read - bad, bad
        logs.append(log.as_row())
    [path] = partition(data, "load_log", DATE).glob("*.parquet")
    pq.write_table(pa.Table.from_pylist(logs, schema=LOAD_LOG_SCHEMA), path)


def test_one_flooded_file_stops_the_run_though_the_night_is_under_the_threshold(tmp_path):
    night(tmp_path, {})
    _load_log(
        tmp_path, [("registry_320500_20231031.csv", 2000, 0), ("registry_440300_20231031.csv", 200, 30)]
    )
    with pytest.raises(
        GateError,
        match=r"registry: registry_440300_20231031.csv: 30 of 200 rows quarantined \(15.0%\); expected at",
    ):
        validate_night(tmp_path, DATE)


def test_a_small_file_is_judged_with_the_night_only(tmp_path):
    night(tmp_path, {})
    _load_log(tmp_path, [("registry_320500_20231031.csv", 2000, 0), ("registry_440300_20231031.csv", 50, 20)])
    assert validate_night(tmp_path, DATE)["failed"] == 0


def _published(data, date):
    (data / "publish").mkdir(parents=True, exist_ok=True)
    (data / "publish" / "latest.json").write_text(json.dumps({"snapshot_date": date.isoformat()}))


def _orgs(n):
    return [
        org(credit_code=make_code("5", "1", "320508", random.Random(i)), source_row=i + 2) for i in range(n)
    ]


@pytest.mark.parametrize(("tonight", "fails"), [(100, False), (95, False), (94, True), (1, True)])
def test_a_registry_falling_below_the_last_good_snapshot_stops_the_run(tmp_path, tonight, fails):
    before = dt.date(2023, 10, 30)
    night(tmp_path, {"registry": _orgs(100)}, date=before)
    _published(tmp_path, before)
    night(tmp_path, {"registry": _orgs(tonight), "membership": [], "qualifications": []})
    if not fails:
        assert validate_night(tmp_path, DATE)["failed"] == 0
        return
    with pytest.raises(GateError) as err:
        validate_night(tmp_path, DATE)
    assert (
        f"registry: city 320500 has {tonight} organizations tonight but had 100 in the last good snapshot "
        f"(2023-10-30); expected a fall of at most 5%, came {(100 - tonight) / 100:.1%}" in str(err.value)
    )


def test_a_city_that_delivered_nothing_tonight_is_noted_not_stopped_for(tmp_path):
    from ingest.common.notes import night_notes

    before = dt.date(2023, 10, 30)
    night(tmp_path, {"registry": _orgs(100)}, date=before)
    _published(tmp_path, before)
    shenzhen = org(city_code="440300", credit_code=make_code("5", "1", "440304", random.Random(7)))
    night(tmp_path, {"registry": [shenzhen], "membership": [], "qualifications": []})
    assert validate_night(tmp_path, DATE)["failed"] == 0
    [note] = night_notes(tmp_path, DATE)
    assert note["kind"] == "cities_not_delivered"
    assert note["message"] == (
        "no registry rows tonight from city 320500 (had 100 in the last good snapshot, 2023-10-30): "
        "its organizations are not in tonight's figures"
    )


def test_a_duplicate_names_its_code_and_shows_plain_numbers(tmp_path):
    night(tmp_path, {"registry": [org(), org(source_file="registry_320500_20231031.v2.csv")]})
    with pytest.raises(GateError) as err:
        validate_night(tmp_path, DATE)
    message = str(err.value)
    assert (
        f"registry_320500_20231031.csv row 2: credit_code_occurrences = 2 (credit_code '{GROUP}')" in message
    )
    assert "np." not in message


def test_the_data_docs_index_lists_the_newest_nights_only(tmp_path, monkeypatch):
    """GX reads every result its index lists, every night: the index keeps SOCORG_DATA_DOCS_NIGHTS
    nights, the older nights' pages are kept beside the site's."""
    monkeypatch.setenv("SOCORG_DATA_DOCS_NIGHTS", "2")
    data = tmp_path / "a $HOME of its own"  # the path is not GX's to substitute in, twice or once
    nights = [DATE + dt.timedelta(days=k) for k in range(3)]
    for date in nights:
        night(data, {}, date=date)
        validate_night(data, date)
    index = (data / "docs" / "gx" / "index.html").read_text(encoding="utf-8")
    listed = {date for date in nights if f"{date.isoformat()}-registry-chunk1" in index}
    assert listed == set(nights[1:])
    earlier_pages = data / "docs" / "gx" / "earlier_validations"
    [page] = earlier_pages.glob(f"*/{nights[0].isoformat()}-registry-chunk1/*/*.html")
    assert 'href="../../../../index.html"' in page.read_text(encoding="utf-8")  # at the site's depth


def _stored_nights(folder):
    """The nights of the results (.json) or pages (.html) under a folder of GX's layout."""
    return sorted({p.parent.parent.name[:10] for p in folder.glob("*/*/*/*.*")})


def test_gx_keeps_the_results_its_index_lists_and_the_older_ones_are_set_aside(tmp_path, monkeypatch):
    """GX lists its whole validation store each time it builds Data Docs: the store keeps the results
    the index lists, the older ones are moved to runs/gx/earlier_validations/ whole, and come back
    when the index is set to list more nights."""
    monkeypatch.setenv("SOCORG_DATA_DOCS_NIGHTS", "2")
    gx, docs = tmp_path / "runs" / "gx", tmp_path / "docs" / "gx"
    store, earlier = gx / "validations", gx / "earlier_validations"
    site, earlier_pages = docs / "validations", docs / "earlier_validations"
    nights = [DATE + dt.timedelta(days=k) for k in range(4)]
    for date in nights:
        night(tmp_path, {}, date=date)
        validate_night(tmp_path, date)
        if date == nights[0]:
            first = {p.relative_to(store): p.read_bytes() for p in store.glob("*/*/*/*.json")}
    assert _stored_nights(store) == [d.isoformat() for d in nights[2:]]
    assert _stored_nights(earlier) == [d.isoformat() for d in nights[:2]]
    assert len(first) == len(SOURCES)  # one chunk a source
    assert {p: (earlier / p).read_bytes() for p in first} == first  # as they were
    assert _stored_nights(site) == _stored_nights(store)  # their pages with them
    assert _stored_nights(earlier_pages) == _stored_nights(earlier)
    monkeypatch.setenv("SOCORG_DATA_DOCS_NIGHTS", "10")
    validate_night(tmp_path, nights[3])  # the night validated again, the index wider
    assert _stored_nights(store) == [d.isoformat() for d in nights] and not _stored_nights(earlier)
    assert _stored_nights(site) == _stored_nights(store) and not _stored_nights(earlier_pages)
    index = (tmp_path / "docs" / "gx" / "index.html").read_text(encoding="utf-8")
    assert all(f"{d.isoformat()}-registry-chunk1" in index for d in nights)
    # A run stopped between a result's two moves left its page set aside: the next night puts it back.
    [page] = site.glob(f"*/{nights[1].isoformat()}-registry-chunk1/*/*.html")
    stranded = earlier_pages / page.relative_to(site)
    stranded.parent.mkdir(parents=True)
    page.rename(stranded)
    validate_night(tmp_path, nights[3])
    assert page.exists() and not stranded.exists()
    index = (tmp_path / "docs" / "gx" / "index.html").read_text(encoding="utf-8")
    assert f"{nights[1].isoformat()}-registry-chunk1" in index


def test_a_bad_data_docs_nights_setting_stops_the_gate_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SOCORG_DATA_DOCS_NIGHTS", "a fortnight")
    night(tmp_path, {})
    with pytest.raises(ValueError, match="DOCS_NIGHTS must be a whole number of nights, got 'a fortnight'"):
        validate_night(tmp_path, DATE)
    assert not (tmp_path / "runs" / "gx" / "validations").exists()  # stopped before validating


@pytest.mark.parametrize("setting", ["SOCORG_DATA_DOCS_NIGHTS", "SOCORG_KEEP_RAW_NIGHTS"])
def test_a_bad_nights_setting_stops_the_night_at_land_before_anything_is_landed(
    tmp_path, monkeypatch, setting
):
    from ingest.orchestration.stages import Night, land

    monkeypatch.setenv(setting, "a fortnight")
    exports = tmp_path / "exports" / "registry" / DATE.isoformat()
    exports.mkdir(parents=True)
    (exports / f"registry_440300_{DATE:%Y%m%d}.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(
        ValueError, match=f"{setting} must be a whole number of nights, got 'a fortnight'"
    ) as raised:
        land(Night(DATE, str(tmp_path / "exports"), tmp_path / "data"))
    assert not (tmp_path / "data" / "landing").exists()
    # Failed for good, not retried: land retries four times with backoff, and no retry mends a setting.
    assert isinstance(raised.value, SocorgError) and not getattr(raised.value, "retryable", False)
