"""Sample standing lists spelled into files as each bureau lays them out, and the personal values written."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from ingest.sample.exportfile import ExportTable
from ingest.sample.names import GIVEN, SURNAMES
from ingest.sample.registry import Org
from ingest.sample.spelling import spell_date
from ingest.sample.standing import CityLists, spelled_name

REPORT_HEADERS = [
    "社会组织名称",
    "统一社会信用代码",
    "捐赠收入",
    "会费收入",
    "提供服务收入",
    "政府补助收入",
    "投资收益",
    "其他收入",
    "收入合计",
    "业务活动成本",
    "管理费用",
    "筹资费用",
    "费用合计",
    "净资产合计",
    "专职工作人员数",
    "志愿者人数",
    "会员数",
]
# Typical income in 元 (median of a lognormal) and the shares of its kinds, by organization type:
# donations, dues, services, government grants, investment, other.
INCOME = {
    "social_group": (600_000, [5, 45, 30, 12, 2, 6]),
    "social_service_org": (1_200_000, [5, 0, 70, 18, 1, 6]),
    "foundation": (4_000_000, [80, 0, 2, 5, 10, 3]),
}


def standing_tables(cities: list[CityLists]) -> tuple[dict[str, list[ExportTable]], list[str]]:
    """The lists spelled into files, by source, and the personal values written (法定代表人)."""
    tables: dict[str, list[ExportTable]] = {"inspections": [], "annual_reports": [], "credit_lists": []}
    personal: list[str] = []
    for lists in cities:
        rng = random.Random(
            f"socorg:standing:spelling:{lists.seed}:{lists.delivered.isoformat()}:{lists.profile.code}"
        )
        inspections, names = _inspection_tables(lists, rng)
        tables["inspections"] += inspections
        personal += names
        tables["annual_reports"].append(_report_table(lists, rng))
        tables["credit_lists"] += _credit_tables(lists, rng)
    return tables, personal


def _inspection_tables(lists: CityLists, rng: random.Random) -> tuple[list[ExportTable], list[str]]:
    style, profile = lists.style, lists.profile
    tables, personal = [], []
    people: dict[str, str] = {}  # an organization's 法定代表人, the same in every row naming it
    for k, year in enumerate(lists.years):
        latest = k == len(lists.years) - 1
        fmt = style.inspection_formats[k]
        with_year = style.year_column and latest
        title = (
            f"{profile.name}民政局关于{year}年度社会组织年检结果的公告"
            if style.inspection_title and latest
            else None
        )
        if style.year_column:  # Shenzhen's order: the year first, the conclusion last
            headers = ["序号", style.org_header, "统一社会信用代码", "法定代表人", style.result_header]
        else:
            headers = ["序号", style.org_header, "统一社会信用代码", style.result_header, "法定代表人"]
        if with_year:
            headers.insert(1, "年检年度")
        table = ExportTable(f"inspection_{profile.code}_{year}.{_ext(fmt)}", headers, fmt, title=title)
        year_cell = rng.choice([year if fmt == "xlsx" else str(year), f"{year}年", f"{year}年度"])
        rows = [c for c in lists.conclusions if c.year == year]
        for i, c in enumerate(rows, start=1):
            person = people.setdefault(c.name, _person(rng))
            personal.append(person)
            code = c.org.code if c.org and c.shows_code else ""
            result = style.results.get(c.result, c.result)
            cells: list[object] = (
                [i, c.name, code, person, result] if style.year_column else [i, c.name, code, result, person]
            )
            if with_year:
                cells.insert(1, c.year_cell or year_cell)
            table.add(cells, c.bad)
        tables.append(table)
    return tables, personal


def _report_table(lists: CityLists, rng: random.Random) -> ExportTable:
    style, profile = lists.style, lists.profile
    year = lists.years[-1]
    fmt = style.report_format
    unit = "（单位：万元）" if style.report_unit == 10_000 else ""
    table = ExportTable(
        f"annual_report_{profile.code}_{year}.{_ext(fmt)}",
        ["序号", *(["年度"] if style.report_year_column else []), *REPORT_HEADERS],
        fmt,
        title=f"{profile.name}社会组织{year}年度工作报告主要数据{unit}" if unit else None,
    )
    for i, (org, bad) in enumerate(lists.reported, start=1):
        amounts = [_money(units, rng, fmt == "xlsx") for units in _amounts(org, rng, style.report_unit)]
        if bad == "amount_unparseable":
            amounts[3] = "待核"  # 政府补助收入 not yet checked by the bureau
        staff = {"social_group": (1, 15), "social_service_org": (3, 60), "foundation": (2, 20)}[org.org_type]
        members = rng.randint(30, 900) if org.code.startswith("51") else ""
        counts = [rng.randint(*staff), rng.randint(0, 300), members]
        year_cell = [year] if style.report_year_column else []
        table.add([i, *year_cell, spelled_name(org), org.code, *amounts, *counts], bad)
    return table


def _amounts(org: Org, rng: random.Random, unit: int) -> list[int]:
    """The 12 amounts of a report in hundredths of the file's unit, the totals the sums of their parts:
    six incomes and their total, three expenses and their total, net assets."""
    median, weights = INCOME[org.org_type]
    income = rng.lognormvariate(0, 0.9) * median
    shares = [w * rng.uniform(0.5, 1.5) for w in weights]
    parts = [round(income * s / sum(shares) * 100 / unit) for s in shares]
    if rng.random() < 0.1:
        parts[4] = -parts[4]  # a loss on investments
    spent = income * rng.uniform(0.8, 1.1)
    fundraising = rng.uniform(0.01, 0.03) if org.org_type == "foundation" else 0.0
    programme = rng.uniform(0.75, 0.9)
    expenses = [round(spent * s * 100 / unit) for s in (programme, 1 - programme - fundraising, fundraising)]
    net = round(income * rng.uniform(0.3, 3) * 100 / unit)
    return [*parts, sum(parts), *expenses, sum(expenses), net]


def _money(units: int, rng: random.Random, xlsx: bool) -> object:
    """Hundredths of a unit as an amount is typed: `1234.50`, `1,234.50`, `0`; a number in .xlsx."""
    amount = Decimal(units).scaleb(-2)
    if xlsx:
        return float(amount)
    if not units:
        return rng.choice(["0", "0.00"])
    return f"{amount:,.2f}" if abs(amount) >= 1000 and rng.random() < 0.3 else f"{amount:.2f}"


def _credit_tables(lists: CityLists, rng: random.Random) -> list[ExportTable]:
    style, profile = lists.style, lists.profile
    bureau = f"{profile.name}民政局"
    titled, column = style.credit_formats
    batch, column_batch = lists.batches
    out = []
    number = (batch.month - 1) // 3 + 1
    table = ExportTable(
        f"credit_list_{profile.code}_{batch:%Y%m%d}.{_ext(titled)}",
        ["序号", style.org_header, "统一社会信用代码", "列入日期", "列入原因", "作出决定机关", "移出日期"],
        titled,
        title=f"{bureau}社会组织活动异常名录（{batch.year}年第{number}批）",  # the list said only here
    )
    for i, e in enumerate((e for e in lists.entries if not e.in_column_file), start=1):
        dates = [_date(d, rng, titled) for d in (e.included_on, e.removed_on)]
        table.add([i, spelled_name(e.org), e.org.code, dates[0], e.reason, bureau, dates[1]], e.bad)
    out.append(table)
    if column:
        table = ExportTable(
            f"credit_list_{profile.code}_{column_batch:%Y%m%d}.{_ext(column)}",
            [
                "序号",
                "名录类别",
                "单位名称",
                "统一社会信用代码",
                "列入日期",
                "列入事由",
                "作出决定机关",
                "移出日期",
            ],
            column,
        )
        spelled = {"abnormal": "活动异常名录", "serious_violation": "严重违法失信名单"}
        for i, e in enumerate((e for e in lists.entries if e.in_column_file), start=1):
            cells = [spelled[e.kind], spelled_name(e.org), e.org.code, _date(e.included_on, rng, column)]
            table.add([i, *cells, e.reason, bureau, _date(e.removed_on, rng, column)], e.bad)
        out.append(table)
    return out


def _date(day: dt.date | None, rng: random.Random, fmt: str) -> object:
    return "" if day is None else spell_date(day, rng, fmt == "xlsx")


def _person(rng: random.Random) -> str:
    """A fake 法定代表人: personal data in the exports, never published."""
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _ext(fmt: str) -> str:
    return "xlsx" if fmt == "xlsx" else "csv"
