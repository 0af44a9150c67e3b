"""What `socorg run` prints after a published night: the figures per city, the changes, where things are."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingest.common.sql import sql_path
from ingest.publish.datasets import dataset_path
from ingest.publish.figures import format_figure, is_count


def print_headlines(data: Path, export_date: dt.date) -> None:
    """The published figures per city and where everything is."""
    import duckdb

    from ingest.common.files import read_json
    from ingest.common.releases import read_latest

    latest = read_latest(data / "publish")
    summary = dataset_path(data / "publish", "city_summary", export_date)
    read = f"read_parquet({sql_path(summary)})"
    rows = duckdb.sql(f"select * from {read} order by city_code").fetchall()
    columns = [c[0] for c in duckdb.sql(f"describe select * from {read}").fetchall()]
    print(f"\nsocorg run {export_date}: published (latest = {latest['snapshot_date']})")
    cities = [dict(zip(columns, row, strict=True)) for row in rows]
    for figures in cities if len(cities) <= CITIES_SHOWN else []:
        print(f"\n  city {figures['city_code']} {figures.get('city_name') or ''}:")
        _print_figures(figures)
    if len(cities) > CITIES_SHOWN:
        print(f"\n  {len(cities)} cities, together (each city's figures: {summary}):")
        counts = [
            key for key in columns if key not in NOT_SUMMED and all(is_count(c[key], key) for c in cities)
        ]
        _print_figures({key: sum(city[key] for city in cities) for key in counts})
    _print_provinces(data, export_date)
    _print_outside_cities(data, export_date)
    _print_pairs(data, export_date)
    print_changes(data, export_date)
    release = data / "publish" / "releases" / export_date.isoformat() / "index.json"
    issues = read_json(release.with_name("issues.json"), default={}).get("issues", [])
    for issue in issues:
        if issue.get("kind") in SHOWN_ISSUES:
            print(f"\n  {issue['level']}: {issue['message']}")
    index = read_json(release)
    methods = index.get("statistics", {}).get("memberships_by_match_method", {})
    if methods:
        shares = ", ".join(f"{m} {v['share']:.1%}" for m, v in methods.items())
        print(f"\n  members matched by: {shares}")
    publish = data / "publish"
    print(f"\n  Parquet:    {publish}/<dataset>/snapshot_date={export_date}/")
    by_year = dataset_path(publish, "city_by_year", export_date)
    if by_year.exists():
        years = [
            y
            for (y,) in duckdb.sql(
                f"select distinct year from read_parquet({sql_path(by_year)}) order by 1"
            ).fetchall()
        ]
        span = f"{years[0]} … {years[-1]}" if len(years) > 1 else f"{years[0]}"
        print(
            f"  By year:    {by_year.parent}/ and cluster_by_year (years {span}: each year's last snapshot)"
        )
    print(f"  Release:    {release} (check it: socorg verify {export_date})")
    print(f"  Releases:   {publish / 'versions.json'}")
    print(f"  BI tools:   {publish / 'marts.duckdb'} (read-only; replaced whole each night)")
    report = publish / "reports" / export_date.isoformat()
    every = publish / "reports" / "index.html"
    print(f"  Report:     {report / 'index.html'} (charts and tables per city; every night's: {every})")
    print(f"  Workbook:   {report / f'socorg_{export_date}.xlsx'}")
    print(f"  Catalog:    {data / 'docs' / 'index.html'}")
    print(f"  Data Docs:  {data / 'docs' / 'gx' / 'index.html'}")
    print(f"  dbt docs:   {data / 'docs' / 'dbt' / 'index.html'}")


SHOWN_ISSUES = (
    "history_gap",
    "warehouse_rebuilt",
    "not_read",
    "empty_export",
    "standing_unmatched",
)  # printed after the figures; the rest: issues.json


CITIES_SHOWN = 3  # more cities than this: their figures summed, not city by city


NOT_SUMMED = ("city_code", "city_name", "snapshot_date")


def _print_figures(figures: dict) -> None:
    for key, value in figures.items():
        if key not in NOT_SUMMED:
            print(f"    {key:40} {format_figure(value, key):>8}")


def _print_pairs(data: Path, export_date: dt.date) -> None:
    """Per city with pairs (Shenzhen's 结对子): how many of its clusters have an exhibition point."""
    import duckdb

    path = dataset_path(data / "publish", "clusters", export_date)
    rows = duckdb.sql(
        "select city_code, count(paired_exhibition_point_code), count(*) "
        f"from read_parquet({sql_path(path)}) group by city_code "
        "having count(paired_exhibition_point_code) > 0 order by city_code"
    ).fetchall()
    for code, paired, clusters in rows:
        print(f"\n  city {code}: {paired} of {clusters} clusters paired with an exhibition point (结对子)")


def _print_provinces(data: Path, export_date: dt.date) -> None:
    """Each province's total, and whether every one of its cities delivered (then the shares hold)."""
    import duckdb

    path = dataset_path(data / "publish", "province_summary", export_date)
    if not path.exists():
        return
    rows = duckdb.sql(
        "select province_code, province_name, active_org_count, city_count, expected_city_count, is_complete "
        f"from read_parquet({sql_path(path)}) order by province_code"
    ).fetchall()
    if len(rows) > CITIES_SHOWN:
        active, complete = sum(r[2] for r in rows), sum(r[5] for r in rows)
        print(
            f"\n  {len(rows)} provinces: {active:,} active organizations; {complete} with every city "
            f"delivered (each province's figures: {path})"
        )
        return
    for code, name, active, delivered, expected, complete in rows:
        shares = "city shares of it given" if complete else "incomplete: no city shares"
        print(
            f"\n  province {code} {name or ''}: {active:,} active organizations; "
            f"{delivered} of {expected} cities delivered ({shares})"
        )


def _print_outside_cities(data: Path, export_date: dt.date) -> None:
    """Organizations no city's list of divisions holds, and where they are counted
    (registrar_placements): the ministry's, a province's own, a county the list lacks."""
    import duckdb

    path = dataset_path(data / "publish", "registrar_placements", export_date)
    if not path.exists():
        return
    rows = duckdb.sql(
        "select registrar_code, registrar_name, placement, counted_in_city_code, active_org_count, org_count "
        f"from read_parquet({sql_path(path)}) order by registrar_code"
    ).fetchall()
    if not rows:
        return
    print(f"\n  outside the cities' divisions: {sum(r[4] for r in rows):,} active organizations ({path}):")
    if len(rows) <= CITIES_SHOWN:
        for code, name, placement, city, active, total in rows:
            where = {
                "ministry": "registered by the ministry: counted in no city or province",
                "province": "registered by the province itself: counted in province_summary only",
                "unlisted_division": f"a county the division list lacks: counted in city {city}",
            }[placement]
            print(f"    {name} {code}: {active:,} active of {total:,}, {where}")
        return
    said = {
        "ministry": "registered by the Ministry of Civil Affairs, counted in no city or province",
        "province": "registered by {n} provinces themselves, counted in province_summary only",
        "unlisted_division": "in {n} counties the division list lacks, counted in the city of their first "
        "four digits",
    }
    for placement, words in said.items():
        kind = [r for r in rows if r[2] == placement]
        if kind:
            print(f"    {sum(r[4] for r in kind):,} active {words.format(n=len(kind))}")


def print_changes(data: Path, export_date: dt.date) -> None:
    """The night's registry changes per city, counted by kind."""
    import duckdb

    path = dataset_path(data / "publish", "registry_changes", export_date)
    rows = duckdb.sql(
        "select city_code, any_value(previous_night), change_type, count(*) "
        f"from read_parquet({sql_path(path)}) "
        "group by city_code, change_type order by city_code, change_type"
    ).fetchall()
    if not rows:
        print("\n  registry changes: none (the first audited night, or nothing changed)")
        return
    print(f"\n  registry changes between {rows[0][1]} and {export_date}:")
    cities = sorted({r[0] for r in rows})
    if len(cities) > CITIES_SHOWN:
        totals: dict[str, int] = {}
        for _, _, kind, n in rows:
            totals[kind] = totals.get(kind, 0) + n
        counts = ", ".join(f"{kind} {n}" for kind, n in totals.items())
        print(f"    {len(cities)} cities: {counts} (by city: {path})")
        return
    for city in cities:
        counts = ", ".join(f"{kind} {n}" for c, _, kind, n in rows if c == city)
        print(f"    city {city}: {counts}")
