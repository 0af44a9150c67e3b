"""Sample standing lists (年检结论, 年度工作报告, 信用名单) as the bureaus keep them, and their figures."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from ingest.sample.cities import CityProfile, read_seed
from ingest.sample.names import BRAND
from ingest.sample.registry import Org
from ingest.sample.spelling import random_day

PASSED, REMARKS, FAILED, ABSENT = "passed", "passed_with_remarks", "failed", "not_inspected"
INSPECTED = (PASSED, REMARKS, FAILED)
# The shares of a real list (one province's 2014 inspection: 869 inspected, 765 合格, 97 基本合格,
# 7 不合格), and a few organizations that took no part.
RESULT_WEIGHTS = {PASSED: 765, REMARKS: 97, FAILED: 7, ABSENT: 26}
# An authority whose lists are not declared complete (seed standing_authorities) publishes part of its
# organizations: absence from its list says nothing.
INCOMPLETE_SHARE = 0.12
OMITTED = 4  # due organizations a complete list leaves out in its latest year, besides a designated one
NAME_ONLY = 3  # rows per inspection list naming an organization by name alone
ABNORMAL_ENTRIES = 8  # 活动异常名录 entries per city besides the designated associations'
COLUMN_ENTRIES = {"abnormal": 4, "serious_violation": 2}  # the file with a 名录类别 column
ABNORMAL_REASONS = [
    "未按规定参加年度检查",
    "未按规定报送年度工作报告",
    "通过登记的住所无法与社会组织取得联系",
    "未按规定履行信息公开义务",
]
SERIOUS_REASONS = ["被列入活动异常名录满2年", "弄虚作假办理变更登记，被撤销变更登记"]


@dataclass(frozen=True)
class Style:
    """How one city's bureau spells and lays out its lists, and which roles and bad rows they carry."""

    results: dict[str, str]  # canonical conclusion → how the bureau writes it
    org_header: str
    result_header: str
    inspection_formats: tuple[str, str]  # the older year's list, the latest's
    inspection_title: bool  # the latest list opens with the bureau's notice
    year_column: bool  # the latest list has a 年检年度 column
    report_format: str
    report_unit: int  # 元 per unit of the amounts (10,000: 万元, said by the title line)
    report_year_column: bool
    credit_formats: tuple[str, str | None]  # the titled 活动异常名录, the file with a 名录类别 column
    roles: tuple[str, ...]  # what happens to designated associations (ROLE_RESULTS)
    bad: frozenset[str]  # the bad rows (and the unknown organization) this city's files carry


STYLES = {
    "suzhou": Style(
        results={PASSED: "合格", REMARKS: "基本合格", FAILED: "不合格", ABSENT: "未参检"},
        org_header="社会组织名称",
        result_header="年检结论",
        inspection_formats=("xlsx", "utf-8"),
        inspection_title=True,
        year_column=False,
        report_format="gb18030",
        report_unit=1,
        report_year_column=True,
        credit_formats=("xlsx", None),
        roles=("failed", "abnormal", "absent", "removed"),
        bad=frozenset({"unmatched", "amount_unparseable"}),
    ),
    "shenzhen": Style(
        results={
            PASSED: "年检合格",
            REMARKS: "基本合格（整改）",
            FAILED: "不合格（限期整改）",
            ABSENT: "未参加年检",
        },
        org_header="单位名称",
        result_header="年检结果",
        inspection_formats=("gb18030", "xlsx"),
        inspection_title=False,
        year_column=True,
        report_format="xlsx",
        report_unit=10_000,
        report_year_column=False,
        credit_formats=("utf-8", "gb18030"),
        roles=("failed", "abnormal", "remarks_twice", "remarks_once", "not_inspected"),
        bad=frozenset(
            {
                "inspection_result_unknown",
                "conflicting_result",
                "year_after_export",
                "removed_on_before_included_on",
            }
        ),
    ),
}
# Results of designated associations by role, for the older and the latest year (None: left out of a
# complete list, so not inspected).
ROLE_RESULTS = {
    "failed": (PASSED, FAILED),
    "abnormal": (PASSED, PASSED),
    "absent": (PASSED, None),
    "removed": (PASSED, PASSED),
    "remarks_twice": (REMARKS, REMARKS),
    "remarks_once": (PASSED, REMARKS),
    "not_inspected": (PASSED, ABSENT),
}


@dataclass
class Conclusion:
    """One row of an inspection list; `org` None for an organization no registry knows."""

    org: Org | None
    name: str
    year: int
    result: str  # canonical, or as written when bad
    shows_code: bool = True
    bad: str | None = None
    year_cell: object = None  # a 年检年度 other than the list's year (a bad row)


@dataclass
class Entry:
    """One entry of a credit list."""

    org: Org
    kind: str  # abnormal | serious_violation
    included_on: dt.date
    reason: str
    removed_on: dt.date | None = None
    bad: str | None = None
    in_column_file: bool = False


@dataclass
class CityLists:
    """A city's lists as delivered on one night, before they are spelled into files."""

    profile: CityProfile
    style: Style
    delivered: dt.date
    seed: int
    complete: bool
    designated: list[str]
    years: tuple[int, int]  # the older and the latest inspection year
    due: dict[int, set[str]]  # per year, the codes of the authority's organizations registered by its end
    roles: dict[str, str] = field(default_factory=dict)  # designated association code → role
    conclusions: list[Conclusion] = field(default_factory=list)
    reported: list[tuple[Org, str | None]] = field(default_factory=list)  # (organization, bad reason)
    entries: list[Entry] = field(default_factory=list)
    batches: tuple[dt.date, dt.date] = (dt.date.min, dt.date.min)  # the credit lists' dates

    def figures(self, night: dt.date) -> dict:
        """What the marts must show on a night while these are the latest lists (truth "standing")."""
        results = self._results()
        latest = self.years[-1]
        counted = [r for (_, year), r in results.items() if year == latest and r in INSPECTED]
        listed = self.on_list(night)
        ineligible = []
        for code in self.designated:
            found = [results.get((code, y)) for y in self.years]
            known = [r for r in found if r]
            last_bad = bool(known) and known[-1] in (FAILED, ABSENT)
            if last_bad or found[-2:] == [REMARKS, REMARKS] or code in listed:
                ineligible.append(code)
        return {
            "inspection_year": latest,
            "inspected_count": len(counted),
            "inspection_passed_share": round(sum(r != FAILED for r in counted) / len(counted), 4)
            if counted
            else None,
            "on_credit_list_count": len(listed),
            "associations_not_in_good_standing": sorted(ineligible),
        }

    def _results(self) -> dict[tuple[str, int], str]:
        """(credit code, year) → the conclusion loaded; absence from a complete list is not_inspected."""
        results = {(c.org.code, c.year): c.result for c in self.conclusions if c.org and not c.bad}
        if self.complete:
            for year, codes in self.due.items():
                for code in codes:
                    results.setdefault((code, year), ABSENT)
        return results

    def on_list(self, night: dt.date) -> set[str]:
        """Codes of the active organizations on a credit list on the night (organization_standing holds
        the active ones)."""
        return {
            e.org.code
            for e in self.entries
            if not e.bad
            and e.org.status == "active"
            and e.included_on <= night
            and (e.removed_on is None or e.removed_on > night)
        }

    def unmatched(self) -> list[str]:
        """Names of the listed organizations no registry knows."""
        return [c.name for c in self.conclusions if c.org is None]


def standing_lists(
    cities: list[tuple[CityProfile, list[Org], list[str]]], delivered: dt.date, seed: int
) -> list[CityLists]:
    """Each city's lists as its bureau delivered them on `delivered`: the inspections of the two years
    before, the annual reports of the last, the credit lists.

    `cities` holds each city's profile, organizations and designated association codes. A separate
    random stream per city and delivery: adding the lists changes no other sample file; and they depend
    only on what later nights never change (credit codes, registration dates, designated organizations),
    so a later night draws them again to know what the warehouse holds.
    """
    complete = {r["authority_code"]: r["complete_lists"] == "true" for r in read_seed("standing_authorities")}
    out = []
    for profile, orgs, designated in cities:
        rng = random.Random(f"socorg:standing:{seed}:{delivered.isoformat()}:{profile.code}")
        years = (delivered.year - 2, delivered.year - 1)
        end = dt.date(years[-1], 12, 31)  # organizations registered since are on no list
        mine = sorted(
            (o for o in orgs if o.code[2:8] == profile.code and o.registered_on and o.registered_on <= end),
            key=lambda o: o.code,
        )
        due = {y: {o.code for o in mine if o.registered_on <= dt.date(y, 12, 31)} for y in years}
        is_complete = complete.get(profile.code, False)
        lists = CityLists(
            profile, STYLES[profile.key], delivered, seed, is_complete, list(designated), years, due
        )
        associations = [o for o in mine if o.code in set(designated) and o.code in due[years[0]]]
        rng.shuffle(associations)
        lists.roles = {o.code: role for o, role in zip(associations, lists.style.roles, strict=False)}
        _inspections(lists, mine, rng)
        _reports(lists, rng)
        _credit_entries(lists, mine, rng)
        out.append(lists)
    return out


def _inspections(lists: CityLists, mine: list[Org], rng: random.Random) -> None:
    """Both years' conclusions: every due organization on a complete list (but a few left out of the
    latest), a share on another; the city's bad rows, placed at random."""
    style, latest = lists.style, lists.years[-1]
    others = [o for o in mine if not o.designated and o.code in lists.due[latest]]
    kinds = [
        k for k in ("inspection_result_unknown", "conflicting_result", "year_after_export") if k in style.bad
    ]
    bad_orgs = dict(zip(kinds, rng.sample(others, len(kinds)), strict=True))
    taken = {o.code for o in bad_orgs.values()}
    left_out = {code for code, role in lists.roles.items() if ROLE_RESULTS[role][1] is None}
    if lists.complete:
        listed = [o for o in mine if o.code not in taken]
        left_out |= {o.code for o in rng.sample([o for o in listed if not o.designated], OMITTED)}
    else:
        free = [o for o in others if o.code not in taken]
        sampled = rng.sample(free, round(len(free) * INCOMPLETE_SHARE))
        listed = sorted([o for o in mine if o.designated] + sampled, key=lambda o: o.code)
    rng.shuffle(listed)  # bureaus list in their own order
    # Named without their code: designated organizations, whose names no later night changes.
    plain = [o for o in listed if o.designated and o.code not in lists.roles]
    name_only = {
        year: {o.code for o in rng.sample(plain, min(NAME_ONLY, len(plain)))} for year in lists.years
    }
    for org in listed:
        for k, year in enumerate(lists.years):
            if org.code not in lists.due[year] or (year == latest and org.code in left_out):
                continue
            if org.code in lists.roles:
                result = ROLE_RESULTS[lists.roles[org.code]][k]
            elif org.designated:
                result = PASSED  # the other designated organizations stay in good standing
            else:
                result = rng.choices(list(RESULT_WEIGHTS), weights=list(RESULT_WEIGHTS.values()))[0]
            lists.conclusions.append(
                Conclusion(org, spelled_name(org), year, result, org.code not in name_only[year])
            )
    written = {
        "inspection_result_unknown": [("优秀", None)],
        "conflicting_result": [(PASSED, None), (FAILED, None)],  # one organization, two conclusions
        "year_after_export": [(PASSED, lists.delivered.year + 1)],
    }
    bad = [
        Conclusion(org, spelled_name(org), latest, result, bad=kind, year_cell=year)
        for kind, org in bad_orgs.items()
        for result, year in written[kind]
    ]
    if "unmatched" in style.bad:  # no registry knows it: loaded, then dropped by the marts and named
        made_up = f"{lists.profile.name}{''.join(rng.sample(BRAND, 2))}传统工艺研究会"
        bad.append(Conclusion(None, made_up, latest, PASSED, shows_code=False))
    for row in bad:
        lists.conclusions.insert(rng.randrange(len(lists.conclusions) + 1), row)


def _reports(lists: CityLists, rng: random.Random) -> None:
    """The latest year's annual reports, of the organizations inspected that year; one amount unreadable."""
    latest = lists.years[-1]
    lists.reported = [
        (c.org, None)
        for c in lists.conclusions
        if c.org and not c.bad and c.year == latest and c.result in INSPECTED
    ]
    if "amount_unparseable" in lists.style.bad:
        k = rng.choice([i for i, (org, _) in enumerate(lists.reported) if not org.designated])
        lists.reported[k] = (lists.reported[k][0], "amount_unparseable")


def _credit_entries(lists: CityLists, mine: list[Org], rng: random.Random) -> None:
    """活动异常名录 entries (most of organizations that took no part in the inspection), one fixed and
    removed before the night; on a city with a 名录类别 file, its entries and the 严重违法失信名单's."""
    style, (older, latest) = lists.style, lists.years
    batch = lists.delivered - dt.timedelta(days=rng.randint(15, 60))
    column_batch = lists.delivered - dt.timedelta(days=rng.randint(3, 12))
    lists.batches = (batch, column_batch)
    start = dt.date(latest, 1, 1)
    used = {c.org.code for c in lists.conclusions if c.bad and c.org} | set(lists.roles)
    absent = [c.org for c in lists.conclusions if c.org and c.result == ABSENT and c.org.code not in used]
    absent = list({o.code: o for o in absent}.values())
    absent_codes = {o.code for o in absent}
    pool = [o for o in mine if not o.designated and o.code in lists.due[older] and o.code not in used]
    picked = rng.sample(absent, min(len(absent), ABNORMAL_ENTRIES // 2))
    picked += rng.sample([o for o in pool if o.code not in absent_codes], ABNORMAL_ENTRIES - len(picked) + 2)
    role_orgs = {
        role: [o for o in mine if lists.roles.get(o.code) == role] for role in ("abnormal", "removed")
    }
    for org in [*role_orgs["abnormal"], *picked[:ABNORMAL_ENTRIES]]:
        reason = ABNORMAL_REASONS[0] if org.code in absent_codes else rng.choice(ABNORMAL_REASONS[1:])
        lists.entries.append(Entry(org, "abnormal", random_day(rng, start, batch), reason))
    spare = picked[ABNORMAL_ENTRIES:]
    for org in role_orgs["removed"] or spare[:1]:  # fixed: removed before the night, no longer listed
        included = random_day(rng, dt.date(older, 1, 1), dt.date(older, 12, 31))
        removed = random_day(rng, included + dt.timedelta(days=30), batch)
        lists.entries.append(Entry(org, "abnormal", included, rng.choice(ABNORMAL_REASONS), removed))
    column = bool(style.credit_formats[1])
    if column:
        used |= {e.org.code for e in lists.entries}
        others = rng.sample([o for o in pool if o.code not in used], sum(COLUMN_ENTRIES.values()))
        for kind, n in COLUMN_ENTRIES.items():
            for org in others[:n]:
                reason = rng.choice(ABNORMAL_REASONS if kind == "abnormal" else SERIOUS_REASONS)
                included = random_day(rng, start, column_batch)
                lists.entries.append(Entry(org, kind, included, reason, in_column_file=True))
            others = others[n:]
    if "removed_on_before_included_on" in style.bad:  # in the file with a 名录类别 column, if any
        included = random_day(rng, start, column_batch if column else batch)
        gone = included - dt.timedelta(days=rng.randint(10, 90))
        bad = Entry(
            spare[-1],
            "abnormal",
            included,
            ABNORMAL_REASONS[1],
            gone,
            "removed_on_before_included_on",
            column,
        )
        lists.entries.insert(rng.randrange(len(lists.entries) + 1), bad)


def spelled_name(org: Org) -> str:
    """An organization's name as the bureaus write it (full-width brackets, as the registry does)."""
    return org.name.replace("(", "（").replace(")", "）")
