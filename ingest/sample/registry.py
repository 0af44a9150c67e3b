"""The sample registry export of one city: calibrated counts, real-looking codes, and bad rows."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from ingest.rules.creditcode import corrupt_check_character, make_code
from ingest.sample.cities import CityProfile, read_seed
from ingest.sample.eras import REGISTRATION_MARKS, WITHOUT_ORGANIZATION_CODE
from ingest.sample.exportfile import ExportTable
from ingest.sample.names import NamePool
from ingest.sample.spelling import (
    random_day,
    spell_amount,
    spell_code,
    spell_date,
    spell_grade,
    spell_number,
)

TYPE_CATEGORY = {"social_group": "1", "social_service_org": "2", "foundation": "3"}
TYPE_SPELLINGS = {
    "social_group": ["社会团体"],
    "social_service_org": ["社会服务机构", "民办非企业单位"],
    "foundation": ["基金会"],
}
TOPICS = {
    "social_group": (
        [
            "电子",
            "物流",
            "餐饮",
            "建筑",
            "律师",
            "摄影",
            "围棋",
            "会计",
            "家具",
            "软件",
            "纺织",
            "模具",
        ],
        ["协会", "商会", "学会", "研究会", "联合会", "促进会"],
    ),
    "social_service_org": (
        ["养老", "教育", "康复", "社工", "培训", "文化", "体育", "托育", "心理咨询", "法律援助"],
        ["服务中心", "培训学校", "服务社", "研究院", "康复中心"],
    ),
    "foundation": (["教育", "慈善", "医疗救助", "文化发展", "科技创新", "环境保护"], ["基金会"]),
}
SUPERVISORS = ["市科学技术协会", "市工业和信息化局", "市商务局", "市教育局", "市卫生健康委员会"]
REGISTRY_COLUMNS = [
    "序号",
    "credit_code",
    "org_name",
    "org_type",
    "registration_authority",
    "supervising_unit",
    "legal_representative",
    "registered_on",
    "registered_capital",
    "address",
    "division_code",
    "status",
    "rating",
    "rating_valid_until",
    "business_scope",
    "phone",
]
HEADERS = {
    "suzhou": {
        "credit_code": "统一社会信用代码",
        "org_name": "社会组织名称",
        "org_type": "社会组织类型",
        "registration_authority": "登记管理机关",
        "supervising_unit": "业务主管单位",
        "legal_representative": "法定代表人",
        "registered_on": "成立登记日期",
        "registered_capital": "注册资金（万元）",
        "address": "住所",
        "division_code": "行政区划代码",
        "status": "登记状态",
        "rating": "评估等级",
        "rating_valid_until": "评估有效期至",
        "business_scope": "业务范围",
        "phone": "联系电话",
    },
    "shenzhen": {
        "credit_code": "信用代码",
        "org_name": "组织名称",
        "org_type": "类型",
        "registration_authority": "登记机关",
        "supervising_unit": "业务主管单位",
        "legal_representative": "法定代表人",
        "registered_on": "成立日期",
        "registered_capital": "注册资金",
        "address": "地址",
        "division_code": "区划代码",
        "status": "状态",
        "rating": "评估等级",
        "rating_valid_until": "评估有效期至",
        "business_scope": "业务范围",
        "phone": "联系电话",
    },
}
BAD_ROWS = {"credit_code_check_character": 5, "org_type_unknown": 4, "date_unparseable": 4}
DUPLICATES = 3
UNPARSEABLE_DATES = ["去年三月", "2019-3", "2018年13月", "19/3/5"]


@dataclass
class Org:
    """One generated organization, before it is spelled into an export row.

    The attributes below the line are drawn when the organization is first spelled and kept, so that
    night after night it is the same organization (spelled differently) until a change is made to it.
    """

    code: str
    name: str
    org_type: str
    status: str
    registrar: str
    district: str | None
    registered_on: dt.date | None = None
    grade: int | None = None
    grade_valid_until: dt.date | None = None
    supervisor: str = ""
    capital: float = 0.0
    street_no: int = 0
    reported_division: str = ""
    designated: bool = False
    registration_number: str = ""  # drawn when an archive's export first lists it

    def effective_grade(self, snapshot: dt.date) -> int | None:
        """The grade as of a snapshot: none once its validity has passed."""
        if self.grade is None or (self.grade_valid_until and self.grade_valid_until < snapshot):
            return None
        return self.grade


def _registrar(city: CityProfile, org_type: str, rng: random.Random) -> tuple[str, str | None]:
    """(code of the registering authority, district of the organization)."""
    district = rng.choice(list(city.districts))
    registrar = city.code if org_type == "foundation" or rng.random() < 0.3 else district
    if not city.registrar_from_district:
        return city.code, district
    return registrar, (district if registrar == city.code else registrar)


def name_prefix(city: CityProfile, registrar: str) -> str:
    name = city.districts.get(registrar)
    if name is None:
        return city.name
    return name if name.endswith("市") or name.startswith(city.short) else city.name + name


def city_orgs(city: CityProfile, rng: random.Random, names: NamePool) -> list[Org]:
    """Every organization of the city's registry: designated ones from the seeds, then the rest."""
    orgs: list[Org] = []
    types = {"1": "social_group", "2": "social_service_org", "3": "foundation"}
    for row in read_seed("cluster_associations") + read_seed("exhibition_points"):
        if row["city_code"] != city.code:
            continue
        code = row.get("association_credit_code") or row["credit_code"]
        names.organization_codes.add(code[8:17])
        name = names.reserve(row.get("association_name") or row["org_name"])
        district = rng.choice(list(city.districts))
        orgs.append(Org(code, name, types[code[1]], "active", code[2:8], district, designated=True))
    remaining = dict(city.active)
    for org in orgs:
        remaining[org.org_type] -= 1
    statuses = [("active", t, n) for t, n in remaining.items()]
    statuses += [(s, rng.choice(["social_group", "social_service_org"]), n) for s, n in city.inactive.items()]
    for status, org_type, count in statuses:
        for _ in range(count):
            orgs.append(new_org(city, org_type, status, rng, names))
    rng.shuffle(orgs)
    return orgs


def new_org(city: CityProfile, org_type: str, status: str, rng, names: NamePool) -> Org:
    registrar, district = _registrar(city, org_type, rng)
    topics, suffixes = TOPICS[org_type]
    name = names.organization(name_prefix(city, registrar), rng.choice(topics), rng.choice(suffixes))
    code = names.organization_code(lambda: make_code("5", TYPE_CATEGORY[org_type], registrar, rng))
    return Org(code, name, org_type, status, registrar, district)


# How an export from before credit codes heads the columns that name an organization.
IDENTIFIER_HEADERS = {"registration_number": "登记证号", "organization_code": "组织机构代码"}


def registry_table(
    city: CityProfile,
    orgs: list[Org],
    export_date: dt.date,
    rng: random.Random,
    names: NamePool,
    keys: tuple[str, ...] = ("credit_code",),
) -> tuple[ExportTable, list[str]]:
    """Spell the organizations into the city's registry export, naming them by `keys` (an archive's
    export from before credit codes: registration numbers); return it and the personal values."""
    fmt = city.registry_format
    xlsx = fmt == "xlsx"
    date_zh = f"{export_date.year}年{export_date.month}月{export_date.day}日"
    identifiers = [HEADERS[city.key].get(k) or IDENTIFIER_HEADERS[k] for k in keys]
    table = ExportTable(
        file_name=f"registry_{city.code}_{export_date:%Y%m%d}.{'xlsx' if xlsx else 'csv'}",
        headers=["序号", *identifiers, *(HEADERS[city.key][c] for c in REGISTRY_COLUMNS[2:])],
        fmt=fmt,
        title=city.registry_title.format(date_zh=date_zh),
        footer=city.registry_footer,
    )
    personal: list[str] = []
    for org in orgs:
        cells = _org_cells(city, org, export_date, rng, names, xlsx)
        personal += [cells[6], str(cells[15])]
        table.add(_keyed(cells, org, keys, names))
    _add_bad_rows(city, table, export_date, rng, names, xlsx, keys)
    for i, row in enumerate(table.rows, start=1):
        row[0] = i
    return table, personal


def _keyed(cells: list[object], org: Org, keys: tuple[str, ...], names: NamePool) -> list[object]:
    """A row's cells with the organization named by `keys` in place of its credit code alone."""
    if keys == ("credit_code",):
        return cells
    if not org.registration_number:
        mark = f"{name_prefix_short(org)}{REGISTRATION_MARKS[org.org_type]}证字"
        org.registration_number = names.registration_number(mark)
    named = {
        "credit_code": cells[1],
        "registration_number": org.registration_number,
        "organization_code": _organization_code(org),
    }
    return [cells[0], *(named[k] for k in keys), *cells[2:]]


def _organization_code(org: Org) -> str:
    """The organization code an export from before credit codes lists (characters 9–17 of the credit
    code the organization got later): written `50000123-4` or plain, missing for some (by the code's
    own digits, so that the same organization is the same every night)."""
    code = org.code[8:17]
    if sum(map(ord, code)) % 100 < WITHOUT_ORGANIZATION_CODE * 100:
        return ""
    return f"{code[:8]}-{code[8]}" if ord(code[6]) % 2 else code


def name_prefix_short(org: Org) -> str:
    """The one-character province or city mark of a registration number (深, 苏)."""
    return org.name[:1]


def settle(city, org: Org, export_date: dt.date, rng) -> None:
    """Draw the attributes an organization keeps from night to night."""
    org.registered_on = random_day(rng, dt.date(1990, 1, 1), export_date - dt.timedelta(days=30))
    if (export_date - org.registered_on).days > 730 and rng.random() < 0.3:
        org.grade = rng.choices([1, 2, 3, 4, 5], weights=[5, 15, 40, 30, 10])[0]
        since = max(org.registered_on, export_date - dt.timedelta(days=1800))
        evaluated = random_day(rng, since, export_date)
        org.grade_valid_until = evaluated.replace(year=evaluated.year + 5, day=min(evaluated.day, 28))
    if org.org_type == "social_group" and rng.random() < 0.4:
        org.supervisor = city.name + rng.choice(SUPERVISORS)[1:]
    low, high = {
        "social_group": (3, 50),
        "social_service_org": (3, 500),
        "foundation": (200, 5000),
    }[org.org_type]
    org.capital = round(rng.uniform(low, high), 1)
    org.street_no = rng.randint(1, 999)
    if rng.random() < 0.7:
        org.reported_division = org.registrar if city.registrar_from_district else (org.district or "")


def _org_cells(city, org: Org, export_date, rng, names: NamePool, xlsx: bool) -> list[object]:
    if org.registered_on is None:
        settle(city, org, export_date, rng)
    status_spelling = {
        "active": rng.choice(["正常", "存续"]),
        "deregistered": "已注销",
        "revoked": "已撤销",
    }
    return [
        0,
        spell_code(org.code, rng),
        org.name.replace("(", "（").replace(")", "）"),
        rng.choice(TYPE_SPELLINGS[org.org_type]),
        f"{city.districts.get(org.registrar, city.name)}民政局",
        org.supervisor,
        names.person(),
        spell_date(org.registered_on, rng, xlsx),
        spell_amount(org.capital, rng),
        f"{name_prefix(city, org.district or org.registrar)}{org.street_no}号",
        spell_number(org.reported_division, rng, xlsx),
        status_spelling[org.status],
        spell_grade(org.grade, rng),
        spell_date(org.grade_valid_until, rng, xlsx) if org.grade_valid_until else "",
        "开展行业交流、培训、咨询服务",
        spell_number(names.phone(), rng, xlsx),
    ]


def _add_bad_rows(
    city, table: ExportTable, export_date, rng, names: NamePool, xlsx: bool, keys: tuple[str, ...]
) -> None:
    name_at = 1 + len(keys)  # the name's column, after the identifiers
    for reason, count in BAD_ROWS.items():
        if reason == "credit_code_check_character" and "credit_code" not in keys:
            continue
        for i in range(count):
            org = new_org(city, "social_group", "active", rng, names)
            cells = _org_cells(city, org, export_date, rng, names, xlsx)
            if reason == "credit_code_check_character":
                cells[1] = corrupt_check_character(org.code)
            elif reason == "org_type_unknown":
                cells[3] = rng.choice(["民间组织", "群众团体", "事业单位"])
            else:
                cells[7] = UNPARSEABLE_DATES[i % len(UNPARSEABLE_DATES)]
            table.insert(rng.randrange(len(table.rows) + 1), _keyed(cells, org, keys, names), reason)
    for _ in range(DUPLICATES):
        original = rng.randrange(len(table.rows))
        while any(i == original for i, _ in table.bad):
            original = rng.randrange(len(table.rows))
        cells = list(table.rows[original])
        org = new_org(city, "social_group", "active", rng, names)
        cells[name_at] = org.name
        table.insert(rng.randrange(original + 1, len(table.rows) + 1), cells, f"duplicate_{keys[0]}")
