"""City profiles for the samples: counts to reproduce, districts, file formats (Suzhou, Shenzhen)."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field

from ingest.common.paths import SEEDS_DIR


@dataclass(frozen=True)
class CityProfile:
    """What one city's sample must contain and how its exports look."""

    key: str
    code: str
    name: str
    short: str
    districts: dict[str, str]
    active: dict[str, int]
    inactive: dict[str, int]
    registrar_from_district: bool
    registry_format: str
    registry_title: str
    registry_footer: str
    member_enterprises: int
    # exact counts of member enterprises per flag, or a share when the city has no published figure
    flags: dict[str, float]
    fixed_association_sizes: dict[str, int] = field(default_factory=dict)
    # designated cluster associations with a purchase-of-service project in the last 12 months
    funded_associations: int = 0


SUZHOU = CityProfile(
    key="suzhou",
    code="320500",
    name="苏州市",
    short="苏州",
    districts={
        "320508": "姑苏区",
        "320505": "虎丘区",
        "320506": "吴中区",
        "320507": "相城区",
        "320509": "吴江区",
        "320581": "常熟市",
        "320582": "张家港市",
        "320583": "昆山市",
        "320585": "太仓市",
        "320594": "苏州工业园区",
    },
    active={"social_group": 3329, "social_service_org": 4324, "foundation": 71},
    inactive={"deregistered": 212, "revoked": 37},
    registrar_from_district=True,
    registry_format="xlsx",
    registry_title="苏州市社会组织登记信息（截至{date_zh}）",
    registry_footer="合计：{n}",
    member_enterprises=11849,
    flags={"listed": 191, "leading": 308, "srdi": 292, "high_tech": 1127, "top100_private": 59},
    fixed_association_sizes={"医疗器械": 528},
    funded_associations=9,  # "fewer than 40 % of the 25": 9 of 25 = 36 %
)

SHENZHEN = CityProfile(
    key="shenzhen",
    code="440300",
    name="深圳市",
    short="深圳",
    districts={
        "440303": "罗湖区",
        "440304": "福田区",
        "440305": "南山区",
        "440306": "宝安区",
        "440307": "龙岗区",
        "440308": "盐田区",
        "440309": "龙华区",
        "440310": "坪山区",
        "440311": "光明区",
    },
    active={"social_group": 2961, "social_service_org": 3874, "foundation": 163},
    inactive={"deregistered": 148, "revoked": 29},
    registrar_from_district=False,
    registry_format="gb18030",
    registry_title="深圳市社会组织名录（数据截至{date_zh}）",
    registry_footer="共 {n} 条",
    member_enterprises=7200,
    flags={"listed": 0.03, "leading": 0.035, "srdi": 0.05, "high_tech": 0.16, "top100_private": 48},
    funded_associations=11,
)

CITIES = {c.key: c for c in (SUZHOU, SHENZHEN)}


def held_on(row: dict[str, str], night: dt.date) -> bool:
    """Whether a reference row (valid_from, valid_until: empty is open) held on a night."""
    start, end = row.get("valid_from") or "", row.get("valid_until") or ""
    return (not start or start <= night.isoformat()) and (not end or end >= night.isoformat())


def read_seed(name: str) -> list[dict[str, str]]:
    """Rows of a dbt seed: the taxonomy and designations the samples are built around."""
    with (SEEDS_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
