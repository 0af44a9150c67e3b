"""A sequence of nights: the registry changes between them, and the ground truth of every change."""

from __future__ import annotations

import datetime as dt
import random

from ingest.rules.creditcode import make_code
from ingest.sample.cities import CityProfile
from ingest.sample.members import ROLES, CityMembers, Enterprise, Listing
from ingest.sample.names import NamePool
from ingest.sample.registry import TOPICS, Org, name_prefix, new_org, settle

# How many of each change a city sees in a night (at most; fewer when too few organizations qualify).
CHANGES_PER_NIGHT = {
    "registered": 4,
    "deregistered": 3,
    "revoked": 1,
    "reinstated": 1,
    "renamed": 2,
    "grade_gained": 2,
    "grade_raised": 1,
    "grade_lowered": 1,
    "grade_expired": 1,
}


def evolve(city: CityProfile, orgs: list[Org], night: dt.date, rng: random.Random, names: NamePool) -> None:
    """Make tonight's changes to a city's organizations (designated ones are left alone)."""
    movable = [o for o in orgs if not o.designated and o.registered_on is not None]
    active = [o for o in movable if o.status == "active"]
    picked: set[str] = set()

    def pick(candidates: list[Org], n: int) -> list[Org]:
        free = [o for o in candidates if o.code not in picked]
        chosen = rng.sample(free, min(n, len(free)))
        picked.update(o.code for o in chosen)
        return chosen

    for org in pick(active, CHANGES_PER_NIGHT["deregistered"]):
        org.status = "deregistered"
    for org in pick(active, CHANGES_PER_NIGHT["revoked"]):
        org.status = "revoked"
    for org in pick([o for o in movable if o.status != "active"], CHANGES_PER_NIGHT["reinstated"]):
        org.status = "active"
    for org in pick(active, CHANGES_PER_NIGHT["renamed"]):
        topics, suffixes = TOPICS[org.org_type]
        prefix = name_prefix(city, org.registrar)
        org.name = names.organization(prefix, rng.choice(topics), rng.choice(suffixes))
    valid = [o for o in active if o.effective_grade(night) is not None and o.grade_valid_until]
    ungraded = [o for o in active if o.effective_grade(night) is None]
    for org in pick(ungraded, CHANGES_PER_NIGHT["grade_gained"]):
        org.grade = rng.choice([3, 4, 5])
        org.grade_valid_until = night.replace(year=night.year + 5)
    for org in pick([o for o in valid if o.grade < 5], CHANGES_PER_NIGHT["grade_raised"]):
        org.grade += 1
    for org in pick([o for o in valid if o.grade > 1], CHANGES_PER_NIGHT["grade_lowered"]):
        org.grade -= 1
    for org in pick(valid, CHANGES_PER_NIGHT["grade_expired"]):
        org.grade_valid_until = night - dt.timedelta(days=1)
    for _ in range(CHANGES_PER_NIGHT["registered"]):
        org = new_org(city, rng.choice(["social_group", "social_service_org"]), "active", rng, names)
        settle(city, org, night, rng)
        org.registered_on, org.grade, org.grade_valid_until = night, None, None
        orgs.append(org)


def tracked_state(orgs: list[Org], snapshot: dt.date) -> dict[str, dict]:
    """Per credit code, the attributes history tracks, as the pipeline reads them from the export."""
    return {
        o.code: {
            "name": o.name.replace("(", "（").replace(")", "）"),
            "org_type": o.org_type,
            "status": o.status,
            "grade": o.effective_grade(snapshot),
        }
        for o in orgs
    }


def changes_between(before: dict[str, dict], after: dict[str, dict], night: dt.date) -> list[dict]:
    """Every change from one snapshot to the next, as `registry_changes` must list it."""
    changes = []
    for code, now in after.items():
        was = before.get(code)
        kinds = ["registered"] if was is None else _kinds(was, now)
        changes += [{"night": night.isoformat(), "credit_code": code, "change": k} for k in kinds]
    return sorted(changes, key=lambda c: (c["credit_code"], c["change"]))


def _kinds(was: dict, now: dict) -> list[str]:
    kinds = []
    if was["status"] != now["status"]:
        kinds.append("reinstated" if now["status"] == "active" else now["status"])
    if was["name"] != now["name"]:
        kinds.append("renamed")
    if was["org_type"] != now["org_type"]:
        kinds.append("type_changed")
    old, new = was["grade"], now["grade"]
    if old is None and new is not None:
        kinds.append("grade_gained")
    elif old is not None and new is None:
        kinds.append("grade_expired")
    elif old is not None and new != old:
        kinds.append("grade_raised" if new > old else "grade_lowered")
    return kinds


MEMBER_CHANGES_PER_NIGHT = {"joined": 3, "left": 2, "role_changed": 2, "certified": 2, "expired": 2}


def evolve_members(
    city: CityProfile, cm: CityMembers, night: dt.date, rng: random.Random, names: NamePool
) -> None:
    """Tonight's membership changes: enterprises join, members leave, roles change (all listed by code);
    members gain a high-tech certificate or see one expire (the lists keep the expired row)."""
    listed = [
        (code, ent)
        for code, ents in sorted(cm.members.items())
        for ent in ents
        if cm.listings.get((code, ent.code)) and cm.listings[(code, ent.code)].shows_code
    ]
    chosen = rng.sample(listed, MEMBER_CHANGES_PER_NIGHT["left"] + MEMBER_CHANGES_PER_NIGHT["role_changed"])
    for code, ent in chosen[: MEMBER_CHANGES_PER_NIGHT["left"]]:
        cm.members[code].remove(ent)
        cm.former.setdefault(code, []).append((ent, "已退会"))
        cm.listings[(code, ent.code)].status = "已退会"
    for code, ent in chosen[MEMBER_CHANGES_PER_NIGHT["left"] :]:
        listing = cm.listings[(code, ent.code)]
        listing.role = rng.choice([r for r, _ in ROLES if r != listing.role])
    members = sorted(
        {ent.code: ent for ents in cm.members.values() for ent in ents}.values(), key=lambda e: e.code
    )
    for ent in rng.sample(
        [e for e in members if "high_tech" not in e.flags], MEMBER_CHANGES_PER_NIGHT["certified"]
    ):
        ent.flags.add("high_tech")
        ent.certificates["high_tech"] = (night.year, dt.date(night.year + 3, 12, 31))
    holders = [e for e in members if e.holds("high_tech", night) and "high_tech" in e.certificates]
    for ent in rng.sample(holders, MEMBER_CHANGES_PER_NIGHT["expired"]):
        year, _ = ent.certificates["high_tech"]
        ent.certificates["high_tech"] = (year, night - dt.timedelta(days=1))
    for _ in range(MEMBER_CHANGES_PER_NIGHT["joined"]):
        code = rng.choice(sorted(cm.members))
        ent = Enterprise(
            make_code("9", "1", rng.choice(list(city.districts)), rng), names.enterprise(city.short, "科技")
        )
        cm.enterprises.append(ent)
        cm.members[code].append(ent)
        cm.listings[(code, ent.code)] = Listing("会员单位", night, True, ent.name, "单位会员")


def membership_state(cities_members: list[CityMembers]) -> dict[tuple[str, str], str]:
    """Per (association, member code) listed with its code and active tonight: the member's role."""
    return {
        (code, ent.code): cm.listings[(code, ent.code)].role
        for cm in cities_members
        for code, ents in cm.members.items()
        for ent in ents
        if (code, ent.code) in cm.listings and cm.listings[(code, ent.code)].shows_code
    }


def membership_changes_between(before: dict, after: dict, night: dt.date) -> list[dict]:
    """Joined, left and role changes from one night's memberships to the next."""

    def change(key, kind):
        return {
            "night": night.isoformat(),
            "association_credit_code": key[0],
            "member_credit_code": key[1],
            "change": kind,
        }

    changes = [change(k, "joined") for k in after.keys() - before.keys()]
    changes += [change(k, "left") for k in before.keys() - after.keys()]
    changes += [change(k, "role_changed") for k in after.keys() & before.keys() if after[k] != before[k]]
    return sorted(changes, key=lambda c: (c["association_credit_code"], c["member_credit_code"], c["change"]))


def qualification_state(cities_members: list[CityMembers], night: dt.date) -> set[tuple[str, str]]:
    """(enterprise code, qualification) held on the night by the member enterprises."""
    return {
        (ent.code, flag)
        for cm in cities_members
        for ent in cm.enterprises
        for flag in ent.flags
        if ent.holds(flag, night)
    }


def qualification_changes_between(before: set, after: set, night: dt.date) -> list[dict]:
    """Qualifications granted and expired from one night to the next."""
    changes = [(code, flag, "granted") for code, flag in after - before]
    changes += [(code, flag, "expired") for code, flag in before - after]
    return [
        {"night": night.isoformat(), "credit_code": code, "qualification": flag, "change": kind}
        for code, flag, kind in sorted(changes)
    ]
