"""The standing sources' parse rules, one test per rule and edge: conclusions as offices spell them, two
conclusions for one organization, years and removals out of order, amounts in 元 or 万元, the list a
credit list file is by its title line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingest.parse.cells import CellError, Parts, Scaled, parse_count, parse_money
from ingest.parse.files import parse_file
from ingest.rules.layouts import layout_for

DATE = dt.date(2024, 3, 1)


def parse(tmp_path: Path, source: str, name: str, text: str, encoding: str = "utf-8"):
    """A file written as an office would, parsed: (load, loaded rows, quarantined rows)."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    layout = layout_for(source, name)
    load = parse_file(path, name, layout, DATE, tmp_path / "raw", tmp_path / "quarantine", "-")
    stem = name.rsplit(".", 1)[0]
    loaded = pq.read_table(tmp_path / "raw" / f"{stem}.parquet").to_pylist()
    quarantined = pq.read_table(tmp_path / "quarantine" / f"{stem}.parquet").to_pylist()
    return load, loaded, quarantined


def test_conclusions_as_offices_spell_them_and_one_no_rule_knows(tmp_path):
    text = (
        "苏州市民政局关于2023年度社会组织年检结果的公告\n"
        "序号,社会组织名称,统一社会信用代码,年检结论,法定代表人\n"
        "1,苏州市甲协会,,年检合格,张三\n"
        "2,苏州市乙协会,,基本合格（整改）,李四\n"
        "3,苏州市丙协会,,不合格(限期整改),王五\n"
        "4,苏州市丁协会,,未参加年检,赵六\n"
        "5,苏州市戊协会,,优秀,钱七\n"
    )
    load, loaded, quarantined = parse(tmp_path, "inspections", "inspection_320500_2023.csv", text, "gb18030")
    assert [(r["org_name"], r["result"], r["inspection_year"], r["authority"]) for r in loaded] == [
        ("苏州市甲协会", "passed", 2023, "320500"),
        ("苏州市乙协会", "passed_with_remarks", 2023, "320500"),
        ("苏州市丙协会", "failed", 2023, "320500"),
        ("苏州市丁协会", "not_inspected", 2023, "320500"),
    ]
    assert [(q["reason"], q["value"]) for q in quarantined] == [("inspection_result_unknown", "优秀")]
    assert "legal_representative" not in loaded[0] and "张三" not in str(quarantined)


def test_one_organization_with_two_conclusions_is_quarantined_twice_and_a_copied_row_once(tmp_path):
    text = "社会组织名称,年检结论\n甲协会,合格\n乙协会,不合格\n丙协会,合格\n乙协会,合格\n丙协会,合格\n"
    load, loaded, quarantined = parse(tmp_path, "inspections", "inspection_320500_2023.csv", text)
    assert [r["org_name"] for r in loaded] == ["甲协会", "丙协会"]
    assert sorted((q["source_row"], q["reason"], q["value"]) for q in quarantined) == [
        (3, "conflicting_result", "不合格"),
        (5, "conflicting_result", "合格"),
        (6, "duplicate_inspection_key", "丙协会|2023"),
    ]
    assert load.rows_read == load.rows_loaded + load.rows_quarantined == 5


def test_a_year_after_the_export_and_a_list_covering_several_years(tmp_path):
    text = "社会组织名称,年检年度,年检结论\n甲协会,2022,合格\n甲协会,2023年,基本合格\n乙协会,2025,合格\n"
    _, loaded, quarantined = parse(tmp_path, "inspections", "inspection_320500_2023.csv", text)
    assert [(r["inspection_year"], r["result"]) for r in loaded] == [
        (2022, "passed"),
        (2023, "passed_with_remarks"),
    ]
    assert [(q["reason"], q["value"]) for q in quarantined] == [("year_after_export", "2025")]


def test_a_credit_list_is_the_list_its_title_line_names_and_a_removal_may_not_precede_inclusion(tmp_path):
    text = (
        "苏州市民政局社会组织活动异常名录（2024年第1批）\n"
        "序号,社会组织名称,统一社会信用代码,列入日期,列入原因,作出决定机关,移出日期\n"
        "1,甲协会,,2024-01-05,未按规定参加年检,苏州市民政局,\n"
        "2,乙协会,,2023年6月1日,通过登记的住所无法取得联系,苏州市民政局,2024-02-01\n"
        "3,丙协会,,2024-01-05,未按规定参加年检,苏州市民政局,2023-12-01\n"
    )
    _, loaded, quarantined = parse(tmp_path, "credit_lists", "credit_list_320500_20240110.csv", text)
    assert [(r["org_name"], r["list_kind"], r["included_on"], r["removed_on"]) for r in loaded] == [
        ("甲协会", "abnormal", dt.date(2024, 1, 5), None),
        ("乙协会", "abnormal", dt.date(2023, 6, 1), dt.date(2024, 2, 1)),
    ]
    assert [(q["reason"], q["column_name"]) for q in quarantined] == [
        ("removed_on_before_included_on", "removed_on")
    ]


def test_a_list_column_wins_over_the_title_and_a_serious_violation_list_is_named_so(tmp_path):
    text = (
        "社会组织名称,名录类别,列入日期\n"
        "甲协会,严重违法失信名单,2024-01-05\n"
        "乙协会,,2024-01-05\n"
        "丙协会,黑名单,2024-01-05\n"
    )
    _, loaded, quarantined = parse(tmp_path, "credit_lists", "credit_list_320500_20240110.csv", text)
    assert [(r["org_name"], r["list_kind"]) for r in loaded] == [("甲协会", "serious_violation")]
    assert sorted(q["reason"] for q in quarantined) == ["credit_list_kind_unknown", "list_kind_missing"]


def test_amounts_in_yuan_in_wan_yuan_by_header_or_title_line_and_not_a_number(tmp_path):
    header = "社会组织名称,年度,捐赠收入,收入合计（万元）,投资收益,专职工作人员数,会员数\n"
    rows = '甲协会,2023,"1,200.50",12.5,(300),5人,120\n乙协会,2023,待核,1,0,3,\n'
    _, loaded, quarantined = parse(tmp_path, "annual_reports", "annual_report_320500_2023.csv", header + rows)
    first = loaded[0]
    assert (first["donation_income"], first["income_total"], first["investment_income"]) == (
        Decimal("1200.50"),
        Decimal("125000.00"),
        Decimal("-300.00"),
    )
    assert (first["full_time_staff"], first["members"], first["report_year"]) == (5, 120, 2023)
    assert [(q["reason"], q["column_name"], q["value"]) for q in quarantined] == [
        ("amount_unparseable", "donation_income", "待核")
    ]
    titled = "深圳市社会组织2023年度工作报告主要数据（单位：万元）\n" + header.replace("（万元）", "") + rows
    (tmp_path / "titled").mkdir()
    _, loaded, _ = parse(tmp_path / "titled", "annual_reports", "annual_report_440300_2023.csv", titled)
    assert (loaded[0]["donation_income"], loaded[0]["income_total"]) == (
        Decimal("12005000.00"),
        Decimal("125000.00"),
    )


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1,234.5", Decimal("1234.50")),
        ("12.5万元", Decimal("125000.00")),
        ("800元", Decimal("800.00")),
        (Scaled("800元", 10000), Decimal("800.00")),  # a cell's own unit wins over its header's
        (Scaled(1.5, 10000), Decimal("15000.00")),
        ("-26127.48", Decimal("-26127.48")),
        (None, None),
        ("-", None),
    ],
)
def test_money_cells(cell, expected):
    assert parse_money(cell) == expected


@pytest.mark.parametrize("cell", ["待核", "12美元", "1.2.3"])
def test_money_cells_that_are_not_amounts(cell):
    with pytest.raises(CellError):
        parse_money(cell)


def test_count_cells():
    assert [parse_count(x) for x in ("12", "1,200人", 35.0, None)] == [12, 1200, 35, None]
    for bad in ("-3", "2.5", "许多"):
        with pytest.raises(CellError, match="count_invalid"):
            parse_count(bad)


def test_a_sum_column_adds_its_parts_and_is_null_only_when_all_are_empty():
    from ingest.parse.rows import _typed
    from ingest.rules.layouts import Column

    column = Column("donation_income", "money", ("fa_dine", "fa_dinu"), sum=True)
    assert _typed(column, Parts(("2722959.19", "1937360.0"))) == Decimal("4660319.19")
    assert _typed(column, Parts(("", "5"))) == Decimal("5.00")
    assert _typed(column, Parts(("", None))) is None


def test_a_credit_list_naming_its_list_nowhere_is_refused_saying_where_it_may_be_named(tmp_path):
    from ingest.common.errors import ExportError

    text = "序号,社会组织名称,列入日期\n1,甲协会,2024-01-05\n"
    with pytest.raises(ExportError) as refused:
        parse(tmp_path, "credit_lists", "credit_list_320500_20240110.csv", text)
    message = str(refused.value)
    assert "credit_list_320500_20240110.csv" in message and "list_kind (名录类别" in message
    assert "or a title line above the header naming it (严重违法失信 / 活动异常" in message
