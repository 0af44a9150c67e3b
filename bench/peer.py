"""The peer: a plain pandas script from the night's CSV exports to Parquet and the published marts.

The way many data offices do it today: read every file with `pd.read_csv`, concatenate, clean with
pandas, merge and group, write Parquet. No validation and no history; the same six datasets.

    python bench/peer.py --exports DIR --date YYYY-MM-DD --out DIR
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.plain import (  # noqa: E402
    DATASETS,
    FULLWIDTH,
    SKIP_ROWS,
    VALUE_MAPS,
    aliases,
    arguments,
    file_code,
    in_a_city,
    is_utf8,
    night_files,
    seed,
)

FILE_KEY = {"registry": "city_code", "membership": "association_credit_code"}
DATES = ("registered_on", "rating_valid_until", "joined_on", "valid_until")
CODES = ("credit_code", "member_credit_code", "division_code")
NAMES = ("org_name", "member_name", "enterprise_name")
HALFWIDTH = str.maketrans(*FULLWIDTH)


def read_source(exports: Path, source: str, date: str, scratch: Path) -> pd.DataFrame:
    """Every file of the source read whole, its headers renamed to the canonical names, concatenated."""
    rename = {spelling: name for name, spellings in aliases(source).items() for spelling in spellings}
    frames = []
    for path in night_files(exports, source, date, scratch):
        encoding = "utf-8-sig" if is_utf8(path) else "gb18030"
        frame = pd.read_csv(path, skiprows=SKIP_ROWS[source], dtype=str, encoding=encoding)
        frame = frame.rename(columns=rename)
        frame = frame[[c for c in frame.columns if c in set(rename.values())]]
        if source in FILE_KEY:
            frame[FILE_KEY[source]] = file_code(path)
        frame["source_file"] = path.name
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    return table[table[_KEY[source]].notna()]  # the footer row (合计：N) has no name


_KEY = {"registry": "org_name", "membership": "member_name", "qualifications": "enterprise_name"}


def parse_days(values: pd.Series) -> pd.Series:
    """Dates in any of the exports' spellings, a vectorized pass per spelling."""
    text = values.str.strip().str.translate(HALFWIDTH)
    days = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d"):
        days = days.fillna(pd.to_datetime(text, format=fmt, errors="coerce"))
    serial = text.str.fullmatch(r"\d{1,5}").fillna(False).astype(bool)
    days[serial] = pd.Timestamp("1899-12-30") + pd.to_timedelta(text[serial].astype(int), unit="D")
    return days


def parse_grades(values: pd.Series) -> pd.Series:
    """`3A`, `AAA`, `3A级`, `３Ａ` → 3; anything else → NaN."""
    text = values.str.strip().str.translate(HALFWIDTH).str.removesuffix("级")
    digit = pd.to_numeric(text.str.extract(r"^([1-5])A$")[0], errors="coerce")
    letters = text.where(text.str.fullmatch(r"A{1,5}").fillna(False).astype(bool)).str.len()
    return digit.fillna(letters)


def clean(table: pd.DataFrame) -> pd.DataFrame:
    """Type the columns: codes upper-cased, spellings mapped, dates and grades parsed, names matched."""
    for column in table.columns:
        if column in CODES:
            table[column] = table[column].str.strip().str.upper().replace("", None)
        elif column in VALUE_MAPS:
            table[column] = table[column].str.strip().map(VALUE_MAPS[column])
        elif column in DATES:
            table[column] = parse_days(table[column])
        elif column == "rating":
            table[column] = parse_grades(table[column])
        elif column in NAMES:
            table[column] = table[column].str.strip()
            table[f"{column}_normalized"] = (
                table[column]
                .str.translate(str.maketrans("（）【】", "()[]"))
                .str.replace(r"\s+", "", regex=True)
            )
    return table


def unique_codes(named: pd.DataFrame, key: str) -> pd.Series:
    """Names that go by exactly one credit code → that code."""
    grouped = named.groupby(key)["code"].agg(["nunique", "min"])
    return grouped.loc[grouped["nunique"] == 1, "min"]


def build_marts(raw: dict[str, pd.DataFrame], date: str) -> dict[str, pd.DataFrame]:
    """The six published datasets of the night."""
    snapshot = pd.Timestamp(date)
    registry, members, lists = raw["registry"], raw["membership"], raw["qualifications"]
    divisions = pd.read_csv(seed("divisions"), dtype=str)[["division_code", "division_name", "city_code"]]
    points = pd.read_csv(seed("exhibition_points"), dtype=str)
    taxonomy = pd.read_csv(seed("cluster_taxonomy"), dtype=str)
    designated = pd.read_csv(seed("cluster_associations"), dtype=str)

    orgs = registry.copy()
    orgs["division_code"] = orgs["division_code"].fillna(orgs["credit_code"].str[2:8])
    orgs = orgs.merge(
        divisions.rename(columns={"city_code": "division_city"}), on="division_code", how="left"
    )
    orgs["city_code"] = orgs["division_city"].fillna(orgs["city_code"])
    orgs["district_name"] = orgs["division_name"].fillna("未知区划 " + orgs["division_code"])
    orgs["is_active"] = orgs["status"] == "active"
    valid = orgs["rating_valid_until"].isna() | (orgs["rating_valid_until"] >= snapshot)
    orgs["is_high_grade"] = ((orgs["rating"] >= 3) & valid).fillna(False)
    orgs["is_exhibition_point"] = orgs["credit_code"].isin(points["credit_code"])
    orgs["snapshot_date"] = snapshot
    orgs = orgs.drop(columns=["division_city", "division_name"])

    named = pd.concat(
        [
            members.loc[members["member_credit_code"].notna(), ["member_name", "member_name_normalized",
                        "member_credit_code"]].set_axis(["exact", "normalized", "code"], axis=1),
            lists.loc[lists["credit_code"].notna(), ["enterprise_name", "enterprise_name_normalized",
                      "credit_code"]].set_axis(["exact", "normalized", "code"], axis=1),
        ]
    )  # fmt: skip
    by_exact, by_normalized = unique_codes(named, "exact"), unique_codes(named, "normalized")
    m = members[members["member_kind"].fillna("organization") == "organization"].copy()
    m["resolved"] = (
        m["member_credit_code"]
        .fillna(m["member_name"].map(by_exact))
        .fillna(m["member_name_normalized"].map(by_normalized))
    )
    m["member_key"] = m["resolved"].fillna("name:" + m["member_name_normalized"])
    m["role"] = m["role"].fillna("member")
    m["is_active_member"] = m["member_status"].fillna("active") == "active"
    m = m.drop_duplicates(["association_credit_code", "member_key"])
    names = orgs[["credit_code", "org_name"]].rename(
        columns={"credit_code": "association_credit_code", "org_name": "association_name"}
    )
    memberships = m.merge(names.drop_duplicates("association_credit_code"), how="left")
    memberships = memberships.rename(columns={"resolved": "member_credit_code_resolved"})

    current = lists[lists["valid_until"].isna() | (lists["valid_until"] >= snapshot)].copy()
    current["enterprise_key"] = (
        current["credit_code"]
        .fillna(current["enterprise_name_normalized"].map(by_normalized))
        .fillna("name:" + current["enterprise_name_normalized"])
    )
    flag_names = ["listed", "unicorn", "little_giant", "srdi", "high_tech", "top100_private"]
    for flag in flag_names:
        current[f"is_{flag}"] = current["qualification"] == flag
    flags = current.groupby("enterprise_key")[[f"is_{f}" for f in flag_names]].any()

    active = memberships[memberships["is_active_member"]]
    enterprises = memberships.groupby("member_key").agg(
        enterprise_name=("member_name", "min"), credit_code=("member_credit_code_resolved", "max")
    )
    enterprises["association_count"] = active.groupby("member_key")["association_credit_code"].nunique()
    enterprises["association_count"] = enterprises["association_count"].fillna(0).astype(int)
    enterprises = enterprises.join(flags).fillna({f"is_{f}": False for f in flag_names})
    enterprises["is_leading"] = enterprises["is_unicorn"] | enterprises["is_little_giant"]
    enterprises = enterprises.rename_axis("enterprise_key").reset_index()

    cluster_members = designated.merge(active, on="association_credit_code").merge(
        enterprises.drop(columns=["association_count"]), left_on="member_key", right_on="enterprise_key"
    )
    counted = ["listed", "leading", "srdi", "high_tech", "top100_private"]

    def member_counts(by: str) -> pd.DataFrame:
        counts = cluster_members.groupby(by).agg(member_enterprise_count=("member_key", "nunique"),
                                                 membership_count=("member_key", "size"))  # fmt: skip
        for flag in counted:
            chosen = cluster_members[cluster_members[f"is_{flag}"]]
            counts[f"{flag}_count"] = chosen.groupby(by)["member_key"].nunique()
        return counts

    cities = orgs["city_code"].unique()
    clusters = taxonomy[taxonomy["city_code"].isin(cities)].set_index("cluster_code")
    clusters["association_count"] = designated.groupby("cluster_code")["association_credit_code"].nunique()
    clusters = clusters.join(member_counts("cluster_code"))
    clusters = clusters.fillna({c: 0 for c in clusters.columns if c.endswith("_count")})
    clusters["has_association"] = clusters["association_count"] > 0
    clusters = clusters.reset_index()

    stats = orgs.groupby(["city_code", "division_code", "district_name", "org_type"]).agg(
        active_count=("is_active", "sum"),
        high_grade_count=("is_high_grade", lambda s: (s & orgs.loc[s.index, "is_active"]).sum()),
    )
    stats["high_grade_share"] = stats["high_grade_count"] / stats["active_count"].where(
        stats["active_count"] > 0
    )
    stats = stats.reset_index()

    live = orgs[orgs["is_active"] & orgs["city_code"].map(in_a_city)]
    summary = live.groupby("city_code").size().to_frame("active_org_count")
    for org_type in ("social_group", "social_service_org", "foundation"):
        summary[f"{org_type}_count"] = live[live["org_type"] == org_type].groupby("city_code").size()
    summary["cluster_count"] = clusters.groupby("city_code").size()
    summary["clusters_with_association"] = clusters[clusters["has_association"]].groupby("city_code").size()
    summary["cluster_association_count"] = designated.groupby("city_code")[
        "association_credit_code"
    ].nunique()
    by_city = member_counts("city_code").rename(
        columns={"member_enterprise_count": "cluster_member_enterprise_count"}
    )
    summary = summary.join(by_city.drop(columns=["membership_count"])).fillna(0).astype(int).reset_index()

    marts = {
        "organizations": orgs,
        "memberships": memberships,
        "enterprises": enterprises,
        "clusters": clusters,
        "registry_stats": stats,
        "city_summary": summary,
    }
    for frame in marts.values():
        frame["snapshot_date"] = snapshot
    return marts


def main(argv: list[str] | None = None) -> dict:
    args = arguments(__doc__, argv)
    (args.out / "raw").mkdir(parents=True)
    (args.out / "marts").mkdir()
    stages, started = {}, time.perf_counter()
    raw = {}
    for source in SKIP_ROWS:
        raw[source] = clean(read_source(args.exports, source, args.date, args.out / "sheets"))
        raw[source].to_parquet(args.out / "raw" / f"{source}.parquet", index=False)
    stages["read exports → Parquet"] = time.perf_counter() - started
    started = time.perf_counter()
    marts = build_marts(raw, args.date)
    for dataset in DATASETS:
        marts[dataset].to_parquet(args.out / "marts" / f"{dataset}.parquet", index=False)
    stages["marts → Parquet"] = time.perf_counter() - started
    rows = {source: len(frame) for source, frame in raw.items()}
    rows.update({dataset: len(frame) for dataset, frame in marts.items()})
    return {
        "stages": {k: round(v, 2) for k, v in stages.items()},
        "rows": rows,
        "marts": str(args.out / "marts"),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
