"""Cell normalizers, table-driven with literal inputs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ingest.parse import cells as n

D = dt.date(2019, 3, 5)


@pytest.mark.parametrize(
    "raw",
    [
        "2019-03-05",
        "2019/3/5",
        "2019年3月5日",
        "20190305",
        43529,
        "43529",
        "２０１９－０３－０５",
        dt.datetime(2019, 3, 5, 10, 30),
        "2019-03-05 00:00:00",
        "2019.3.5",
    ],
)
def test_every_date_spelling(raw):
    assert n.parse_date(raw) == D


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("去年三月", "date_unparseable"),
        ("2019-3", "date_unparseable"),
        ("2023-02-30", "date_impossible"),
    ],
)
def test_bad_dates_have_reasons(raw, reason):
    with pytest.raises(n.CellError) as err:
        n.parse_date(raw)
    assert err.value.reason == reason


@pytest.mark.parametrize(
    ("raw", "grade"),
    [
        ("5A", 5),
        ("AAAAA", 5),
        ("5A级", 5),
        ("５Ａ", 5),
        ("3a", 3),
        ("AAA", 3),
        ("", None),
        ("未评估", None),
    ],
)
def test_grades(raw, grade):
    assert n.parse_grade(raw) == grade


def test_unknown_grade_is_rejected():
    with pytest.raises(n.CellError, match="grade_unknown"):
        n.parse_grade("6A")


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("社会团体", "social_group"),
        ("民办非企业单位", "social_service_org"),
        ("社会服务机构", "social_service_org"),
        ("基金会", "foundation"),
    ],
)
def test_org_types(raw, canonical):
    assert n.parse_org_type(raw) == canonical


def test_unknown_org_type():
    with pytest.raises(n.CellError, match="org_type_unknown"):
        n.parse_org_type("民间组织")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("深圳市新材料行業協會", "深圳市新材料行业协会"),
        ("瑞达医疗器械（苏州）有限公司", "瑞达医疗器械(苏州)有限公司"),
        ("瑞达医疗器械【苏州】有限公司", "瑞达医疗器械(苏州)有限公司"),
        ("瑞达 医疗器械有限公司　", "瑞达医疗器械有限公司"),
        ("ＡＢＣ科技有限公司", "ABC科技有限公司"),
    ],
)
def test_name_variants_normalize_alike(a, b):
    assert n.normalize_name(a) == n.normalize_name(b)


@pytest.mark.parametrize(
    ("raw", "amount"),
    [("1,000", Decimal("1000")), ("35.5万元", Decimal("35.5")), ("50", Decimal("50"))],
)
def test_amounts(raw, amount):
    assert n.parse_amount(raw) == amount


def test_negative_amount_rejected():
    with pytest.raises(n.CellError, match="amount_negative"):
        n.parse_amount("-5")


@pytest.mark.parametrize(
    ("raw", "total"),
    [("合计：7724", 7724), ("共 7724 条", 7724), ("合计:1,234", 1234), ("苏州市", None)],
)
def test_footers(raw, total):
    assert n.footer_total(raw) == total


def test_numbers_typed_in_excel_keep_their_digits():
    assert n.text(13912345678.0) == "13912345678"
    assert n.text(320508) == "320508"
