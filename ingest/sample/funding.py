"""Sample purchase-of-service lists (政府购买服务项目) as finance and civil-affairs bureaus publish them."""

from __future__ import annotations

import datetime as dt
import random

from ingest.rules.creditcode import corrupt_check_character
from ingest.sample.cities import CityProfile
from ingest.sample.exportfile import ExportTable
from ingest.sample.names import spelling_variant
from ingest.sample.registry import Org

# Two publishers per city, each with its own headers: the finance bureau's list of this year, the
# civil-affairs bureau's of last year (and an older one, outside the 12 months a project counts for).
HEADERS = {
    "finance": [
        "序号",
        "项目名称",
        "购买主体",
        "承接主体",
        "承接主体统一社会信用代码",
        "合同金额（万元）",
        "年度",
    ],
    "civil": ["序号", "项目名称", "采购单位", "承接单位", "统一社会信用代码", "中标金额", "项目年度"],
}
SERVICES = [
    "行业发展研究",
    "企业培训",
    "标准制定",
    "展会组织",
    "政策宣讲",
    "人才评价",
    "社区养老",
    "公益创投",
]
OTHER_PROVIDERS = 25  # organizations other than the cluster associations that won projects, per city


def funding_tables(cities: list[tuple[CityProfile, list[Org], list[str]]], export_date: dt.date, seed: int):
    """Each city's lists, and per city the designated associations funded in the last 12 months.

    `cities` holds each city's profile, organizations and designated association codes. A separate
    random stream: adding the lists changes no other sample file.
    """
    rng = random.Random(f"socorg:funding:{seed}:{export_date.isoformat()}")
    tables: list[ExportTable] = []
    funded: dict[str, int] = {}
    for index, (profile, orgs, designated) in enumerate(cities):
        active = {o.code: o for o in orgs if o.status == "active"}
        associations = [active[c] for c in designated if c in active]
        rng.shuffle(associations)
        chosen = associations[: profile.funded_associations]
        stale = associations[profile.funded_associations : profile.funded_associations + 1]
        others = rng.sample(sorted(o for o in active if o not in designated), OTHER_PROVIDERS)
        others = [active[c] for c in others]
        year = export_date.year
        even = index % 2 == 0
        finance = (_table(profile, "finance", "财政局", year, "xlsx" if even else "gb18030"), year)
        civil = (_table(profile, "civil", "民政局", year - 1, "utf-8" if even else "xlsx"), year - 1)
        older = (_table(profile, "civil", "民政局", year - 3, "utf-8-sig"), year - 3)
        for k, org in enumerate(chosen):
            _add((finance, civil)[k % 2], profile, org, rng, shows_code=k % 3 != 0)
        for org in stale:
            _add(older, profile, org, rng, shows_code=True)
        for k, org in enumerate(others):
            _add((finance, civil, older)[k % 3], profile, org, rng, shows_code=rng.random() < 0.7)
        # Rows a bureau got wrong: a mistyped code, an amount in another currency.
        _add(civil, profile, others[0], rng, True, bad=(4, corrupt_check_character(others[0].code)))
        _add(finance, profile, others[1], rng, True, bad=(5, "12万美元"))
        for table, _ in (finance, civil, older):
            for i, row in enumerate(table.rows, start=1):
                row[0] = i
            tables.append(table)
        funded[profile.code] = len(chosen)
    return tables, funded


BAD_REASONS = {4: "credit_code_check_character", 5: "amount_foreign_currency"}  # by the column made bad


def _table(profile: CityProfile, kind: str, bureau: str, year: int, fmt: str) -> ExportTable:
    ext = "xlsx" if fmt == "xlsx" else "csv"
    publisher = f"{profile.name}{bureau}"
    return ExportTable(
        f"funding_{publisher}_{year}.{ext}",
        HEADERS[kind],
        fmt,
        title=f"{year}年度{publisher}政府购买社会组织服务项目公示" if kind == "finance" else None,
        footer="合计：{n} 项" if kind == "civil" else None,
    )


def _add(target, profile: CityProfile, org: Org, rng: random.Random, shows_code: bool, bad=None) -> None:
    """One project row; without its code the provider is written as typed (traditional, full-width…)."""
    table, year = target
    amount = round(rng.uniform(5, 300), 1)
    written = rng.choice([f"{amount:g}", f"{amount:g}万元", f"{amount * 10000:.0f}元"])
    name = org.name if shows_code else spelling_variant(org.name, rng)
    purchaser = f"{profile.name}{rng.choice(['民政局', '发展和改革委员会', '工业和信息化局', '商务局'])}"
    service = rng.choice(SERVICES)
    cells = [
        0,
        f"{org.name[:6]}{service}服务项目",
        purchaser,
        name,
        org.code if shows_code else "",
        written,
        year,
    ]
    if bad:
        column, value = bad
        cells[column] = value
        table.add(cells, BAD_REASONS[column])
    else:
        table.add(cells)
