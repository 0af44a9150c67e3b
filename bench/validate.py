"""Validation benchmark: the quality gate on national-size raw batches against one DuckDB query (the floor).

Usage: python bench/validate.py [--registry 1000000] [--membership 20000000] [--out DIR]
The floor computes the same checks — every expectation's unexpected count — in a single DuckDB query,
with no GX, no Data Docs and no per-row examples. Each measurement runs in its own process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH] + [str(BENCH)]
from measure import measure, report_task, write_section  # noqa: E402

DATE = dt.date(2023, 10, 31)
MEMBERS_PER_ASSOCIATION = 400


def generate(data: Path, registry_rows: int, membership_rows: int) -> None:
    """Raw partitions and a load log as the parse stage leaves them, generated in DuckDB."""
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ingest.common.paths import partition
    from ingest.parse.files import FileLoad, raw_schema
    from ingest.parse.night import LOAD_LOG_SCHEMA
    from ingest.rules.creditcode import check_character_sql
    from ingest.rules.layouts import SOURCES, load_layout
    from ingest.validate.expectations import known_divisions

    divisions = sorted(d for d in known_divisions() if not d.endswith("00"))
    con = duckdb.connect(config={"memory_limit": "4GB"})
    con.execute(f"create macro coded(body) as body || {check_character_sql('body')}")
    con.execute(f"create macro division(i) as {divisions!r}[i % {len(divisions)} + 1]")
    queries = {
        # Every third organization (i % 3 = 0) is a social group; associations are the first of them.
        "registry": f"""
            select substr(division(i), 1, 4) || '00' as city_code,
                coded('5' || ['1', '2', '3'][i % 3 + 1] || division(i) || lpad(i::varchar, 9, '0'))
                    as credit_code,
                '第' || i || '号社会组织' as org_name, '第' || i || '号社会组织' as org_name_normalized,
                ['social_group', 'social_service_org', 'foundation'][i % 3 + 1] as org_type,
                division(i) || '民政局' as registration_authority, null as supervising_unit,
                date '1990-01-01' + (i % 12000)::int as registered_on,
                (i % 500)::decimal(18, 4) as registered_capital, '某某路' || i || '号' as address,
                division(i) as division_code,
                case when i % 3 <> 0 and i % 7 = 0 then 'deregistered' else 'active' end as status,
                nullif(i % 6, 0)::tinyint as rating,
                null::date as rating_valid_until, '开展行业交流' as business_scope,
                date '{DATE}' as export_date,
                'registry_' || substr(division(i), 1, 4) || '00_20231031.csv' as source_file,
                i + 3 as source_row
            from range({registry_rows}) t(i)""",
        "membership": f"""
            select coded('51' || division(a) || lpad(a::varchar, 9, '0')) as association_credit_code,
                '第' || i || '号科技有限公司' as member_name,
                '第' || i || '号科技有限公司' as member_name_normalized,
                coded('91' || division(i) || lpad(i::varchar, 9, '0')) as member_credit_code,
                'organization' as member_kind,
                ['member', 'director', 'vice_president'][i % 3 + 1] as role,
                date '2000-01-01' + (i % 8000)::int as joined_on, 'active' as member_status,
                date '{DATE}' as export_date,
                'membership_' || coded('51' || division(a) || lpad(a::varchar, 9, '0')) || '_20231031.csv'
                    as source_file,
                i % {MEMBERS_PER_ASSOCIATION} + 2 as source_row
            from (select i, 3 * (i // {MEMBERS_PER_ASSOCIATION}) as a from range({membership_rows}) t(i))""",
        "qualifications": f"""
            select 'high_tech' as list_name, '2023' as list_year,
                '第' || i || '号科技有限公司' as enterprise_name,
                '第' || i || '号科技有限公司' as enterprise_name_normalized,
                coded('91' || division(i) || lpad(i::varchar, 9, '0')) as credit_code,
                'high_tech' as qualification, (2015 + i % 9)::smallint as recognized_year,
                null::date as valid_until, date '{DATE}' as export_date,
                'high_tech_2023.xlsx' as source_file, i + 2 as source_row
            from range({membership_rows // 100}) t(i)""",
    }
    logs = []
    for source in SOURCES:
        folder = partition(data, source, DATE)
        folder.mkdir(parents=True, exist_ok=True)
        schema = raw_schema(load_layout(source))
        if source not in queries:  # delivered tonight without rows
            pq.write_table(schema.empty_table(), folder / "bench.parquet")
            continue
        print(f"generating {source} …", flush=True)
        query = _in_raw_schema(con, queries[source], schema)
        con.execute(f"copy ({query}) to '{folder}/bench.parquet' (format parquet, row_group_size 122880)")
        got = pq.read_schema(folder / "bench.parquet")
        assert got.names == schema.names, (source, got.names, schema.names)
        log = FileLoad(source, DATE.isoformat(), f"{source}_bench", "bench", 0)
        log.rows_read = log.rows_loaded = pq.ParquetFile(folder / "bench.parquet").metadata.num_rows
        logs.append(log.as_row())
    folder = partition(data, "load_log", DATE)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(logs, schema=LOAD_LOG_SCHEMA), folder / "bench.parquet")


def _in_raw_schema(con, query: str, schema) -> str:
    """`query`'s columns in the raw schema's order, the columns it does not generate null (a code the
    generator does not write, a label): the raw partitions as the parse stage writes them today."""
    duck = {"string": "varchar", "date32[day]": "date", "int8": "tinyint", "int16": "smallint",
            "int32": "integer", "int64": "bigint"}  # fmt: skip
    generated = set(con.sql(query).columns)
    columns = [
        f'"{f.name}"'
        if f.name in generated
        else f'null::{duck.get(str(f.type), str(f.type).replace("decimal128", "decimal"))} as "{f.name}"'
        for f in schema
    ]
    return f"select {', '.join(columns)} from ({query})"


def floor_query(data: Path) -> str:
    """One DuckDB query: per source and check, the number of rows that fail it (the gate's checks)."""
    from ingest.rules.creditcode import ALPHABET, check_character_sql
    from ingest.validate import suites
    from ingest.validate.batches import night_files
    from ingest.validate.expectations import known_divisions

    def invalid(code: str) -> str:
        return (
            f"{code} is not null and not (regexp_full_match({code}, '[{ALPHABET}]{{18}}') "
            f"and {check_character_sql(code)} = substr({code}, 18, 1))"
        )

    def outside(column: str, values) -> str:
        return f"{column} is not null and {column} not in ({', '.join(repr(v) for v in values)})"

    divisions = f"(select unnest({sorted(known_divisions())!r}) as d)"
    pairs = " or ".join(f"(category = '{c}' and org_type = '{t}')" for c, t in suites.CATEGORY_TYPES)
    registry, membership = night_files(data, "registry", DATE), night_files(data, "membership", DATE)
    qualifications = night_files(data, "qualifications", DATE)
    return f"""
    with registry as (
        select *, substr(credit_code, 1, 2) as category, substr(credit_code, 3, 6) as code_division,
            count(*) over (partition by credit_code) as occurrences
        from {registry}
    ),
    standing as (select credit_code, min(status || ' ' || org_type) as standing from {registry} group by 1),
    members as (
        select m.*, coalesce(s.standing, 'none') as standing,
            count(*) over (partition by m.association_credit_code,
                coalesce(m.member_credit_code, m.member_name_normalized)) as occurrences
        from {membership} m left join standing s on s.credit_code = m.association_credit_code
    )
    select * from (
        select count(*) as registry_rows,
            count(*) filter (credit_code is null) as code_missing,
            count(*) filter (org_name is null) as name_missing,
            count(*) filter (org_type is null) as type_missing,
            count(*) filter (status is null) as status_missing,
            count(*) filter ({invalid("credit_code")}) as code_invalid,
            count(*) filter (credit_code is not null and occurrences > 1) as code_twice,
            count(*) filter (category is not null and org_type is not null and not ({pairs}))
                as category_type,
            count(*) filter ({outside("org_type", suites.ORG_TYPES)}) as type_unknown,
            count(*) filter ({outside("status", suites.ORG_STATUSES)}) as status_unknown,
            count(*) filter (rating not between 1 and 5) as rating_invalid,
            count(*) filter (registered_on > date '{DATE}') as registered_after_export,
            count(*) filter (division_code not in {divisions}) as division_unknown,
            count(*) filter (code_division not in {divisions}) as code_division_unknown,
            count(*) filter (not regexp_full_match(city_code, '\\d{{6}}')) as city_code_invalid
        from registry
    ), (
        select count(*) as membership_rows,
            count(*) filter ({invalid("association_credit_code")}) as association_invalid,
            count(*) filter (standing <> 'active social_group') as association_not_active_group,
            count(*) filter ({invalid("member_credit_code")}) as member_invalid,
            count(*) filter (occurrences > 1) as member_twice,
            count(*) filter ({outside("member_kind", suites.MEMBER_KINDS)}) as kind_unknown,
            count(*) filter ({outside("role", suites.ROLES)}) as role_unknown,
            count(*) filter ({outside("member_status", suites.MEMBER_STATUSES)}) as member_status_unknown,
            count(*) filter (joined_on > date '{DATE}') as joined_after_export
        from members
    ), (
        select count(*) as qualification_rows,
            count(*) filter (enterprise_name is null) as enterprise_missing,
            count(*) filter ({invalid("credit_code")}) as enterprise_code_invalid,
            count(*) filter ({outside("qualification", suites.QUALIFICATIONS)}) as list_unknown,
            count(*) filter (recognized_year not between 1990 and {DATE.year}) as year_implausible
        from {qualifications}
    )"""


def task_floor(data: str) -> dict:
    import duckdb

    query = floor_query(Path(data))  # built first: building it imports GX, which the floor does not need
    started = time.perf_counter()
    rel = duckdb.sql(query)
    counts = dict(zip(rel.columns, rel.fetchall()[0], strict=True))
    return {"seconds": time.perf_counter() - started, "counts": counts}


def task_gate(data: str) -> dict:
    from ingest.validate.gate import validate_night

    started = time.perf_counter()
    summary = validate_night(Path(data), DATE)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, **{k: summary[k] for k in ("expectations_evaluated", "failed", "warnings")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", type=int, default=1_000_000)
    parser.add_argument("--membership", type=int, default=20_000_000)
    parser.add_argument("--out", type=Path, default=Path("data/bench/validate"))
    parser.add_argument("--results", type=Path, default=Path("bench/RESULTS.md"))
    parser.add_argument("--task", choices=["floor", "gate"])
    parser.add_argument("args", nargs="*")
    args = parser.parse_args()
    if args.task:
        report_task({"floor": task_floor, "gate": task_gate}[args.task](*args.args))
        return
    data = args.out / f"r{args.registry}_m{args.membership}"
    if not (data / "raw" / "load_log").exists():
        generate(data, args.registry, args.membership)
    floor = measure(__file__, "floor", str(data))
    print(f"floor: {floor['seconds']:.1f} s, {floor['peak_rss_mib']:.0f} MiB", flush=True)
    gate = measure(__file__, "gate", str(data))
    report(args, floor, gate)


def report(args, floor: dict, gate: dict) -> None:
    failing = {k: v for k, v in floor["counts"].items() if v and not k.endswith("_rows")}
    ratio = gate["seconds"] / floor["seconds"]
    verdict = "met" if ratio <= 3 else "**not met**"
    command = f"python bench/validate.py --registry {args.registry} --membership {args.membership}"
    text = "\n".join(
        [
            "## Validation: the quality gate on national-size batches",
            "",
            f"Command: `{command}` (`make bench-validate`), run {dt.date.today()}.",
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
            f"Input: raw partitions of {args.registry:,} registry rows, {args.membership:,} membership rows "
            f"and {args.membership // 100:,} qualification rows (generated; all valid).",
            "",
            "| measurement | seconds | peak memory | ratio to floor | target |",
            "|---|---:|---:|---:|---|",
            f"| floor: one DuckDB query counting every check's failures | {floor['seconds']:.1f} | "
            f"{floor['peak_rss_mib']:.0f} MiB | 1.0× | |",
            f"| ours: `validate_night` (batch checks, {gate['expectations_evaluated']} GX expectations, "
            f"Data Docs) | {gate['seconds']:.1f} | {gate['peak_rss_mib']:.0f} MiB | {ratio:.1f}× | "
            f"≤ 3×: {verdict} |",
            "",
            f"Both found the same failures: floor {failing or 'none'}; gate {gate['failed']} failed, "
            f"{gate['warnings']} warnings.",
            "",
        ]
    )
    print(text)
    write_section(args.results, "Validation:", text)


if __name__ == "__main__":
    main()
