"""The `socorg` command: sample exports, and one nightly run through the Airflow DAG."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

from ingest import paths


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {value!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="socorg", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    sample = commands.add_parser("sample", help="write realistic sample exports for one night")
    sample.add_argument("--out", type=Path, required=True, help="exports root to write into")
    sample.add_argument("--date", type=_date, required=True, help="export date YYYY-MM-DD")
    sample.add_argument("--city", choices=["suzhou", "shenzhen", "all"], default="all")
    sample.add_argument(
        "--scale",
        choices=["city", "province", "national"],
        default="city",
        help="city: Suzhou and/or Shenzhen with ground truth and planted mess (default); province: Jiangsu, "
        "~80,000 organizations and 1,000,000 memberships; national: ~1,000,000 and 20,000,000",
    )
    sample.add_argument("--seed", type=int, default=7)
    sample.add_argument(
        "--nights", type=int, default=1, help="consecutive nights from --date, with changes between them"
    )

    run = commands.add_parser("run", help="run the nightly DAG for one export date")
    run.add_argument("--date", type=_date, required=True, help="export date YYYY-MM-DD")
    run.add_argument("--exports", help="exports root URL (default $SOCORG_EXPORTS or <data>/exports)")
    run.add_argument("--data", help="data folder (default $SOCORG_DATA or ./data)")
    run.add_argument("--verbose", action="store_true", help="show Airflow's, dbt's and GX's output")
    run.add_argument("--nights", type=int, default=1, help="run this many consecutive nights from --date")

    run.add_argument("--keep-releases", type=int, help="keep the newest N releases (default: all)")
    run.add_argument(
        "--force", action="store_true", help="rebuild a night even if its release is current (unchanged)"
    )

    verify = commands.add_parser("verify", help="re-hash a release's files against its index.json")
    verify.add_argument("release", help="a release folder, a snapshot date YYYY-MM-DD, or 'latest'")
    verify.add_argument("--data", help="data folder (default $SOCORG_DATA or ./data)")

    postgres = commands.add_parser(
        "publish-postgres", help="load a release into a PostgreSQL schema, swapped in one transaction"
    )
    postgres.add_argument(
        "--dsn", help="postgresql://user:password@host:port/db (default: Airflow connection socorg_postgres)"
    )
    postgres.add_argument("--schema", default="socorg", help="schema the BI tools read (default socorg)")
    postgres.add_argument("--release", help="snapshot date YYYY-MM-DD (default: latest)")
    postgres.add_argument("--data", help="data folder (default $SOCORG_DATA or ./data)")

    args = parser.parse_args(argv)
    commands_by_name = {
        "sample": _sample,
        "run": _run,
        "verify": _verify,
        "publish-postgres": _publish_postgres,
    }
    return commands_by_name[args.command](args)


def _sample(args) -> int:
    from ingest.sample.generate import write_nights

    if args.nights < 1:
        print(f"socorg sample: --nights must be at least 1, got {args.nights}", file=sys.stderr)
        return 2
    if args.scale != "city":
        return _sample_at_scale(args)
    truths = write_nights(args.out, args.date, args.nights, args.city, args.seed)
    truth = truths[-1]
    if args.nights > 1:
        changes = json.loads((args.out / "_truth" / "changes.json").read_text(encoding="utf-8"))
        print(
            f"{args.nights} nights {truths[0]['export_date']} … {truth['export_date']}; {len(changes)} "
            f"registry changes, listed in {args.out}/_truth/changes.json"
        )
    for city, figures in truth["cities"].items():
        summary = figures["city_summary"]
        print(
            f"{city}: {summary['active_org_count']} active organizations, "
            f"{summary['cluster_member_enterprise_count']} cluster member enterprises"
        )
    print(
        f"{len(truth['quarantine'])} bad rows planted; truth in {args.out}/_truth/{truth['export_date']}.json"
    )
    return 0


def _sample_at_scale(args) -> int:
    """One night of province- or national-size exports, streamed with a progress bar."""
    from ingest.sample.scale import write_scale

    if args.city != "all" or args.nights != 1:
        message = f"--scale {args.scale} writes one night of many cities; drop --city and --nights"
        print(f"socorg sample: {message}", file=sys.stderr)
        return 2
    truth = write_scale(args.out, args.date, args.scale, args.seed, progress=sys.stderr.isatty())
    rows = truth["rows"]
    print(
        f"{args.scale}: {len(truth['cities'])} cities, {rows['registry']:,} organizations, "
        f"{rows['membership']:,} memberships, {rows['qualifications']:,} qualification rows; "
        f"truth in {args.out}/_truth/{truth['export_date']}.json"
    )
    return 0


def _run(args) -> int:
    """Run the nights in order; stop at the first that does not publish."""
    for k in range(args.nights):
        code = _run_night(args, args.date + dt.timedelta(days=k))
        if code:
            return code
    return 0


def _run_night(args, export_date: dt.date) -> int:
    from ingest.airflow_env import test_run
    from ingest.files import write_json_atomically
    from ingest.pipeline import Night, failure_file, run_record, run_time_for

    data = paths.data_dir(args.data)
    night = Night(export_date, paths.exports_root(args.exports, data), data)
    conf = {
        "exports": night.exports,
        "data": str(night.data),
        "keep_releases": args.keep_releases,
        "force": args.force,
    }
    log = None if args.verbose else night.data / "runs" / export_date.isoformat() / "airflow.log"
    print(f"socorg run {export_date}: running the socorg_nightly DAG on {night.exports}", flush=True)
    if log:
        print(f"  log: {log}", flush=True)
    started = time.perf_counter()
    state, tasks = test_run(run_time_for(export_date), conf, log)
    seconds = round(time.perf_counter() - started, 2)
    write_json_atomically(run_record(night), {"state": state, "seconds": seconds, "tasks": tasks})
    print("  " + "  ".join(f"{task}: {t['state']} ({t['seconds']:.1f} s)" for task, t in tasks.items()))
    if state != "success":
        failure = failure_file(night)
        reason = failure.read_text(encoding="utf-8") if failure.exists() else f"see {log or 'the task logs'}"
        print(
            f"\nsocorg run {export_date}: NOT published (run state {state}).\n{reason}",
            file=sys.stderr,
        )
        return 1
    from ingest.land import missing_sources

    if tasks.get("parse", {}).get("state") == "skipped":
        print(f"  {export_date}: exports unchanged since its release; nothing rebuilt (--force rebuilds)")
    for source in missing_sources(night.data, export_date):
        print(f"  note: no {source} exports for {export_date}; the night was published without them")
    print_headlines(night.data, export_date)
    return 0


def _verify(args) -> int:
    """OK when every file of the release hashes as its index.json says; else name each that differs."""
    from ingest.release import latest_snapshot, release_dir, verify

    publish = paths.data_dir(args.data) / "publish"
    if args.release == "latest":
        folder = release_dir(publish, latest_snapshot(publish))
    elif Path(args.release).is_dir():
        folder = Path(args.release).resolve()
    else:
        folder = release_dir(publish, _date(args.release).isoformat())
    problems = verify(folder)
    if problems:
        print(f"socorg verify {folder}: FAILED", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    files = json.loads((folder / "index.json").read_text(encoding="utf-8"))["files"]
    print(f"socorg verify {folder}: OK, {len(files)} files match index.json")
    return 0


def _publish_postgres(args) -> int:
    import psycopg

    from ingest.errors import SocorgError
    from ingest.postgres import POSTGRES_CONN_ID, dsn_from_airflow, publish_postgres

    dsn = args.dsn or dsn_from_airflow()
    if not dsn:
        print(
            f"socorg publish-postgres: give --dsn or an Airflow connection {POSTGRES_CONN_ID}",
            file=sys.stderr,
        )
        return 2
    try:
        result = publish_postgres(paths.data_dir(args.data), dsn, args.schema, args.release)
    except (SocorgError, OSError, psycopg.Error) as exc:
        print(f"socorg publish-postgres: {exc}", file=sys.stderr)
        return 1
    rows = sum(result["tables"].values())
    print(
        f"socorg publish-postgres: release {result['snapshot_date']} is now schema {result['schema']} "
        f"({len(result['tables'])} tables, {rows:,} rows)"
    )
    return 0


def print_headlines(data: Path, export_date: dt.date) -> None:
    """The published figures per city and where everything is."""
    import duckdb

    latest = json.loads((data / "publish" / "latest.json").read_text(encoding="utf-8"))
    summary = data / "publish" / "city_summary" / f"snapshot_date={export_date}" / "city_summary.parquet"
    rows = duckdb.sql(f"select * from read_parquet('{summary}') order by city_code").fetchall()
    columns = [c[0] for c in duckdb.sql(f"describe select * from read_parquet('{summary}')").fetchall()]
    print(f"\nsocorg run {export_date}: published (latest = {latest['snapshot_date']})")
    cities = [dict(zip(columns, row, strict=True)) for row in rows]
    for figures in cities if len(cities) <= CITIES_SHOWN else []:
        print(f"\n  city {figures['city_code']}:")
        _print_figures(figures)
    if len(cities) > CITIES_SHOWN:
        print(f"\n  {len(cities)} cities, together (each city's figures: {summary}):")
        _print_figures({key: sum(city[key] for city in cities) for key in columns if key not in NOT_SUMMED})
    print_changes(data, export_date)
    release = data / "publish" / "releases" / export_date.isoformat() / "index.json"
    index = json.loads(release.read_text(encoding="utf-8"))
    methods = index.get("statistics", {}).get("memberships_by_match_method", {})
    if methods:
        shares = ", ".join(f"{m} {v['share']:.1%}" for m, v in methods.items())
        print(f"\n  members matched by: {shares}")
    publish = data / "publish"
    print(f"\n  Parquet:    {publish}/<dataset>/snapshot_date={export_date}/")
    print(f"  Release:    {publish / latest['index']} (check it: socorg verify {export_date})")
    print(f"  Releases:   {publish / 'versions.json'}")
    print(f"  BI tools:   {publish / 'marts.duckdb'} (read-only; replaced whole each night)")
    print(f"  Catalog:    {data / 'docs' / 'index.html'}")
    print(f"  Data Docs:  {data / 'docs' / 'gx' / 'index.html'}")
    print(f"  dbt docs:   {data / 'docs' / 'dbt' / 'index.html'}")


CITIES_SHOWN = 3  # more cities than this: their figures summed, not city by city
NOT_SUMMED = ("city_code", "snapshot_date")


def _print_figures(figures: dict) -> None:
    for key, value in figures.items():
        if key not in NOT_SUMMED:
            print(f"    {key:32} {value:>8,}")


def print_changes(data: Path, export_date: dt.date) -> None:
    """The night's registry changes per city, counted by kind."""
    import duckdb

    path = data / "publish" / "registry_changes" / f"snapshot_date={export_date}" / "registry_changes.parquet"
    rows = duckdb.sql(
        f"select city_code, any_value(previous_night), change_type, count(*) from read_parquet('{path}') "
        "group by city_code, change_type order by city_code, change_type"
    ).fetchall()
    if not rows:
        print("\n  registry changes: none (the first audited night, or nothing changed)")
        return
    print(f"\n  registry changes since {rows[0][1]}:")
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


if __name__ == "__main__":
    sys.exit(main())
