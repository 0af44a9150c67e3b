"""Sample membership exports of a city's cluster associations and the qualification lists."""

from __future__ import annotations

import datetime as dt
import random
import zlib
from collections import defaultdict
from dataclasses import dataclass, field

from ingest.rules.creditcode import corrupt_check_character, make_code
from ingest.sample.cities import CityProfile, read_seed
from ingest.sample.exportfile import FORMATS, ExportTable
from ingest.sample.names import NamePool, spelling_variant
from ingest.sample.spelling import random_day, spell_code, spell_date

FLAG_LISTS = {
    "listed": ("上市公司", "listed_2023", None),
    "unicorn": ("独角兽企业", "unicorn_2023", None),
    "little_giant": ('专精特新"小巨人"企业', "little_giant_2023", 3),
    "srdi": ("专精特新中小企业", "srdi_2023", 3),
    "high_tech": ("高新技术企业", "high_tech_2023", 3),
}
LIST_FORMATS = {
    "listed": "utf-8",
    "unicorn": "xlsx",
    "little_giant": "gb18030",
    "srdi": "utf-8-sig",
    "high_tech": "utf-8",
}
ROLES = [
    ("会长单位", 1),
    ("副会长单位", 6),
    ("常务理事单位", 12),
    ("理事单位", 25),
    ("监事单位", 2),
    ("会员单位", 300),
]
MEMBER_HEADERS = [
    {
        "member_name": "会员单位名称",
        "member_credit_code": "统一社会信用代码",
        "member_kind": "会员类型",
        "role": "会内职务",
        "joined_on": "入会日期",
        "member_status": "会员状态",
        "contact_person": "联系人",
        "phone": "联系电话",
    },
    {
        "member_name": "企业名称",
        "member_credit_code": "信用代码",
        "member_kind": "会员类型",
        "role": "职务",
        "joined_on": "入会时间",
        "member_status": "状态",
        "contact_person": "联系人",
        "phone": "联系电话",
    },
    {
        "member_name": "单位名称",
        "member_credit_code": "统一社会信用代码",
        "member_kind": "会员类型",
        "role": "会内职务",
        "joined_on": "入会日期",
        "member_status": "会员状态",
        "contact_person": "联系人",
        "phone": "联系电话",
    },
]
QUALIFICATION_HEADERS = ["序号", "企业名称", "统一社会信用代码", "认定类型", "认定年度", "有效期至"]
MEMBER_COLUMNS = [
    "序号",
    "member_name",
    "member_credit_code",
    "member_kind",
    "role",
    "joined_on",
    "member_status",
    "contact_person",
    "phone",
]


@dataclass
class Enterprise:
    """A member enterprise of the sample, with its qualifications."""

    code: str
    name: str
    flags: set[str] = field(default_factory=set)
    # Per qualification with a validity: (year recognized, last day valid), drawn when first listed.
    certificates: dict[str, tuple[int, dt.date]] = field(default_factory=dict)

    def holds(self, flag: str, snapshot: dt.date) -> bool:
        """Whether the enterprise holds the qualification on the snapshot date (not expired)."""
        if flag not in self.flags:
            return False
        return flag not in self.certificates or self.certificates[flag][1] >= snapshot


@dataclass
class Listing:
    """How an association lists one member: drawn when first written, kept from night to night."""

    role: str
    joined_on: dt.date
    shows_code: bool
    spelled_name: str
    kind_label: str
    status: str = "正常"
    variant: bool = False  # the name is written in another spelling (traditional, brackets, spaces)


@dataclass
class CityMembers:
    """Who is an active member of which association, and what the marts must therefore show.

    `listings` (association code, enterprise code) → Listing and `former` (association code → former
    members) are filled when the exports are first written and kept for the nights after.
    """

    associations: list[dict[str, str]]
    members: dict[str, list[Enterprise]]
    enterprises: list[Enterprise]
    outsiders: list[Enterprise]
    listings: dict[tuple[str, str], Listing] = field(default_factory=dict)
    former: dict[str, list[tuple[Enterprise, str]]] = field(default_factory=dict)

    def listing(
        self, association: str, ent: Enterprise, export_date: dt.date, rng, role=None, status="正常"
    ) -> Listing:
        """The member's listing in the association, drawn on first use."""
        key = (association, ent.code)
        if key not in self.listings:
            listing = Listing(
                role=role or rng.choices([r for r, _ in ROLES], [w for _, w in ROLES])[0],
                joined_on=random_day(rng, dt.date(2005, 1, 1), export_date - dt.timedelta(days=1)),
                shows_code=rng.random() < 0.75,
                spelled_name=spelling_variant(ent.name, rng) if rng.random() < 0.15 else ent.name,
                kind_label="单位会员" if rng.random() < 0.9 else "",
                status=status,
            )
            listing.variant = listing.spelled_name != ent.name
            # A member written in another spelling and without its code is one the qualification
            # lists name with its code, so that matching by normalized name can find it.
            if listing.variant and not (ent.flags and lists_show_code(ent)):
                listing.shows_code = True
            self.listings[key] = listing
        return self.listings[key]


def _flag_counts(city: CityProfile, total: int) -> dict[str, int]:
    return {k: v if v >= 1 else round(v * total) for k, v in city.flags.items()}


def city_members(city: CityProfile, rng: random.Random, names: NamePool) -> CityMembers:
    """Assign the city's member enterprises to its cluster associations, with overlaps and flags."""
    clusters = {r["cluster_code"]: r["cluster_name"] for r in read_seed("cluster_taxonomy")}
    associations = [r for r in read_seed("cluster_associations") if r["city_code"] == city.code]
    fixed = {
        a["association_credit_code"]: city.fixed_association_sizes[clusters[a["cluster_code"]]]
        for a in associations
        if clusters[a["cluster_code"]] in city.fixed_association_sizes
    }
    open_assocs = [a for a in associations if a["association_credit_code"] not in fixed]
    weights = [rng.uniform(0.4, 2.0) for _ in open_assocs]
    members: dict[str, list[Enterprise]] = defaultdict(list)
    enterprises: list[Enterprise] = []

    def new_enterprise(assoc: dict[str, str]) -> Enterprise:
        trade = clusters[assoc["cluster_code"]]
        district = rng.choice(list(city.districts))
        ent = Enterprise(make_code("9", "1", district, rng), names.enterprise(city.short, trade))
        enterprises.append(ent)
        return ent

    for assoc in associations:
        for _ in range(fixed.get(assoc["association_credit_code"], 0)):
            members[assoc["association_credit_code"]].append(new_enterprise(assoc))
    while len(enterprises) < city.member_enterprises:
        assoc = rng.choices(open_assocs, weights)[0]
        members[assoc["association_credit_code"]].append(new_enterprise(assoc))
    for ent in rng.sample(enterprises, len(enterprises) // 8):
        assoc = rng.choice(open_assocs)
        if ent not in members[assoc["association_credit_code"]]:
            members[assoc["association_credit_code"]].append(ent)
    _assign_flags(_flag_counts(city, len(enterprises)), enterprises, rng)
    outsiders = [
        Enterprise(make_code("9", "1", city.code, rng), names.enterprise(city.short, "贸易"))
        for _ in range(max(60, len(enterprises) // 20))
    ]
    for ent in outsiders:
        ent.flags.add(rng.choice(["listed", "high_tech", "srdi", "little_giant"]))
    return CityMembers(associations, dict(members), enterprises, outsiders)


def _assign_flags(counts: dict[str, int], enterprises: list[Enterprise], rng: random.Random) -> None:
    """Exact counts per flag; leading = unicorns ∪ little giants, some of them both."""
    for flag in ("listed", "srdi", "high_tech", "top100_private"):
        for ent in rng.sample(enterprises, counts[flag]):
            ent.flags.add(flag)
    leading = rng.sample(enterprises, counts["leading"])
    unicorns = max(1, len(leading) // 15)
    for i, ent in enumerate(leading):
        ent.flags.add("unicorn" if i < unicorns else "little_giant")
        if i < unicorns // 3:
            ent.flags.add("little_giant")


def membership_tables(
    city: CityProfile, cm: CityMembers, export_date: dt.date, rng: random.Random, names: NamePool
) -> tuple[list[ExportTable], list[Enterprise], list[str]]:
    """One export per association; return them, the former members, and the personal values."""
    tables, former, personal = [], [], []
    for index, assoc in enumerate(cm.associations):
        code = assoc["association_credit_code"]
        fmt = FORMATS[index % len(FORMATS)]
        xlsx = fmt == "xlsx"
        headers = MEMBER_HEADERS[index % len(MEMBER_HEADERS)]
        table = ExportTable(
            file_name=f"membership_{code}_{export_date:%Y%m%d}.{'xlsx' if xlsx else 'csv'}",
            headers=["序号"] + [headers[c] for c in MEMBER_COLUMNS[1:]],
            fmt=fmt,
            title=f"{assoc['association_name']}会员名单" if index % 2 == 0 else None,
            footer=["合计：{n}", "共 {n} 条", None][index % 3],
        )
        for ent in cm.members.get(code, []):
            table.add(_listed_cells(ent, cm.listing(code, ent, export_date, rng), rng, names, xlsx))
        if code not in cm.former:
            cm.former[code] = _former_members(city, len(table.rows), rng, names)
        for gone, status in cm.former[code]:
            listing = cm.listing(code, gone, export_date, rng, role="会员单位", status=status)
            table.add(_listed_cells(gone, listing, rng, names, xlsx))
            former.append(gone)
        for _ in range(max(1, len(table.rows) // 100)):
            person = names.person()
            table.add(
                [
                    0,
                    person,
                    "",
                    "个人会员",
                    "会员",
                    spell_date(export_date.replace(year=2020), rng, xlsx),
                    "正常",
                    person,
                    names.phone(),
                ]
            )
        _add_bad_members(city, table, export_date, rng, names, xlsx)
        for i, row in enumerate(table.rows, start=1):
            row[0] = i
            if row[3] == "个人会员":
                personal.append(row[1])
            personal += [row[7], row[8]]
        tables.append(table)
    return tables, former, personal


def _former_members(city: CityProfile, listed: int, rng, names: NamePool) -> list[tuple[Enterprise, str]]:
    """Members that left (已退会) or are suspended (暂停), drawn once per association."""
    gone = []
    for status in ["已退会"] * max(1, listed // 50) + ["暂停"] * max(1, listed // 200):
        ent = Enterprise(make_code("9", "1", city.code, rng), names.enterprise(city.short, "服务"))
        if rng.random() < 0.3:
            ent.flags.add("high_tech")
        gone.append((ent, status))
    return gone


def _listed_cells(ent: Enterprise, listing: Listing, rng, names: NamePool, xlsx: bool) -> list:
    """A member's row as the association lists it (the contact person and phone drawn anew)."""
    return [
        0,
        listing.spelled_name,
        spell_code(ent.code, rng) if listing.shows_code else "",
        listing.kind_label,
        listing.role,
        spell_date(listing.joined_on, rng, xlsx),
        listing.status,
        names.person(),
        names.phone(),
    ]


def _member_cells(ent: Enterprise, status, role, export_date, rng, names: NamePool, xlsx) -> list:
    """A one-off member row (for planted bad rows)."""
    listing = Listing(
        role=role,
        joined_on=random_day(rng, dt.date(2005, 1, 1), export_date - dt.timedelta(days=1)),
        shows_code=True,
        spelled_name=ent.name,
        kind_label="单位会员",
        status=status,
    )
    return _listed_cells(ent, listing, rng, names, xlsx)


def _add_bad_members(city, table: ExportTable, export_date, rng, names: NamePool, xlsx) -> None:
    if rng.random() < 0.5:
        ent = Enterprise(make_code("9", "1", city.code, rng), names.enterprise(city.short, "咨询"))
        cells = _member_cells(ent, "正常", "会员单位", export_date, rng, names, xlsx)
        cells[2] = corrupt_check_character(ent.code)
        table.insert(rng.randrange(len(table.rows) + 1), cells, "credit_code_check_character")
    if rng.random() < 0.4:
        ent = Enterprise(make_code("9", "1", city.code, rng), names.enterprise(city.short, "咨询"))
        cells = _member_cells(ent, "正常", "会员单位", export_date, rng, names, xlsx)
        cells[5] = rng.choice(["2020-3", "去年", "2019年13月"])
        table.insert(rng.randrange(len(table.rows) + 1), cells, "date_unparseable")
    if rng.random() < 0.4:
        original = rng.randrange(len(table.rows))
        while table.rows[original][3] == "个人会员" or any(i == original for i, _ in table.bad):
            original = rng.randrange(len(table.rows))
        table.insert(
            rng.randrange(original + 1, len(table.rows) + 1),
            list(table.rows[original]),
            "duplicate_member_key",
        )


def qualification_tables(
    cities: list[tuple[CityProfile, CityMembers, list[Enterprise]]],
    rng: random.Random,
    names: NamePool,
) -> list[ExportTable]:
    """The published lists: one file per list (all cities), top-100 lists per city."""
    headers = list(QUALIFICATION_HEADERS)
    tables: dict[str, ExportTable] = {}
    for flag, (label, stem, _years) in FLAG_LISTS.items():
        fmt = LIST_FORMATS[flag]
        tables[flag] = ExportTable(
            f"{stem}.{'xlsx' if fmt == 'xlsx' else 'csv'}",
            headers,
            fmt,
            title=f"{label}名单" if flag == "high_tech" else None,
            footer="共 {n} 条" if flag == "high_tech" else None,
        )
    for city, cm, former in cities:
        top = ExportTable(
            f"top100_private_{city.key}_2022.csv",
            headers,
            "utf-8",
            title=f"{city.short}市2022年民营企业100强",
        )
        tables[f"top100_{city.key}"] = top
        for ent in cm.enterprises + cm.outsiders + former:
            for flag in sorted(ent.flags):
                table = top if flag == "top100_private" else tables[flag]
                label, _, years = FLAG_LISTS.get(flag, ("民营企业100强", "", None))
                table.add(_qualification_cells(ent, flag, label, years, rng, table.fmt == "xlsx"))
        for _ in range(100 - len(top.rows)):
            filler = Enterprise(make_code("9", "1", city.code, rng), names.enterprise(city.short, "控股"))
            top.add(_qualification_cells(filler, "top100_private", "民营企业100强", None, rng, False))
    for table in tables.values():
        rng.shuffle(table.rows)
    bad = tables["high_tech"]
    for _ in range(2):
        cells = list(bad.rows[rng.randrange(len(bad.rows))])
        cells[1] = cells[1] + "分公司"
        cells[2] = corrupt_check_character(str(cells[2]) or make_code("9", "1", "320500", rng))
        bad.insert(rng.randrange(len(bad.rows) + 1), cells, "credit_code_check_character")
    for table in tables.values():
        for i, row in enumerate(table.rows, start=1):
            row[0] = i
    return list(tables.values())


def lists_show_code(ent: Enterprise) -> bool:
    """Whether the qualification lists print the enterprise's code (1 in 20 they leave it out)."""
    return zlib.crc32(ent.code.encode()) % 20 != 0


def _qualification_cells(ent: Enterprise, flag: str, label: str, years: int | None, rng, xlsx: bool) -> list:
    if not years:
        year, valid = 2023, ""
    else:
        if flag not in ent.certificates:
            drawn = rng.choice([2021, 2022, 2023])
            ent.certificates[flag] = (drawn, dt.date(drawn + years, 12, 31))
        year, until = ent.certificates[flag]
        valid = until.isoformat()
    code = spell_code(ent.code, rng) if lists_show_code(ent) else ""
    return [0, ent.name, code, label, year, valid]
