"""Pure normalizers for export cells: dates, grades, enums, names, amounts and footers."""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from ingest.rules.typing_rules import (
    BRACKETS,
    DATE_SPELLINGS,
    EMPTY_VALUES,
    ENUMS,
    EXCEL_EPOCH,
    EXCEL_SERIAL,
    EXCEL_SERIAL_RANGE,
    GRADE_SPELLINGS,
    TIME_OF_DAY,
    UNIT_SCALES,
    label_key,
)

_DATE_PATTERNS = [re.compile(rf"^{spelling}$") for spelling in DATE_SPELLINGS]
_TIME_SUFFIX = re.compile(TIME_OF_DAY)


class CellError(ValueError):
    """A cell that cannot be read as its column's type; `reason` is a stable quarantine code."""

    def __init__(self, reason: str, value: object):
        super().__init__(f"{reason}: {value!r}")
        self.reason = reason
        self.value = value


def text(value: object) -> str | None:
    """Trimmed text of a cell, None when empty; numbers typed in Excel keep every digit.

    >>> text(" ＡＢ　")
    'ＡＢ'
    >>> text(91320500.0)
    '91320500'
    >>> text("N/A") is None
    True
    """
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    result = str(value).replace("\u3000", " ").strip()
    return None if result in EMPTY_VALUES else result


def halfwidth(value: str) -> str:
    """Fold full-width letters, digits and punctuation to their ASCII forms.

    >>> halfwidth("５Ａ（苏州）")
    '5A(苏州)'
    """
    return unicodedata.normalize("NFKC", value)


def parse_date(value: object) -> dt.date | None:
    """Read any date spelling seen in exports; None when empty.

    >>> {parse_date(v) for v in ["2019-03-05", "2019/3/5", "2019年3月5日", "20190305", 43529]}
    {datetime.date(2019, 3, 5)}
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _excel_serial(value)
    raw = text(value)
    if raw is None:
        return None
    raw = _TIME_SUFFIX.sub("", halfwidth(raw).strip()).replace(" ", "")
    for pattern in _DATE_PATTERNS:
        match = pattern.match(raw)
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                raise CellError("date_impossible", value) from None
    if re.fullmatch(EXCEL_SERIAL, raw):
        return _excel_serial(float(raw))
    raise CellError("date_unparseable", value)


def _excel_serial(serial: float) -> dt.date:
    if not EXCEL_SERIAL_RANGE[0] <= serial < EXCEL_SERIAL_RANGE[1]:
        raise CellError("date_unparseable", serial)
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))


def parse_grade(value: object) -> int | None:
    """Evaluation grade 1–5 from `5A`, `AAAAA`, `5A级`, `５Ａ`; None when not evaluated.

    >>> [parse_grade(v) for v in ["5A", "AAAAA", "5A级", "５Ａ", "3a", "", "未评估", "4A级（2021年）"]]
    [5, 5, 5, 5, 3, None, None, 4]
    """
    raw = text(value)
    if raw is None:
        return None
    found = lookup_label(raw.upper(), GRADE_SPELLINGS)
    if found is _UNKNOWN:
        raise CellError("grade_unknown", value)
    return found


_UNKNOWN = object()


def lookup_label(raw: str, mapping: dict):
    """The value `mapping` gives a label: its spelling as listed (half-width, without spaces), else
    compared by meaning (label_key: quotes, brackets, annotations, a trailing 级); _UNKNOWN if neither.
    """
    key = halfwidth(raw).replace(" ", "")
    if key in mapping:
        return mapping[key]
    return _folded(tuple(mapping.items())).get(label_key(raw), _UNKNOWN)


@functools.lru_cache(maxsize=32)
def _folded(spellings: tuple) -> dict:
    """A mapping's spellings by label_key (built once per content of the mapping)."""
    return {label_key(spelling): value for spelling, value in spellings}


def enum(mapping: dict[str, str], reason: str):
    """Build a normalizer that maps spellings to canonical values, raising `reason` otherwise."""

    def normalize(value: object) -> str | None:
        raw = text(value)
        if raw is None:
            return None
        found = lookup_label(raw, mapping)
        if found is _UNKNOWN:
            raise CellError(reason, value)
        return found

    return normalize


parse_org_type = enum(*ENUMS["org_type"])
parse_org_status = enum(*ENUMS["org_status"])
parse_member_kind = enum(*ENUMS["member_kind"])
parse_member_role = enum(*ENUMS["member_role"])
parse_member_status = enum(*ENUMS["member_status"])
parse_qualification = enum(*ENUMS["qualification"])
parse_inspection_result = enum(*ENUMS["inspection_result"])
parse_credit_list_kind = enum(*ENUMS["credit_list_kind"])


_FOREIGN = ("美元", "港元", "港币", "欧元", "日元", "英镑")


def _written_amount(value: object) -> tuple[str, str | None] | None:
    """A cell's number as written, without separators, spaces and units, and the unit it names (`万元`,
    `元` or None); a foreign currency is refused."""
    raw = text(value)
    if raw is None:
        return None
    cleaned = re.sub(r"[,，\s]", "", halfwidth(raw))
    if any(currency in cleaned for currency in _FOREIGN):
        raise CellError("amount_foreign_currency", value)
    unit = "万元" if "万" in cleaned else "元" if "元" in cleaned else None
    return re.sub(r"人民币|万|元|\(\)", "", cleaned), unit


def parse_amount(value: object) -> Decimal | None:
    """An amount in 10,000 CNY from `1,000`, `50.5`, `30万元`, `530万人民币`, `51(万元人民币)`.

    Foreign currencies and negative amounts are rejected with their own reasons.

    >>> parse_amount("1,000.50"), parse_amount("530万人民币"), parse_amount("59.3000(万人民币元)")
    (Decimal('1000.5000'), Decimal('530.0000'), Decimal('59.3000'))
    """
    written = _written_amount(value)
    if written is None:
        return None
    number, unit = written
    try:
        amount = Decimal(re.sub(r"[()]", "", number))
    except InvalidOperation:
        raise CellError("amount_unparseable", value) from None
    if amount < 0:
        raise CellError("amount_negative", value)
    return (amount / 10000 if unit == "元" else amount).quantize(Decimal("0.0001"))


class Scaled(NamedTuple):
    """A money cell under a header or title line that gives its unit: the cell and what one unit is in 元."""

    value: object
    scale: int


class Parts(tuple):
    """The cells of every header a `sum` column adds (restricted and unrestricted amounts)."""


def parse_money(value: object) -> Decimal | None:
    """An amount in 元 (signed) from `1,234.50`, `-26127.48`, `(1,234.00)`, `12.5万`, `3万元`, `800元`.

    A cell's own unit wins over its header's or title line's (Scaled).

    >>> parse_money("1,234.5"), parse_money("12.5万元"), parse_money(Scaled("1.2", 10000)), parse_money("(3)")
    (Decimal('1234.50'), Decimal('125000.00'), Decimal('12000.00'), Decimal('-3.00'))
    """
    scale = 1
    if isinstance(value, Scaled):
        value, scale = value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (Decimal(repr(value)) * scale).quantize(Decimal("0.01"))
    written = _written_amount(value)
    if written is None:
        return None
    number, unit = written
    scale = UNIT_SCALES[unit] if unit else scale
    negative = re.fullmatch(r"\((.+)\)", number)  # accounting style: (1,234.00) is a loss
    try:
        amount = -Decimal(negative.group(1)) if negative else Decimal(number)
    except InvalidOperation:
        raise CellError("amount_unparseable", value) from None
    if not amount.is_finite():
        raise CellError("amount_unparseable", value)
    return (amount * scale).quantize(Decimal("0.01"))


def parse_count(value: object) -> int | None:
    """A number of people from `12`, `12人`, 12.0; negative or fractional counts are refused.

    >>> parse_count("1,200人"), parse_count(35.0)
    (1200, 35)
    """
    raw = text(value) if not isinstance(value, int | float) else repr(value)
    if raw is None:
        return None
    match = re.fullmatch(r"(\d+)(?:\.0+)?[人名个]?", re.sub(r"[,，\s]", "", halfwidth(raw)))
    if not match:
        raise CellError("count_invalid", value)
    return int(match.group(1))


def parse_year(value: object) -> int | None:
    """A four-digit year from `2023`, `2023年`, 2023.0.

    >>> parse_year("2023年")
    2023
    """
    raw = text(value)
    if raw is None:
        return None
    match = re.fullmatch(r"(\d{4})年?度?", halfwidth(raw))
    if not match:
        raise CellError("year_unparseable", value)
    return int(match.group(1))


_BRACKETS = str.maketrans(BRACKETS)


@functools.cache
def traditional_to_simplified() -> dict[int, str]:
    """Character table traditional → simplified (zh-cn), from zhconv's dictionaries.

    Character by character, not phrase by phrase: a matching key must be the same wherever it is
    computed (here, or in DuckDB by ingest.parse.fast), and one table gives that.
    """
    from zhconv import zhconv

    zhconv.loaddict()
    characters = set("".join([*zhconv.zhcdicts["zh2Hans"], *zhconv.zhcdicts["zh2CN"]]))
    table = {c: zhconv.convert(c, "zh-cn") for c in characters}
    return str.maketrans({c: s for c, s in table.items() if c != s and len(s) == 1})


def normalize_name(value: str) -> str:
    """Matching form of a name: half-width, simplified Chinese, one bracket style, no spaces.

    >>> normalize_name("深圳市新材料行業協會（籌）")
    '深圳市新材料行业协会(筹)'
    """
    folded = halfwidth(value).translate(_BRACKETS).translate(traditional_to_simplified())
    return re.sub(r"\s+", "", folded)


# What a count of rows is counted in: records, organizations, enterprises, projects (a funding list).
_COUNTED = r"(?:条|个|家|户|项|个项目|名)?"
_FOOTER = re.compile(rf"^(?:合计|总计|共计|共)[:：\s]*([\d,]+)\s*{_COUNTED}(?:记录)?$")
_TOTAL_LABEL = re.compile(r"^(?:合计|总计|共计)[:：]?$")
_TOTAL_COUNT = re.compile(rf"^([\d,]+)\s*{_COUNTED}$")

# What offices write below the data besides the total: who made, checked and signs the export, how to
# reach them, when, and notes. These lines may name a person or a phone: they are never data.
FOOTER_LABELS = (
    "制表人", "制表", "填表人", "填报人", "审核人", "审核", "复核人", "复核", "审批人", "负责人",
    "单位负责人", "主管领导", "经办人", "联系人", "联系电话", "电话", "手机", "注", "备注", "说明",
    "填报日期", "制表日期", "填表日期", "报送日期", "导出日期", "打印日期", "日期", "制表单位", "单位盖章",
    "盖章",
)  # fmt: skip
_FOOTER_LABEL = re.compile(rf"^(?:{'|'.join(sorted(FOOTER_LABELS, key=len, reverse=True))})\s*[:：]")


def footer_total(value: object) -> int | None:
    """The control total of a footer cell such as `合计：7724` or `共 7724 条`, else None.

    >>> footer_total("合计：7724"), footer_total("共 7724 条"), footer_total("苏州")
    (7724, 7724, None)
    """
    raw = text(value)
    if raw is None:
        return None
    match = _FOOTER.match(halfwidth(raw).strip())
    return int(match.group(1).replace(",", "")) if match else None


def footer_line(filled: list[object]) -> tuple[bool, int | None]:
    """Whether a row's filled cells are a footer line, and the control total it states.

    A footer line is a total (`合计：7724`, `共 7724 条`, `合计 | 7724`), signatures and notes
    (`制表人：…`, `审核人：…`, `联系电话：…`, `注：…`), a date, or several of these side by side.

    >>> footer_line(["合计", "7,724"]), footer_line(["制表人：王某", "审核人：李某", "2023年10月31日"])
    ((True, 7724), (True, None))
    >>> footer_line(["共 42 条", "联系电话：0512-1234567"]), footer_line(["51320500MJ0000000X", "甲协会"])
    ((True, 42), (False, None))
    >>> footer_line(["合计：13 项"]), footer_line(["合计", "5,620.3"])
    ((True, 13), (True, None))
    >>> footer_line(["合计", "13", "5620.3万元"])
    (True, 13)
    """
    # Each cell folded when it is looked at: a data row is told apart at its first cell or two.
    first = _footer_text(filled[0]) if filled else ""
    if filled and _TOTAL_LABEL.match(first) and 2 <= len(filled) <= 3:
        texts = [first, *map(_footer_text, filled[1:])]
        counts = [m for t in texts[1:] if (m := _TOTAL_COUNT.match(t))]
        # a total line summing an amount column (`合计 | 5,620.3`, `合计 | 5620.3万元`): no row count
        amounts = [t for t in texts[1:] if not _TOTAL_COUNT.match(t) and _is_amount(t)]
        if len(counts) + len(amounts) == len(texts) - 1 and len(counts) <= 1:
            return True, int(counts[0].group(1).replace(",", "")) if counts else None
    total = None
    for i, value in enumerate(filled):
        cell = _footer_text(value) if i else first
        found = footer_total(cell)
        if found is not None:
            total = found if total is None else total
        elif not (_FOOTER_LABEL.match(cell) or _is_date(cell)):
            return False, None
    return True, total


def _footer_text(cell: object) -> str:
    """A cell as footer_line reads it: trimmed text, full-width forms folded."""
    return halfwidth(text(cell) or "").strip()


def _is_amount(cell: str) -> bool:
    """A cell parse_amount reads as an amount (`5,620.3`, `5620.3万元`, `530万人民币`)."""
    try:
        return parse_amount(cell) is not None
    except CellError:
        return False


def _is_date(cell: str) -> bool:
    """A cell that is a date written out (a signature's date), not a number that could be one."""
    if re.fullmatch(r"[\d.,]+", cell):  # a number (a day number, an amount), not a written date
        return False
    try:
        return parse_date(cell) is not None
    except CellError:
        return False
