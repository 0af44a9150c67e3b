"""The floor: one plain DuckDB script from the night's CSV exports to Parquet and the published marts.

No validation, no quarantine, no history, no orchestration: the fastest honest way to get the six
published datasets of one night on this machine. GB18030 files are re-encoded in Python first
(DuckDB's encodings extension cannot be downloaded here).

    python bench/floor.py --exports DIR --date YYYY-MM-DD --out DIR
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.plain import (  # noqa: E402
    DATASETS,
    FULLWIDTH,
    SKIP_ROWS,
    VALUE_MAPS,
    aliases,
    arguments,
    night_files,
    seed,
    to_utf8,
)

MACROS = f"""
create macro day(s) as case
    when regexp_full_match(trim(s), '\\d{{1,5}}') then date '1899-12-30' + cast(trim(s) as integer)
    else coalesce(
        try_strptime(translate(trim(s), '{FULLWIDTH[0]}', '{FULLWIDTH[1]}'), '%Y-%m-%d'),
        try_strptime(trim(s), '%Y/%m/%d'),
        try_strptime(trim(s), '%Y年%m月%d日'),
        try_strptime(trim(s), '%Y%m%d'))::date
    end;
create macro grade(s) as case
    when regexp_full_match(translate(trim(s), '{FULLWIDTH[0]}', '{FULLWIDTH[1]}'), '[1-5]A级?')
        then cast(left(translate(trim(s), '{FULLWIDTH[0]}', '{FULLWIDTH[1]}'), 1) as tinyint)
    when regexp_full_match(trim(s), 'A{{1,5}}') then cast(length(trim(s)) as tinyint)
    end;
create macro matching(s) as regexp_replace(translate(trim(s), '（）【】', '()[]'), '\\s+', '', 'g');
create macro code(s) as nullif(upper(trim(s)), '');
"""


def read_exports(con, exports: Path, date: str, raw: Path) -> dict[str, int]:
    """Each source's CSV files, typed in one query per source, into raw/<source>.parquet."""
    scratch = raw / "utf8"
    rows = {}
    for source, skip in SKIP_ROWS.items():
        files = [to_utf8(path, scratch) for path in night_files(exports, source, date, scratch)]
        listed = ", ".join(f"'{f}'" for f in files)
        columns = {
            name: f"coalesce({', '.join(_existing(con, files, spellings, skip))})"
            for name, spellings in aliases(source).items()
        }
        typed = _typed(source, columns)
        con.execute(
            f"copy (select {typed} from read_csv([{listed}], skip={skip}, header=true, all_varchar=true, "
            f"union_by_name=true, null_padding=true, filename=true) "
            f"where {columns[_KEY[source]]} is not null) to '{raw / source}.parquet' (format parquet)"
        )
        rows[source] = con.execute(f"select count(*) from '{raw / source}.parquet'").fetchone()[0]
    shutil.rmtree(scratch, ignore_errors=True)
    return rows


_KEY = {"registry": "org_name", "membership": "member_name", "qualifications": "enterprise_name"}


def _existing(con, files: list[Path], spellings: list[str], skip: int) -> list[str]:
    """The spellings that occur as headers in any of the files, quoted (NULL when none)."""
    headers = set()
    for path in files:
        with path.open(encoding="utf-8-sig") as fh:
            for _ in range(skip):
                fh.readline()
            headers.update(fh.readline().strip().split(","))
    found = [f'"{s}"' for s in spellings if s in headers]
    return found or ["null"]


def _typed(source: str, columns: dict[str, str]) -> str:
    """The select list that types a source's columns."""
    out = []
    for name, expr in columns.items():
        if name in ("credit_code", "member_credit_code", "division_code"):
            expr = f"code({expr})"
        elif name in VALUE_MAPS:
            expr = f"map_extract_value({_map_literal(VALUE_MAPS[name])}, trim({expr}))"
        elif name in ("registered_on", "rating_valid_until", "joined_on", "valid_until"):
            expr = f"day({expr})"
        elif name == "rating":
            expr = f"grade({expr})"
        elif name in ("registered_capital", "recognized_year"):
            expr = f"try_cast(trim({expr}) as double)"
        elif name in ("org_name", "member_name", "enterprise_name"):
            out.append(f"matching({expr}) as {name}_normalized")
            expr = f"trim({expr})"
        else:
            expr = f"nullif(trim({expr}), '')"
        out.append(f"{expr} as {name}")
    if source in ("registry", "membership"):
        key = "city_code" if source == "registry" else "association_credit_code"
        out.append(f"regexp_extract(parse_filename(filename), '^[a-z]+_([0-9A-Za-z]+)_', 1) as {key}")
    out.append("parse_filename(filename) as source_file")
    return ", ".join(out)


def _map_literal(values: dict[str, str]) -> str:
    """A DuckDB MAP literal of spellings to values."""
    return "map {" + ", ".join(f"'{k}': '{v}'" for k, v in values.items()) + "}"


# Distinct member enterprises per flag, as the clusters and city_summary marts count them.
FLAGS = {
    "listed": "listed",
    "leading": "leading",
    "srdi": "srdi",
    "high_tech": "high_tech",
    "top100_private": "top100",
}
FLAG_COUNTS = ",\n        ".join(
    f"count(distinct member_key) filter (where is_{flag}) as {name}" for flag, name in FLAGS.items()
)
MARTS = """
create table divisions as select * from read_csv('{divisions}', all_varchar=true);
create table taxonomy as select * from read_csv('{taxonomy}', all_varchar=true);
create table designated as select * from read_csv('{designated}', all_varchar=true);
create table points as select * from read_csv('{points}', all_varchar=true);
create table organizations as
select r.* exclude (division_code, city_code),
    coalesce(r.division_code, substr(r.credit_code, 3, 6)) as division_code,
    coalesce(d.division_name, '未知区划 ' || coalesce(r.division_code, substr(r.credit_code, 3, 6)))
        as district_name,
    coalesce(d.city_code, r.city_code) as city_code,
    r.status = 'active' as is_active,
    coalesce(r.rating >= 3 and (r.rating_valid_until is null or r.rating_valid_until >= date '{date}'), false)
        as is_high_grade,
    p.credit_code is not null as is_exhibition_point,
    date '{date}' as snapshot_date
from '{raw}/registry.parquet' r
left join divisions d on coalesce(r.division_code, substr(r.credit_code, 3, 6)) = d.division_code
left join points p on r.credit_code = p.credit_code;
create table named_codes as
select member_name as exact, member_name_normalized as normalized, member_credit_code as code
from '{raw}/membership.parquet' where member_credit_code is not null
union all
select enterprise_name, enterprise_name_normalized, credit_code
from '{raw}/qualifications.parquet' where credit_code is not null;
create table by_exact as select exact as name, min(code) as code from named_codes group by exact
    having count(distinct code) = 1;
create table by_normalized as select normalized as name, min(code) as code from named_codes
    group by normalized having count(distinct code) = 1;
create table memberships as
select * from (
    select m.association_credit_code, o.org_name as association_name,
        coalesce(m.member_credit_code, e.code, n.code, 'name:' || m.member_name_normalized) as member_key,
        m.member_name, coalesce(m.member_credit_code, e.code, n.code) as member_credit_code,
        coalesce(m.role, 'member') as role, m.joined_on,
        coalesce(m.member_status, 'active') = 'active' as is_active_member,
        m.source_file, row_number() over (partition by m.association_credit_code,
            coalesce(m.member_credit_code, e.code, n.code, 'name:' || m.member_name_normalized)) as k
    from '{raw}/membership.parquet' m
    left join by_exact e on m.member_name = e.name
    left join by_normalized n on m.member_name_normalized = n.name
    left join organizations o on m.association_credit_code = o.credit_code
    where coalesce(m.member_kind, 'organization') = 'organization'
) where k = 1;
create table flags as
select coalesce(q.credit_code, n.code, 'name:' || q.enterprise_name_normalized) as enterprise_key,
    bool_or(qualification = 'listed') as is_listed, bool_or(qualification = 'unicorn') as is_unicorn,
    bool_or(qualification = 'little_giant') as is_little_giant, bool_or(qualification = 'srdi') as is_srdi,
    bool_or(qualification = 'high_tech') as is_high_tech,
    bool_or(qualification = 'top100_private') as is_top100_private
from '{raw}/qualifications.parquet' q left join by_normalized n on q.enterprise_name_normalized = n.name
where q.valid_until is null or q.valid_until >= date '{date}'
group by all;
create table enterprises as
select m.member_key as enterprise_key, min(m.member_name) as enterprise_name,
    max(m.member_credit_code) as credit_code,
    coalesce(bool_or(f.is_listed), false) as is_listed, coalesce(bool_or(f.is_unicorn), false) as is_unicorn,
    coalesce(bool_or(f.is_little_giant), false) as is_little_giant,
    coalesce(bool_or(f.is_unicorn or f.is_little_giant), false) as is_leading,
    coalesce(bool_or(f.is_srdi), false) as is_srdi, coalesce(bool_or(f.is_high_tech), false) as is_high_tech,
    coalesce(bool_or(f.is_top100_private), false) as is_top100_private,
    count(distinct m.association_credit_code) filter (where m.is_active_member) as association_count
from memberships m left join flags f on m.member_key = f.enterprise_key
group by m.member_key;
create table cluster_members as
select a.city_code, a.cluster_code, m.member_key, e.* exclude (enterprise_key, enterprise_name, credit_code,
    association_count)
from designated a join memberships m on a.association_credit_code = m.association_credit_code
join enterprises e on m.member_key = e.enterprise_key
where m.is_active_member;
create table clusters as
select t.city_code, t.cluster_code, t.cluster_name, t.category,
    coalesce(a.n, 0) as association_count, coalesce(a.n, 0) > 0 as has_association,
    coalesce(c.enterprises, 0) as member_enterprise_count, coalesce(c.memberships, 0) as membership_count,
    coalesce(c.listed, 0) as listed_count, coalesce(c.leading, 0) as leading_count,
    coalesce(c.srdi, 0) as srdi_count, coalesce(c.high_tech, 0) as high_tech_count,
    coalesce(c.top100, 0) as top100_private_count, date '{date}' as snapshot_date
from taxonomy t
join (select distinct city_code from organizations) o on t.city_code = o.city_code
left join (select cluster_code, count(distinct association_credit_code) as n from designated group by 1) a
    on t.cluster_code = a.cluster_code
left join (
    select cluster_code, count(distinct member_key) as enterprises, count(*) as memberships,
        {flag_counts}
    from cluster_members group by 1
) c on t.cluster_code = c.cluster_code;
create table registry_stats as
select city_code, division_code, district_name, org_type,
    count(*) filter (where is_active) as active_count,
    count(*) filter (where is_active and is_high_grade) as high_grade_count,
    high_grade_count / nullif(active_count, 0) as high_grade_share, date '{date}' as snapshot_date
from organizations group by all;
create table city_summary as
select o.city_code, o.active_org_count, o.social_group_count, o.social_service_org_count, o.foundation_count,
    coalesce(k.cluster_count, 0) as cluster_count,
    coalesce(k.clusters_with_association, 0) as clusters_with_association,
    coalesce(a.n, 0) as cluster_association_count,
    coalesce(m.enterprises, 0) as cluster_member_enterprise_count,
    coalesce(m.listed, 0) as listed_count, coalesce(m.leading, 0) as leading_count,
    coalesce(m.srdi, 0) as srdi_count, coalesce(m.high_tech, 0) as high_tech_count,
    coalesce(m.top100, 0) as top100_private_count, date '{date}' as snapshot_date
from (
    select city_code, count(*) filter (where is_active) as active_org_count,
        count(*) filter (where is_active and org_type = 'social_group') as social_group_count,
        count(*) filter (where is_active and org_type = 'social_service_org') as social_service_org_count,
        count(*) filter (where is_active and org_type = 'foundation') as foundation_count
    from organizations
    where city_code not like '%0000'  -- registered by a province itself: in no city (province_summary)
    group by 1
) o
left join (select city_code, count(*) as cluster_count,
    count(*) filter (where has_association) as clusters_with_association from clusters group by 1) k
    on o.city_code = k.city_code
left join (select city_code, count(distinct association_credit_code) as n from designated group by 1) a
    on o.city_code = a.city_code
left join (
    select city_code, count(distinct member_key) as enterprises,
        {flag_counts}
    from cluster_members group by 1
) m on o.city_code = m.city_code;
"""


def build_marts(con, raw: Path, marts: Path, date: str) -> dict[str, int]:
    """The six published datasets from raw Parquet, each written as Parquet; their row counts."""
    seeds = {
        n: seed(n) for n in ("divisions", "exhibition_points", "cluster_taxonomy", "cluster_associations")
    }
    con.execute(
        MARTS.format(
            raw=raw,
            date=date,
            divisions=seeds["divisions"],
            points=seeds["exhibition_points"],
            taxonomy=seeds["cluster_taxonomy"],
            designated=seeds["cluster_associations"],
            flag_counts=FLAG_COUNTS,
        )
    )
    marts.mkdir(parents=True, exist_ok=True)
    rows = {}
    for dataset in DATASETS:
        con.execute(f"copy {dataset} to '{marts / dataset}.parquet' (format parquet, compression zstd)")
        rows[dataset] = con.execute(f"select count(*) from {dataset}").fetchone()[0]
    return rows


def main(argv: list[str] | None = None) -> dict:
    args = arguments(__doc__, argv)
    raw, marts = args.out / "raw", args.out / "marts"
    raw.mkdir(parents=True)
    con = duckdb.connect(str(args.out / "floor.duckdb"))
    con.execute(MACROS)
    stages, started = {}, time.perf_counter()
    rows = read_exports(con, args.exports, args.date, raw)
    stages["read exports → Parquet"] = time.perf_counter() - started
    started = time.perf_counter()
    rows.update(build_marts(con, raw, marts, args.date))
    stages["marts → Parquet"] = time.perf_counter() - started
    return {"stages": {k: round(v, 2) for k, v in stages.items()}, "rows": rows, "marts": str(marts)}


if __name__ == "__main__":
    print(json.dumps(main()))
