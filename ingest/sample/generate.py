"""Write a night's sample exports for the chosen cities, and the ground truth they were built to."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

from ingest.sample.cities import CITIES, CityProfile, read_seed
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

FLAGS = ("listed", "leading", "srdi", "high_tech", "top100_private")


def write_sample(out: Path, export_date: dt.date, city: str = "all", seed: int = 7) -> dict:
    """Write `<out>/<source>/<date>/<file>` for the cities and `<out>/_truth/<date>.json`."""
    return write_nights(out, export_date, 1, city, seed)[0]


def write_nights(out: Path, start: dt.date, nights: int, city: str = "all", seed: int = 7) -> list[dict]:
    """Write `nights` consecutive nights from `start`, the same organizations changing between them.

    Each night has its own `_truth/<date>.json`; `_truth/changes.json` lists every registry change
    (night, credit code, change) the generator made from the second night on, and
    `_truth/membership_changes.json` every membership change (joined, left, role_changed) among the
    members listed with their credit code, and `_truth/qualification_changes.json` every qualification
    of a member enterprise granted or expired.
    """
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
    for k in range(nights):
        night = start + dt.timedelta(days=k)
        if k:
            for profile, orgs, members in cities:
                evolve(profile, orgs, night, rng, names)
                evolve_members(profile, members, night, rng, names)
        truths.append(_write_night(out, night, seed, cities, rng, names))
        after = {code: s for _, orgs, _ in cities for code, s in tracked_state(orgs, night).items()}
        members_after = membership_state([members for _, _, members in cities])
        held_after = qualification_state([members for _, _, members in cities], night)
        if k:
            changes += changes_between(before, after, night)
            member_changes += membership_changes_between(members_before, members_after, night)
            qualification_changes += qualification_changes_between(held_before, held_after, night)
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


def _write_night(out: Path, export_date: dt.date, seed: int, cities: list, rng, names: NamePool) -> dict:
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
        registry, personal = registry_table(profile, orgs, export_date, rng, names)
        memberships, former, member_personal = membership_tables(profile, members, export_date, rng, names)
        lists_input.append((profile, members, former))
        for source, tables in (("registry", [registry]), ("membership", memberships)):
            _write(out, source, export_date, tables, truth)
        truth["personal_values"] += personal + member_personal
    _write(out, "qualifications", export_date, qualification_tables(lists_input, rng, names), truth)
    designated = [(p, orgs, [a["association_credit_code"] for a in m.associations]) for p, orgs, m in cities]
    funding, funded = funding_tables(designated, export_date, seed)
    _write(out, "funding", export_date, funding, truth)
    for profile, orgs, members in cities:  # after the lists: certificates are drawn when first listed
        truth["cities"][profile.code] = _city_truth(profile, orgs, members, export_date)
        summary = truth["cities"][profile.code]["city_summary"]
        summary["funded_cluster_association_count"] = funded[profile.code]
    truth["personal_values"] = sorted(set(v for v in truth["personal_values"] if v))
    # Members written in another spelling without their code: matching must find each one's code.
    truth["variant_members"] = [
        {"association_credit_code": assoc, "member_credit_code": code, "member_name": listing.spelled_name}
        for _, _, members in cities
        for (assoc, code), listing in sorted(members.listings.items())
        if listing.variant and not listing.shows_code
    ]
    truth_path = out / "_truth" / f"{export_date.isoformat()}.json"
    truth_path.parent.mkdir(parents=True, exist_ok=True)
    truth_path.write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    return truth


def _write(out: Path, source: str, export_date: dt.date, tables: list[ExportTable], truth: dict) -> None:
    folder = out / source / export_date.isoformat()
    for table in tables:
        write_export(table, folder)
        truth["rows"][source] = truth["rows"].get(source, 0) + len(table.rows)
        truth["quarantine"] += [
            {"source": source, "file": table.file_name, "row": row, "reason": reason}
            for row, reason in table.bad_rows()
        ]


def _city_truth(profile: CityProfile, orgs: list[Org], members: CityMembers, export_date: dt.date) -> dict:
    """The figures the marts must show for this city, computed from what was generated."""
    active = [o for o in orgs if o.status == "active"]
    by_type = {t: sum(o.org_type == t for o in active) for t in profile.active}
    clusters = [r for r in read_seed("cluster_taxonomy") if r["city_code"] == profile.code]
    cluster_of = {a["association_credit_code"]: a["cluster_code"] for a in members.associations}
    per_cluster: dict[str, set[str]] = {c["cluster_code"]: set() for c in clusters}
    per_association: dict[str, int] = {}
    for code, ents in members.members.items():
        per_cluster[cluster_of[code]].update(e.code for e in ents)
        per_association[code] = len(ents)
    everyone = {e.code: e for ents in members.members.values() for e in ents}

    def flagged(flag: str) -> int:
        wanted = {"unicorn", "little_giant"} if flag == "leading" else {flag}
        return sum(any(e.holds(f, export_date) for f in wanted) for e in everyone.values())

    designated = {a["association_credit_code"] for a in members.associations}
    high_grade = sum((o.effective_grade(export_date) or 0) >= 3 for o in active if o.code in designated)
    summary = {
        "active_org_count": len(active),
        "social_group_count": by_type["social_group"],
        "social_service_org_count": by_type["social_service_org"],
        "foundation_count": by_type["foundation"],
        "cluster_count": len(clusters),
        "clusters_with_association": len({cluster_of[a] for a in cluster_of}),
        "cluster_association_count": len(members.associations),
        "high_grade_cluster_association_count": high_grade,
        "cluster_member_enterprise_count": len(everyone),
        **{f"{flag}_count": flagged(flag) for flag in FLAGS},
    }
    return {
        "city_summary": summary,
        "cluster_member_enterprises": {k: len(v) for k, v in per_cluster.items()},
        "association_member_enterprises": per_association,
        "inactive_org_count": len(orgs) - len(active),
    }
