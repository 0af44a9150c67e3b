"""Province- and national-size sample exports: many cities, written city by city as the rows stream."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ingest.rules.creditcode import make_code
from ingest.sample.cities import read_seed
from ingest.sample.members import FLAG_LISTS, MEMBER_COLUMNS, MEMBER_HEADERS, QUALIFICATION_HEADERS, ROLES
from ingest.sample.names import BRAND, ENTERPRISE_SUFFIX, NamePool
from ingest.sample.registry import (
    HEADERS,
    REGISTRY_COLUMNS,
    SUPERVISORS,
    TOPICS,
    TYPE_CATEGORY,
    TYPE_SPELLINGS,
)
from ingest.sample.spelling import random_day, spell_date, spell_grade


@dataclass(frozen=True)
class Scale:
    """How big a sample is and where its organizations are."""

    organizations: int
    memberships: int
    province: str | None  # a province's division code, or None for every province
    city: str | None = None  # one city's division code (benchmarks' city size), or None
    # Jiangsu as the reports describe it: Suzhou written by the city sample, byte for byte, and the
    # other cities (and the province's own registrations) sized so that Suzhou is SUZHOU_SHARE of it.
    # `organizations` is then ignored.
    suzhou_as_city_sample: bool = False
    # This city's registry delivered as an Excel workbook (.xlsx, its title row kept), as bureaus often do.
    spreadsheet_city: str | None = None
    province_registry: bool = False  # with `province`: also the province's own registrations' export


SCALES = {
    "province": Scale(
        organizations=80_000, memberships=1_000_000, province="320000", suzhou_as_city_sample=True
    ),  # Jiangsu
    "national": Scale(organizations=1_000_000, memberships=20_000_000, province=None),
}
MEMBERS_PER_ASSOCIATION = 2_000  # an association's list, on average
MEMBERSHIPS_PER_ENTERPRISE = 1.25  # an enterprise is a member of 1.25 of its city's associations
TYPE_SHARES = {"social_group": 0.45, "social_service_org": 0.53, "foundation": 0.02}
STATUS_SHARES = {"正常": 0.90, "存续": 0.05, "已注销": 0.04, "已撤销": 0.01}
QUALIFICATION_SHARES = {"high_tech": 0.10, "srdi": 0.05, "listed": 0.01}
TRADES = ["电子", "软件", "智能装备", "新材料", "生物医药", "汽车零部件", "纺织", "物流", "食品", "新能源"]
REGISTRY_FORMATS = ("utf-8", "gb18030", "utf-8-sig")  # by city, in turn
SUZHOU_SHARE = 0.10  # Suzhou's 7,724 organizations are "about 10 % of the province's" (domain.md)
PROVINCE_OWN_SHARE = 0.02  # of a province's active organizations, those registered by the province itself
ACTIVE_STATUSES = ("正常", "存续")  # as the registry writes an active organization's status
ACTIVE_SHARE = sum(STATUS_SHARES[s] for s in ACTIVE_STATUSES)


@dataclass(frozen=True)
class City:
    code: str
    name: str
    districts: list[str]


def scale_cities(scale: Scale) -> list[City]:
    """The prefecture-level cities of the scale's province (or of all), with their county codes."""
    rows = read_seed("divisions")
    provinces = {r["division_code"]: r["division_name"] for r in rows if r["level"] == "province"}
    counties: dict[str, list[str]] = {}
    for r in rows:
        if r["level"] == "county":
            counties.setdefault(r["city_code"], []).append(r["division_code"])
    cities = []
    for r in rows:
        if r["level"] != "city" or (scale.province and r["province_code"] != scale.province):
            continue
        if scale.city and r["division_code"] != scale.city:
            continue
        name = r["division_name"]
        if name == "市辖区":  # a municipality's districts (110100 北京市)
            name = provinces[r["province_code"]]
        elif "直辖" in name or name == "县":  # counties under the province: 河南省直辖县级行政区划
            name = provinces[r["province_code"]] + name
        cities.append(
            City(r["division_code"], name, counties.get(r["division_code"]) or [r["division_code"]])
        )
    return cities


def shares(total: int, weights: list[float]) -> list[int]:
    """Split `total` in proportion to `weights`, exactly (largest remainders).

    >>> shares(10, [1, 1, 1])
    [4, 3, 3]
    """
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def write_scale(
    out: Path, export_date: dt.date, scale_name: str, seed: int = 7, progress: bool = True, scale=None
) -> dict:
    """Write one night of `scale_name` exports under `out` and `_truth/<date>.json`; return the truth.

    Cities are written one after another; memory holds one city at a time. `scale` overrides the
    sizes (tests use small ones).
    """
    scale = scale or SCALES[scale_name]
    cities = scale_cities(scale)
    rng = random.Random(f"socorg:{seed}:{scale_name}:{export_date.isoformat()}")
    truth = {"export_date": export_date.isoformat(), "seed": seed, "scale": scale_name, "cities": {}}
    active_targets: list[int | None] = [None] * len(cities)
    if scale.suzhou_as_city_sample:
        suzhou = _suzhou_as_city_sample(out, export_date, seed)
        truth["cities"]["320500"] = suzhou
        cities = [c for c in cities if c.code != "320500"]
        province = round(suzhou["active_org_count"] / SUZHOU_SHARE)
        own = round(province * PROVINCE_OWN_SHARE)
        active_targets = shares(
            province - suzhou["active_org_count"] - own, [len(c.districts) for c in cities]
        )
        province_city = City(scale.province, _province_name(scale.province), [scale.province])
        cities, active_targets = [*cities, province_city], [*active_targets, own]
        org_counts = [round(n / ACTIVE_SHARE) for n in active_targets]
        membership_counts = [*shares(scale.memberships, [len(c.districts) for c in cities[:-1]]), 0]
    else:
        weights = [len(c.districts) for c in cities]
        org_counts = shares(scale.organizations, weights)
        membership_counts = shares(scale.memberships, weights)
        if scale.province and scale.province_registry:  # the province's own registrations, in no city
            province_city = City(scale.province, _province_name(scale.province), [scale.province])
            cities, active_targets = [*cities, province_city], [*active_targets, None]
            org_counts = [*org_counts, round(scale.organizations * PROVINCE_OWN_SHARE)]
            membership_counts = [*membership_counts, 0]
    with (
        tqdm(
            total=sum(org_counts) + sum(membership_counts),
            unit=" rows",
            unit_scale=True,
            disable=not progress,
            file=sys.stderr,
        ) as bar,
        _Qualifications(out, export_date) as lists,
    ):
        for index, (city, orgs, memberships, active) in enumerate(
            zip(cities, org_counts, membership_counts, active_targets, strict=True)
        ):
            writer = _CityWriter(out, export_date, city, index, rng, bar, lists)
            made = writer.write(orgs, memberships, active)
            if city.code == scale.spreadsheet_city:
                name = f"registry_{city.code}_{export_date:%Y%m%d}.csv"
                _as_workbook(out / "registry" / export_date.isoformat() / name, writer.registry_format)
            if city.code == scale.province:  # registered by the province itself: in no city
                truth["province_registered"] = made
            else:
                truth["cities"][city.code] = made
    written = [
        *truth["cities"].values(),
        *([truth["province_registered"]] if "province_registered" in truth else []),
    ]
    if scale.suzhou_as_city_sample:
        truth["province"] = {
            "province_code": scale.province,
            "active_org_count": sum(c["active_org_count"] for c in written),
            "city_count": len(truth["cities"]),
        }
    truth["rows"] = {
        "registry": sum(c["registry_rows"] for c in written),
        "membership": sum(c["membership_rows"] for c in written),
        "qualifications": lists.rows + sum(c.get("qualification_rows", 0) for c in written),
    }
    path = out / "_truth" / f"{export_date.isoformat()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return truth


def _province_name(code: str) -> str:
    return next(r["division_name"] for r in read_seed("divisions") if r["division_code"] == code)


def _suzhou_as_city_sample(out: Path, export_date: dt.date, seed: int) -> dict:
    """Suzhou's exports exactly as `socorg sample --city suzhou` writes them; its qualification lists
    renamed `suzhou_<list>` beside the province's. The city's entry of the scale's truth."""
    from ingest.sample.generate import write_sample

    truth = write_sample(out, export_date, "suzhou", seed)
    lists = out / "qualifications" / export_date.isoformat()
    for path in list(lists.iterdir()):
        if not path.name.startswith("top100_"):
            path.rename(path.with_name(f"suzhou_{path.name}"))
    summary = truth["cities"]["320500"]["city_summary"]
    return {
        "registry_rows": truth["rows"]["registry"],
        "active_org_count": summary["active_org_count"],
        **{f"{t}_count": summary[f"{t}_count"] for t in TYPE_SHARES},
        "associations": summary["cluster_association_count"],
        "membership_rows": truth["rows"]["membership"],
        "member_enterprises": summary["cluster_member_enterprise_count"],
        "qualification_rows": truth["rows"]["qualifications"],
    }


class _CityWriter:
    """One city's registry export and its associations' membership exports."""

    def __init__(self, out: Path, export_date: dt.date, city: City, index: int, rng, bar, lists) -> None:
        self.out, self.export_date, self.city, self.index = out, export_date, city, index
        self.rng, self.bar, self.lists = rng, bar, lists
        self.short = city.name.removesuffix("市")
        self.names = NamePool(rng)
        # The city's designated cluster associations (a seed: Suzhou's, Shenzhen's) are its first.
        self.designated = [a for a in read_seed("cluster_associations") if a["city_code"] == city.code]
        self.codes = {a["association_credit_code"] for a in self.designated}
        self.registry_format = REGISTRY_FORMATS[index % len(REGISTRY_FORMATS)]

    def write(self, orgs: int, memberships: int, active_target: int | None = None) -> dict:
        wanted = max(1, round(memberships / MEMBERS_PER_ASSOCIATION), len(self.designated))
        associations = wanted if memberships else 0
        active, association_codes = self._registry(orgs, associations, active_target)
        sizes = shares(memberships, [self.rng.uniform(0.3, 1.7) for _ in association_codes])
        pool = max([round(memberships / MEMBERSHIPS_PER_ENTERPRISE), *sizes])
        enterprises = self._enterprises(pool)
        members: set[str] = set()
        for k, (code, size) in enumerate(zip(association_codes, sizes, strict=True)):
            listed = self.rng.sample(enterprises, size)
            members.update(e[0] for e in listed)
            self._membership(code, k, listed)
        return {
            "registry_rows": orgs,
            "active_org_count": sum(active.values()),
            **{f"{t}_count": n for t, n in active.items()},
            "associations": len(association_codes),
            "membership_rows": memberships,
            "member_enterprises": len(members),
        }

    def _registry(
        self, orgs: int, associations: int, active_target: int | None = None
    ) -> tuple[dict[str, int], list[str]]:
        """The registry export; active organizations by type and the codes of the associations.

        With `active_target`, exactly that many organizations are active (the associations among them).
        """
        inactive: set[int] = set()
        if active_target is not None:
            inactive = set(self.rng.sample(range(associations + 1, orgs + 1), orgs - active_target))
        fmt = self.registry_format
        spelled = HEADERS[("suzhou", "shenzhen")[self.index % 2]]
        date_zh = f"{self.export_date.year}年{self.export_date.month}月{self.export_date.day}日"
        active = dict.fromkeys(TYPE_SHARES, 0)
        association_codes: list[str] = []
        with self._open(
            "registry", f"registry_{self.city.code}_{self.export_date:%Y%m%d}.csv", fmt
        ) as writer:
            writer.writerow([f"{self.city.name}社会组织登记信息（截至{date_zh}）"])
            writer.writerow(["序号"] + [spelled[c] for c in REGISTRY_COLUMNS[1:]])
            for n in range(1, orgs + 1):
                # The first organizations are the city's associations: active social groups.
                is_association = n <= associations
                if is_association:
                    org_type, status = "social_group", "正常"
                elif active_target is None:
                    org_type, status = self._draw()
                else:
                    org_type, status = self._draw(active=n not in inactive)
                cells = self._organization(n, org_type, status, is_association)
                if n <= len(self.designated):
                    cells[1:3] = [
                        self.designated[n - 1][k] for k in ("association_credit_code", "association_name")
                    ]
                if status in ACTIVE_STATUSES:
                    active[org_type] += 1
                if is_association:
                    association_codes.append(cells[1])
                writer.writerow(cells)
                self.bar.update(1)
            writer.writerow([f"合计：{orgs}"])
        return active, association_codes

    def _draw(self, active: bool | None = None) -> tuple[str, str]:
        """An organization type and a registration status, in their shares (among the active or the
        inactive statuses when `active` is given)."""
        org_type = self.rng.choices(list(TYPE_SHARES), list(TYPE_SHARES.values()))[0]
        statuses = {
            s: w for s, w in STATUS_SHARES.items() if active is None or (s in ACTIVE_STATUSES) == active
        }
        return org_type, self.rng.choices(list(statuses), list(statuses.values()))[0]

    def _organization(self, n: int, org_type: str, status: str, is_association: bool) -> list:
        rng = self.rng
        district = rng.choice(self.city.districts)
        topics, suffixes = TOPICS[org_type]
        suffix = "协会" if is_association else rng.choice(suffixes)
        topic = rng.choice(TRADES) if is_association else rng.choice(topics)
        registered = random_day(rng, dt.date(1990, 1, 1), self.export_date - dt.timedelta(days=30))
        grade = rng.choice([None, None, None, 3, 4, 5])
        return [
            n,
            self._new_code("5", TYPE_CATEGORY[org_type], district),
            f"{self.short}{_brand(n)}{topic}{suffix}",
            rng.choice(TYPE_SPELLINGS[org_type]),
            f"{self.city.name}民政局",
            self.city.name + rng.choice(SUPERVISORS)[1:] if org_type == "social_group" and n % 3 == 0 else "",
            self.names.person(),
            spell_date(registered, rng, xlsx=False),
            f"{rng.uniform(3, 500):.1f}",
            f"{self.city.name}某某路{rng.randint(1, 999)}号",
            district,
            status,
            spell_grade(grade, rng),
            (self.export_date + dt.timedelta(days=rng.randint(30, 1800))).isoformat() if grade else "",
            "开展行业交流、培训、咨询服务",
            self.names.phone(),
        ]

    def _new_code(self, department: str, category: str, district: str) -> str:
        """A credit code no other organization or enterprise of the city has (random ones can collide)."""
        while (code := make_code(department, category, district, self.rng)) in self.codes:
            pass
        self.codes.add(code)
        return code

    def _enterprises(self, count: int) -> list[tuple[str, str]]:
        """The city's member enterprises (code, name); some are on the qualification lists."""
        enterprises = []
        for n in range(count):
            trade = TRADES[n % len(TRADES)]
            code = self._new_code("9", "1", self.rng.choice(self.city.districts))
            enterprise = (
                code,
                f"{self.short}{_brand(n)}{trade}{ENTERPRISE_SUFFIX[n % len(ENTERPRISE_SUFFIX)]}",
            )
            enterprises.append(enterprise)
            self.lists.maybe_list(enterprise, self.rng)
        return enterprises

    def _membership(self, association: str, k: int, listed: list[tuple[str, str]]) -> None:
        headers = MEMBER_HEADERS[k % len(MEMBER_HEADERS)]
        fmt = ("utf-8", "utf-8", "gb18030")[k % 3]
        name = f"membership_{association}_{self.export_date:%Y%m%d}.csv"
        with self._open("membership", name, fmt) as writer:
            writer.writerow(["序号"] + [headers[c] for c in MEMBER_COLUMNS[1:]])
            for n, (code, enterprise) in enumerate(listed, start=1):
                role = self.rng.choices([r for r, _ in ROLES], [w for _, w in ROLES])[0]
                joined = random_day(self.rng, dt.date(2005, 1, 1), self.export_date - dt.timedelta(days=1))
                shown = code if self.rng.random() < 0.75 else ""
                contact = self.names.person()
                writer.writerow([n, enterprise, shown, "单位会员", role, spell_date(joined, self.rng, False),
                                 "正常", contact, self.names.phone()])  # fmt: skip
                self.bar.update(1)

    def _open(self, source: str, name: str, fmt: str):
        return _csv_writer(self.out / source / self.export_date.isoformat() / name, fmt)


def _brand(n: int) -> str:
    """Three name characters unique for n below 60³: 华恒瑞, 恒恒瑞, …"""
    size = len(BRAND)
    return BRAND[n % size] + BRAND[n // size % size] + BRAND[n // size // size % size]


def _as_workbook(path: Path, encoding: str) -> Path:
    """The CSV export written again as an .xlsx workbook beside it (row for row, all text), the CSV gone."""
    import xlsxwriter

    book_path = path.with_suffix(".xlsx")
    book = xlsxwriter.Workbook(str(book_path), {"constant_memory": True, "strings_to_numbers": False})
    sheet = book.add_worksheet()
    with path.open(encoding=encoding, newline="") as fh:
        for r, row in enumerate(csv.reader(fh)):
            sheet.write_row(r, 0, row)
    book.close()
    path.unlink()
    return book_path


@contextlib.contextmanager
def _csv_writer(path: Path, encoding: str):
    """A CSV export written row by row, CRLF line ends, in the export's encoding."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as fh:
        yield csv.writer(fh, lineterminator="\r\n")


class _Qualifications:
    """The national qualification lists, open for the whole run; enterprises are added as drawn."""

    def __init__(self, out: Path, export_date: dt.date) -> None:
        self.folder = out / "qualifications" / export_date.isoformat()
        self.counts = dict.fromkeys(QUALIFICATION_SHARES, 0)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())

    def __enter__(self) -> _Qualifications:
        self.files = contextlib.ExitStack()
        self.writers = {}
        for flag in QUALIFICATION_SHARES:
            stem = FLAG_LISTS[flag][1]
            self.writers[flag] = self.files.enter_context(_csv_writer(self.folder / f"{stem}.csv", "utf-8"))
            self.writers[flag].writerow(QUALIFICATION_HEADERS)
        return self

    def maybe_list(self, enterprise: tuple[str, str], rng) -> None:
        for flag, share in QUALIFICATION_SHARES.items():
            if rng.random() < share:
                self.counts[flag] += 1
                label, _, years = FLAG_LISTS[flag]
                year = rng.choice([2021, 2022, 2023])
                valid = dt.date(year + years, 12, 31).isoformat() if years else ""
                self.writers[flag].writerow(
                    [self.counts[flag], enterprise[1], enterprise[0], label, year, valid]
                )

    def __exit__(self, *exc) -> None:
        self.files.close()
