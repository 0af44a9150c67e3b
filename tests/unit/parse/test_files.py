"""Parsing export files: header search, encodings, footers, quarantine reasons, clear errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest

from ingest.common.errors import ExportError
from ingest.parse.files import parse_file
from ingest.rules.layouts import load_layout

DATE = dt.date(2023, 10, 31)
REGISTRY = load_layout("registry")
MEMBERSHIP = load_layout("membership")
GOOD = "51320500MJ0000000X"  # placeholder, replaced below by a valid code
HEADER = "序号,统一社会信用代码,社会组织名称,社会组织类型,成立登记日期,登记状态,评估等级,法定代表人,联系电话"


def valid_codes(n: int) -> list[str]:
    import random

    from ingest.rules.creditcode import make_code

    rng = random.Random(5)
    return [make_code("5", "1", "320508", rng) for _ in range(n)]


def parse(tmp_path: Path, name: str, content: bytes | None = None, layout=REGISTRY, path=None):
    if path is None:
        path = tmp_path / name
        path.write_bytes(content)
    load = parse_file(path, name, layout, DATE, tmp_path / "raw", tmp_path / "quarantine", "sha")
    stem = name.rsplit(".", 1)[0]
    loaded = pq.read_table(tmp_path / "raw" / f"{stem}.parquet").to_pylist()
    rejected = pq.read_table(tmp_path / "quarantine" / f"{stem}.parquet").to_pylist()
    return load, loaded, rejected


def test_title_row_footer_and_gb18030(tmp_path):
    a, b = valid_codes(2)
    text = (
        "苏州市社会组织登记信息（截至2023年10月31日）\r\n"
        f"{HEADER}\r\n"
        f"1,{a},苏州市围棋协会,社会团体,2019年3月5日,正常,ＡＡＡ,张三,13900000000\r\n"
        f"2,{b.lower()},苏州市姑苏区养老服务中心,民办非企业单位,43529,存续,,李四,13900000001\r\n"
        "合计：2\r\n"
    )
    load, loaded, rejected = parse(tmp_path, "registry_320500_20231031.csv", text.encode("gb18030"))
    assert (load.encoding, load.header_row, load.title_rows, load.footer_total) == (
        "gb18030",
        2,
        1,
        2,
    )
    assert (load.rows_read, load.rows_loaded, load.rows_quarantined) == (2, 2, 0)
    assert [r["credit_code"] for r in loaded] == [a, b]
    assert loaded[0]["rating"] == 3 and loaded[1]["org_type"] == "social_service_org"
    assert loaded[1]["registered_on"] == dt.date(2019, 3, 5)
    assert loaded[0]["city_code"] == "320500" and loaded[0]["source_row"] == 3
    assert "legal_representative" not in loaded[0] and "phone" not in loaded[0]
    assert rejected == []


def test_bad_rows_are_quarantined_with_reasons_and_counts_add_up(tmp_path):
    a, b, c = valid_codes(3)
    wrong = a[:17] + ("0" if a[17] != "0" else "1")
    rows = [
        f"1,{a},甲协会,社会团体,2019-01-01,正常,,,",
        f"2,{wrong},乙协会,社会团体,2019-01-01,正常,,,",
        f"3,{b},丙协会,民间组织,2019-01-01,正常,,,",
        f"4,{c},丁协会,社会团体,去年,正常,,,",
        f"5,{a},戊协会,社会团体,2019-01-01,正常,,,",
        f"6,{c},己协会,社会团体,2019-01-01,正常,6A,,",
    ]
    load, loaded, rejected = parse(
        tmp_path,
        "registry_320500_20231031.csv",
        ("\ufeff" + HEADER + "\n" + "\n".join(rows)).encode(),
    )
    assert load.encoding == "utf-8-sig"
    assert load.rows_read == load.rows_loaded + load.rows_quarantined == 6
    assert load.quarantine_reasons == {
        "credit_code_check_character": 1,
        "date_unparseable": 1,
        "duplicate_credit_code": 1,
        "grade_unknown": 1,
        "org_type_unknown": 1,
    }
    assert [r["org_name"] for r in loaded] == ["甲协会"]
    assert {(r["source_row"], r["reason"], r["column_name"]) for r in rejected} == {
        (3, "credit_code_check_character", "credit_code"),
        (4, "org_type_unknown", "org_type"),
        (5, "date_unparseable", "registered_on"),
        (6, "duplicate_credit_code", "credit_code"),
        (7, "grade_unknown", "rating"),
    }


def test_xlsx_with_numbers_where_text_is_expected(tmp_path):
    (a,) = valid_codes(1)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["会员名单"])
    sheet.append(
        [
            "序号",
            "企业名称",
            "信用代码",
            "会员类型",
            "职务",
            "入会时间",
            "状态",
            "联系人",
            "联系电话",
        ]
    )
    sheet.append(
        [
            1,
            "瑞达医疗器械（苏州）有限公司",
            a,
            "单位会员",
            "会长单位",
            43529,
            "正常",
            "王五",
            13912345678,
        ]
    )
    sheet.append([2, "王六", None, "个人会员", "会员", dt.datetime(2020, 1, 2), "正常", "王六", 13912345679])
    sheet.append(
        [
            3,
            "恒达科技有限公司",
            5.232050857188555e17,
            "单位会员",
            "理事单位",
            "2020/1/2",
            "已退会",
            "",
            "",
        ]
    )
    sheet.append(["共 3 条"])
    name = f"membership_{a.lower()}_20231031.xlsx"
    book.save(tmp_path / name)
    load, loaded, rejected = parse(tmp_path, name, layout=MEMBERSHIP, path=tmp_path / name)
    assert (load.rows_read, load.rows_loaded, load.footer_total) == (3, 2, 3)
    assert loaded[0]["association_credit_code"] == a
    assert loaded[0]["member_name"] == "瑞达医疗器械(苏州)有限公司"
    assert loaded[0]["joined_on"] == dt.date(2019, 3, 5) and loaded[0]["role"] == "president"
    assert loaded[1]["member_kind"] == "individual" and loaded[1]["member_name"] is None
    assert [r["reason"] for r in rejected] == ["credit_code_typed_as_number"]
    assert "王五" not in str(loaded) and "13912345678" not in str(loaded)


# A whole registry export of more than the 1 MiB its encoding is sniffed from, every line ended.
BIG = (
    "统一社会信用代码,社会组织名称,社会组织类型,登记状态\n"
    + "513205086765995196,苏州市围棋协会,社会团体,正常\n" * 25000
).encode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"abc,\x80\xff,def\n" * 10, "cannot be decoded as any of utf-8, gb18030"),
        ("名称,地址\n甲,乙\n".encode(), "lacks required column credit_code"),
        (b"foo,bar\n1,2\n", "no recognizable header row"),
        (
            "统一社会信用代码,信用代码,社会组织名称,社会组织类型,登记状态\n".encode(),
            "more than one column for credit_code",
        ),
        # Landed while still being written: larger than the encoding sniff, cut in a character or a row.
        (
            BIG + "51320508148842327H,苏州市摄影学会,社会团体,正".encode()[:-1],
            "incomplete: its last line ends inside",
        ),
        (
            BIG + "51320508148842327H,苏州市摄影学会".encode(),
            "incomplete: its last line has no line end and 2 of",
        ),
        (
            b"\xef\xbb\xbf" + BIG + b"513205086765995196," + b"x" * 70000,
            "no line end and 2 of the header's 4",
        ),
    ],
)
def test_bad_files_raise_one_clear_error(tmp_path, content, message):
    with pytest.raises(ExportError) as err:
        parse(tmp_path, "registry_320500_20231031.csv", content)
    assert "registry_320500_20231031.csv" in str(err.value)
    assert message in str(err.value)
    assert not any((tmp_path / "raw").glob("*.parquet"))


@pytest.mark.parametrize(
    "last",
    ["合计：1", '"甲协会\n第二行",社会团体,2019-01-01,正常,,,'],
    ids=["footer", "quoted newline"],
)
def test_a_whole_file_without_a_final_line_end_loads(tmp_path, last):
    (a,) = valid_codes(1)
    if last.startswith('"'):
        last = f"1,{a}," + last
        text = f"{HEADER}\n{last}"
    else:
        text = f"{HEADER}\n1,{a},甲协会,社会团体,2019-01-01,正常,,,\n{last}"
    load, loaded, rejected = parse(tmp_path, "registry_320500_20231031.csv", text.encode())
    assert (load.rows_read, load.rows_loaded, rejected) == (1, 1, [])


def test_footer_total_that_disagrees_stops_the_file_and_leaves_nothing(tmp_path):
    (a,) = valid_codes(1)
    text = f"{HEADER}\n1,{a},甲协会,社会团体,2019-01-01,正常,,,\n共 5 条\n"
    with pytest.raises(ExportError, match="footer control total says 5 rows but the file holds 1"):
        parse(tmp_path, "registry_320500_20231031.csv", text.encode())
    assert list((tmp_path / "raw").glob("*")) == []
