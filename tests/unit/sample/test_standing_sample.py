"""Sample standing lists: read by the real parser, bad rows quarantined as the truth says."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest

from ingest.common.errors import ExportError
from ingest.parse.files import parse_file
from ingest.parse.readers import detect_encoding
from ingest.rules.layouts import layout_for
from ingest.sample.cities import read_seed
from ingest.sample.generate import write_sample

DATE = dt.date(2024, 3, 31)
STANDING = ("inspections", "annual_reports", "credit_lists")
INSPECTED = ("passed", "passed_with_remarks", "failed")


@dataclass
class Parsed:
    """One written file as the parser took it: loaded and quarantined rows, or the error refusing it."""

    source: str
    loaded: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    error: str | None = None


@pytest.fixture(scope="module")
def night(tmp_path_factory) -> tuple[Path, dict, dict[str, Parsed]]:
    out = tmp_path_factory.mktemp("standing")
    truth = write_sample(out, DATE, "all", seed=7)
    parsed = {}
    for source in STANDING:
        for path in sorted((out / source / DATE.isoformat()).iterdir()):
            parsed[path.name] = _parse(source, path, out)
    return out, truth, parsed


def _parse(source: str, path: Path, out: Path) -> Parsed:
    raw, quarantine = out / "_parsed" / "raw", out / "_parsed" / "quarantine"
    try:
        parse_file(path, path.name, layout_for(source, path.name), DATE, raw, quarantine, "sha")
    except ExportError as err:
        return Parsed(source, error=str(err))
    loaded, rejected = (folder / f"{path.stem}.parquet" for folder in (raw, quarantine))
    return Parsed(source, *(pq.read_table(p).to_pylist() if p.exists() else [] for p in (loaded, rejected)))


def test_every_bad_row_is_quarantined_with_the_reason_the_truth_gives(night):
    _, truth, parsed = night
    expected = {(q["file"], q["row"], q["reason"]) for q in truth["quarantine"] if q["source"] in STANDING}
    found = {(name, r["source_row"], r["reason"]) for name, p in parsed.items() for r in p.rejected}
    assert found == expected
    assert Counter(reason for _, _, reason in expected) == {
        "inspection_result_unknown": 1,
        "conflicting_result": 2,
        "year_after_export": 1,
        "amount_unparseable": 1,
        "removed_on_before_included_on": 1,
    }


@pytest.mark.parametrize("source", STANDING)
def test_every_written_row_is_loaded_or_quarantined(night, source):
    _, truth, parsed = night
    files = {name: p for name, p in parsed.items() if p.source == source}
    assert [p.error for p in files.values() if p.error] == []
    bad = sum(q["source"] == source for q in truth["quarantine"])
    assert sum(len(p.loaded) for p in files.values()) == truth["rows"][source] - bad
    assert sum(len(p.rejected) for p in files.values()) == bad


def test_inspection_figures_of_the_truth_are_those_of_the_loaded_lists(night):
    _, truth, parsed = night
    for code, city in truth["cities"].items():
        standing = city["standing"]
        latest = parsed[
            next(n for n in parsed if n.startswith(f"inspection_{code}_{standing['inspection_year']}"))
        ]
        known = [r for r in latest.loaded if r["org_name"] not in truth["standing_unmatched"]]
        counted = Counter(r["result"] for r in known if r["result"] in INSPECTED)
        assert standing["inspected_count"] == counted.total() > 800
        passed = (counted["passed"] + counted["passed_with_remarks"]) / counted.total()
        assert standing["inspection_passed_share"] == round(passed, 4)
        assert 0.95 < passed < 1
        assert {r["inspection_year"] for r in latest.loaded} == {DATE.year - 1}
    assert len(truth["standing_unmatched"]) == 1
    assert sum(r["org_name"] in truth["standing_unmatched"] for p in parsed.values() for r in p.loaded) == 1


def test_designated_associations_failing_the_inspection_are_not_in_good_standing(night):
    _, truth, parsed = night
    for code, city in truth["cities"].items():
        associations = {
            a["association_name"]: a["association_credit_code"]
            for a in read_seed("cluster_associations")
            if a["city_code"] == code
        }
        results: dict[str, dict[int, str]] = {}
        for name, p in parsed.items():
            if name.startswith(f"inspection_{code}_"):
                for r in p.loaded:
                    org = r["credit_code"] or associations.get(r["org_name"])
                    results.setdefault(org, {})[r["inspection_year"]] = r["result"]
        older, latest = DATE.year - 2, DATE.year - 1
        failing = {
            a
            for a in associations.values()
            if results.get(a, {}).get(latest) in ("failed", "not_inspected")
            or [results.get(a, {}).get(y) for y in (older, latest)] == ["passed_with_remarks"] * 2
            # left out of Suzhou's complete list, listed the year before: due, so not inspected
            or (code == "320500" and a in results and latest not in results[a])
        }
        not_in_good_standing = set(city["standing"]["associations_not_in_good_standing"])
        assert any(results.get(a, {}).get(latest) == "failed" for a in not_in_good_standing)
        assert failing < not_in_good_standing  # and those on a credit list
        assert len(not_in_good_standing) < 10


@pytest.fixture(scope="module")
def active(night) -> set[str]:
    """Credit codes of the organizations the night's registry files give as active (those standing counts)."""
    out = night[0]
    return {
        r["credit_code"]
        for path in sorted((out / "registry" / DATE.isoformat()).iterdir())
        for r in _parse("registry", path, out).loaded
        if r["status"] == "active"
    }


def test_a_credit_list_says_which_list_it_is_in_its_title_line(night, active):
    out, truth, parsed = night
    titled = {
        n: p for n, p in parsed.items() if n.startswith("credit_list_") and not _has_kind_column(out, n)
    }
    assert [p.error for p in titled.values() if p.error] == []
    assert {r["list_kind"] for p in titled.values() for r in p.loaded} == {"abnormal"}
    inactive = set()
    for code, city in truth["cities"].items():
        entries = [r for n, p in parsed.items() if n.startswith(f"credit_list_{code}_") for r in p.loaded]
        listed = {r["credit_code"] for r in entries if r["removed_on"] is None or r["removed_on"] > DATE}
        assert city["standing"]["on_credit_list_count"] == len(listed & active)
        assert any(r["removed_on"] for r in entries)  # one fixed, no longer on the list
        inactive |= listed - active
    assert inactive  # a listed organization since deregistered counts on no list


def _has_kind_column(out: Path, name: str) -> bool:
    """Whether a written credit list has a 名录类别 column (else its title line says which list it is)."""
    path = out / "credit_lists" / DATE.isoformat() / name
    if path.suffix == ".xlsx":
        sheet = openpyxl.load_workbook(path, read_only=True).active
        return any("名录类别" in line for line in sheet.iter_rows(max_row=3, values_only=True))
    return "名录类别" in path.read_bytes().decode(detect_encoding(path, ("utf-8", "gb18030")))


def test_a_list_kind_column_names_the_serious_violation_list(night):
    out, _, parsed = night
    column = [
        p for n, p in parsed.items() if n.startswith("credit_list_440300_") and _has_kind_column(out, n)
    ]
    assert len(column) == 1
    assert Counter(r["list_kind"] for r in column[0].loaded) == {"abnormal": 4, "serious_violation": 2}


def test_shenzhen_amounts_in_10000_yuan_are_read_in_yuan(night):
    out, _, parsed = night
    name = f"annual_report_440300_{DATE.year - 1}.xlsx"
    sheet = openpyxl.load_workbook(out / "annual_reports" / DATE.isoformat() / name, read_only=True).active
    lines = list(sheet.iter_rows(values_only=True))
    assert "单位：万元" in lines[0][0]
    headers = list(lines[1])
    written = {line[headers.index("统一社会信用代码")]: line for line in lines[2:]}
    rows = parsed[name].loaded
    assert len(rows) == len(written)
    for row in rows:
        line = written[row["credit_code"]]
        for column, header in (("income_total", "收入合计"), ("net_assets", "净资产合计")):
            assert row[column] == (Decimal(repr(line[headers.index(header)])) * 10_000).quantize(
                Decimal("0.01")
            )


@pytest.mark.parametrize("city", ["320500", "440300"])
def test_report_totals_are_the_sums_of_their_parts(night, city):
    _, _, parsed = night
    rows = parsed[next(n for n in parsed if n.startswith(f"annual_report_{city}_"))].loaded
    incomes = ("donation_income", "membership_dues", "service_income", "government_income")
    incomes += ("investment_income", "other_income")
    expenses = ("programme_expense", "admin_expense", "fundraising_expense")
    assert all(r["income_total"] == sum(r[c] for c in incomes) for r in rows)
    assert all(r["expense_total"] == sum(r[c] for c in expenses) for r in rows)
    assert all((r["members"] is not None) == r["credit_code"].startswith("51") for r in rows)
