"""Write a night's sample exports for the chosen cities, and the ground truth they were built to."""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass
from pathlib import Path

from ingest.sample.cities import CITIES, CityProfile, held_on, read_seed
from ingest.sample.eras import lists_delivered, registry_keys
from ingest.sample.exportfile import ExportTable, write_export
from ingest.sample.funding import funding_tables
from ingest.sample.members import CityMembers, city_members, membership_tables, qualification_tables
from ingest.sample.names import NamePool
from ingest.sample.nights import (
    changes_between,
    evolve,
    evolve_members,
    membership_changes_between,
    membership_state,
    qualification_changes_between,
    qualification_state,
    tracked_state,
)
from ingest.sample.registry import Org, city_orgs, registry_table
from ingest.sample.standing import standing_lists
from ingest.sample.standing_files import standing_tables

FLAGS = ("listed", "leading", "srdi", "high_tech", "top100_private")


def write_sample(out: Path, export_date: dt.date, city: str = "all", seed: int = 7) -> dict:
    """Write `<out>/<source>/<date>/<file>` for the cities and `<out>/_truth/<date>.json`."""
    return write_nights(out, export_date, 1, city, seed)[0]


def write_nights(out: Path, start: dt.date, nights: int, city: str = "all", seed: int = 7) -> list[dict]:
    """Write `nights` consecutive nights from `start`, the same organizations changing between them."""
    return write_dates(out, [start + dt.timedelta(days=k) for k in range(nights)], city, seed)


def write_dates(
    out: Path, dates: list[dt.date], city: str = "all", seed: int = 7, archive: bool = False
) -> list[dict]:
    """Write a night for each date, in date order, the same organizations changing between them (as
    many changes between two snapshots a year apart as between two nights in a row).

    Each night has its own `_truth/<date>.json`; `_truth/changes.json` lists every registry change
    (night, credit code, change) the generator made from the second night on, and
    `_truth/membership_changes.json` every membership change (joined, left, role_changed) among the
    members listed with their credit code, and `_truth/qualification_changes.json` every qualification
    of a member enterprise granted or expired.

    `archive`: the exports look as they did in their year (ingest.sample.eras): before 2016 the
    registry names organizations by registration number, in 2016 and 2017 by credit code and
    registration number; member, qualification and purchase-of-service lists only from 2021.
    """
    dates = sorted(dates)
    start, nights = dates[0], len(dates)
    keys = list(CITIES) if city == "all" else [city]
    rng = random.Random(f"socorg:{seed}:{start.isoformat()}")
    names = NamePool(rng)
    cities = []
    for key in keys:
        profile = CITIES[key]
        cities.append((profile, city_orgs(profile, rng, names), city_members(profile, rng, names)))
    truths, changes, member_changes, qualification_changes = [], [], [], []
    before: dict[str, dict] = {}
    members_before: dict = {}
    held_before: set = set()
    for k, night in enumerate(dates):
        era = Era.of(night) if archive else Era()
        if k:
            listed_before = not archive or Era.of(dates[k - 1]).lists  # members change once listed
            for profile, orgs, members in cities:
                evolve(profile, orgs, night, rng, names)
                if listed_before:
                    evolve_members(profile, members, night, rng, names)
        truths.append(_write_night(out, night, seed, cities, rng, names, era, dates[:k]))
        after = {code: s for _, orgs, _ in cities for code, s in tracked_state(orgs, night).items()}
        members_after = membership_state([members for _, _, members in cities])
        held_after = qualification_state([members for _, _, members in cities], night)
        if k:
            changes += changes_between(before, after, night)
            if archive and "credit_code" not in Era.of(dates[k - 1]).keys and "credit_code" in era.keys:
                changes += [  # each organization listed by registration number before gets its code
                    {"night": night.isoformat(), "credit_code": code, "change": "credit_code_assigned"}
                    for code in sorted(set(before) & set(after))
                ]
            member_changes += membership_changes_between(members_before, members_after, night)
            qualification_changes += qualification_changes_between(held_before, held_after, night)
        _count_deregistrations(truths[-1], changes, cities, night)
        _save_truth(out, truths[-1])
        before, members_before, held_before = after, members_after, held_after
    if nights > 1:
        for name, listed in (
            ("changes", changes),
            ("membership_changes", member_changes),
            ("qualification_changes", qualification_changes),
        ):
            path = out / "_truth" / f"{name}.json"
            path.write_text(json.dumps(listed, ensure_ascii=False, indent=1), encoding="utf-8")
    return truths


@dataclass(frozen=True)
class Era:
    """What a night's exports hold: the registry's identifiers, and whether the lists come."""

    keys: tuple[str, ...] = ("credit_code",)
    lists: bool = True

    @classmethod
    def of(cls, export_date: dt.date) -> Era:
        return cls(registry_keys(export_date), lists_delivered(export_date))


def _write_night(
    out: Path,
    export_date: dt.date,
    seed: int,
    cities: list,
    rng,
    names: NamePool,
    era: Era = Era(),
    earlier: list[dt.date] = (),
) -> dict:
    """One night's exports of every city and its `_truth/<date>.json`."""
    truth: dict = {
        "export_date": export_date.isoformat(),
        "seed": seed,
        "cities": {},
        "quarantine": [],
        "personal_values": [],
        "rows": {},
    }
    lists_input = []
    for profile, orgs, members in cities:
        registry, personal = registry_table(profile, orgs, export_date, rng, names, era.keys)
        _write(out, "registry", export_date, [registry], truth)
        truth["personal_values"] += personal
        if era.lists:
            memberships, former, member_personal = membership_tables(
                profile, members, export_date, rng, names
            )
            lists_input.append((profile, members, former))
            _write(out, "membership", export_date, memberships, truth)
            truth["personal_values"] += member_personal
    funded: dict[str, int | None] = {profile.code: None for profile, _, _ in cities}
    standing: dict[str, dict | None] = {profile.code: None for profile, _, _ in cities}
    truth["standing_unmatched"] = []
    if era.lists:
        _write(out, "qualifications", export_date, qualification_tables(lists_input, rng, names), truth)
        designated = [
            (p, orgs, [a["association_credit_code"] for a in m.associations]) for p, orgs, m in cities
        ]
        funding, funded = funding_tables(designated, export_date, seed)
        _write(out, "funding", export_date, funding, truth)
        # Published once a year (the first night of a run, and of each year): the warehouse keeps the
        # latest, so other nights draw the same lists again to know what it holds.
        delivered = min(night for night in [*earlier, export_date] if night.year == export_date.year)
        lists = standing_lists(designated, delivered, seed)
        if delivered == export_date:
            tables, standing_personal = standing_tables(lists)
            for source, found in tables.items():
                _write(out, source, export_date, found, truth)
            truth["personal_values"] += standing_personal
        standing = {c.profile.code: c.figures(export_date) for c in lists}
        truth["standing_unmatched"] = sorted(name for c in lists for name in c.unmatched())
    for profile, orgs, members in cities:  # after the lists: certificates are drawn when first listed
        truth["cities"][profile.code] = _city_truth(profile, orgs, members, export_date, era, earlier)
        summary = truth["cities"][profile.code]["city_summary"]
        summary["funded_cluster_association_count"] = funded[profile.code]
        truth["cities"][profile.code]["standing"] = standing[profile.code]
    truth["personal_values"] = sorted(set(v for v in truth["personal_values"] if v))
    # Members written in another spelling without their code: matching must find each one's code.
    truth["variant_members"] = [
        {"association_credit_code": assoc, "member_credit_code": code, "member_name": listing.spelled_name}
        for _, _, members in cities
        for (assoc, code), listing in sorted(members.listings.items())
        if listing.variant and not listing.shows_code
    ]
    return truth


def _count_deregistrations(truth: dict, changes: list[dict], cities: list, night: dt.date) -> None:
    """Each city's deregistered_in_year (when known): the deregistrations and revocations of the
    night's year up to it, as the nights that first showed them counted them."""
    city_of = {o.code: profile.code for profile, orgs, _ in cities for o in orgs}
    for code, figures in truth["cities"].items():
        summary = figures["city_summary"]
        if "deregistered_in_year" not in summary:
            summary["deregistered_in_year"] = sum(
                c["change"] in ("deregistered", "revoked")
                and c["night"][:4] == night.isoformat()[:4]
                and city_of.get(c["credit_code"]) == code
                for c in changes
            )


def _save_truth(out: Path, truth: dict) -> None:
    path = out / "_truth" / f"{truth['export_date']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")


def _write(out: Path, source: str, export_date: dt.date, tables: list[ExportTable], truth: dict) -> None:
    folder = out / source / export_date.isoformat()
    for table in tables:
        write_export(table, folder)
        truth["rows"][source] = truth["rows"].get(source, 0) + len(table.rows)
        truth["quarantine"] += [
            {"source": source, "file": table.file_name, "row": row, "reason": reason}
            for row, reason in table.bad_rows()
        ]


def _city_truth(
    profile: CityProfile,
    orgs: list[Org],
    members: CityMembers,
    export_date: dt.date,
    era: Era = Era(),
    earlier: list[dt.date] = (),
) -> dict:
    """The figures the marts must show for this city, computed from what was generated: the reference
    data as it held on the night, member and qualification figures unknown (None) on a night without
    the lists its designated associations would send."""
    active = [o for o in orgs if o.status == "active"]
    by_type = {t: sum(o.org_type == t for o in active) for t in profile.active}
    held = [
        r
        for r in read_seed("cluster_associations")
        if r["city_code"] == profile.code and held_on(r, export_date)
    ]
    clusters = [
        r for r in read_seed("cluster_taxonomy") if r["city_code"] == profile.code and held_on(r, export_date)
    ]
    cluster_of = {a["association_credit_code"]: a["cluster_code"] for a in held}
    per_cluster: dict[str, set[str]] = {c["cluster_code"]: set() for c in clusters}
    per_association: dict[str, int] = {}
    for code, ents in members.members.items():
        if code in cluster_of:
            per_cluster[cluster_of[code]].update(e.code for e in ents)
            per_association[code] = len(ents)
    everyone = {e.code: e for code, ents in members.members.items() if code in cluster_of for e in ents}
    known = era.lists or not held  # figures of lists that did not come are unknown

    def flagged(flag: str) -> int:
        wanted = {"unicorn", "little_giant"} if flag == "leading" else {flag}
        return sum(any(e.holds(f, export_date) for f in wanted) for e in everyone.values())

    high_grade = sum((o.effective_grade(export_date) or 0) >= 3 for o in active if o.code in cluster_of)
    listed = {o.code for o in orgs}
    points = [r for r in read_seed("exhibition_points") if r["city_code"] == profile.code]
    summary = {
        "active_org_count": len(active),
        "social_group_count": by_type["social_group"],
        "social_service_org_count": by_type["social_service_org"],
        "foundation_count": by_type["foundation"],
        "registered_in_year": sum(o.registered_on.year == export_date.year for o in orgs),
        "cluster_count": len(clusters),
        "clusters_with_association": len({cluster_of[a] for a in cluster_of}),
        "cluster_association_count": len(held),
        # before credit codes, an association not in the export may be there under a key it cannot be
        # found by: the count is unknown unless each is found (by organization code or name)
        "high_grade_cluster_association_count": high_grade
        if "credit_code" in era.keys or all(a["association_credit_code"] in listed for a in held)
        else None,
        "cluster_member_enterprise_count": len(everyone) if known else None,
        **{f"{flag}_count": flagged(flag) if known else None for flag in FLAGS},
        "exhibition_point_count": sum(held_on(r, export_date) for r in points),
    }
    if not any(night.year < export_date.year for night in earlier):  # no snapshot of an earlier year
        summary["deregistered_in_year"] = None
    return {
        "city_summary": summary,
        "cluster_member_enterprises": {k: len(v) for k, v in per_cluster.items()},
        "association_member_enterprises": per_association,
        "inactive_org_count": len(orgs) - len(active),
    }
