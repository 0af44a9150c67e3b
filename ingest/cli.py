"""The `socorg` command: sample exports, and one nightly run through the Airflow DAG."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
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
    sample.add_argument("--scale", choices=["city"], default="city", help="only city scale exists so far")
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

    args = parser.parse_args(argv)
    if args.command == "sample":
        return _sample(args)
    return _run(args)


def _sample(args) -> int:
    from ingest.sample.generate import write_nights

    if args.nights < 1:
        print(f"socorg sample: --nights must be at least 1, got {args.nights}", file=sys.stderr)
        return 2
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


def _run(args) -> int:
    """Run the nights in order; stop at the first that does not publish."""
    for k in range(args.nights):
        code = _run_night(args, args.date + dt.timedelta(days=k))
        if code:
            return code
    return 0


def _run_night(args, export_date: dt.date) -> int:
    from ingest.airflow_env import test_run
    from ingest.pipeline import Night, failure_file, run_time_for

    data = paths.data_dir(args.data)
    night = Night(export_date, paths.exports_root(args.exports, data), data)
    conf = {"exports": night.exports, "data": str(night.data)}
    log = None if args.verbose else night.data / "runs" / export_date.isoformat() / "airflow.log"
    print(f"socorg run {export_date}: running the socorg_nightly DAG on {night.exports}", flush=True)
    if log:
        print(f"  log: {log}", flush=True)
    state, tasks = test_run(run_time_for(export_date), conf, log)
    print("  " + "  ".join(f"{task}: {task_state}" for task, task_state in tasks.items()))
    if state != "success":
        failure = failure_file(night)
        reason = failure.read_text(encoding="utf-8") if failure.exists() else f"see {log or 'the task logs'}"
        print(
            f"\nsocorg run {export_date}: NOT published (run state {state}).\n{reason}",
            file=sys.stderr,
        )
        return 1
    from ingest.land import missing_sources

    for source in missing_sources(night.data, export_date):
        print(f"  note: no {source} exports for {export_date}; the night was published without them")
    print_headlines(night.data, export_date)
    return 0


def print_headlines(data: Path, export_date: dt.date) -> None:
    """The published figures per city and where everything is."""
    import duckdb

    latest = json.loads((data / "publish" / "latest.json").read_text(encoding="utf-8"))
    summary = data / "publish" / "city_summary" / f"snapshot_date={export_date}" / "city_summary.parquet"
    rows = duckdb.sql(f"select * from read_parquet('{summary}') order by city_code").fetchall()
    columns = [c[0] for c in duckdb.sql(f"describe select * from read_parquet('{summary}')").fetchall()]
    print(f"\nsocorg run {export_date}: published (latest = {latest['snapshot_date']})")
    for row in rows:
        figures = dict(zip(columns, row, strict=True))
        print(f"\n  city {figures.pop('city_code')}:")
        for key, value in figures.items():
            if key != "snapshot_date":
                print(f"    {key:32} {value:>8,}")
    print_changes(data, export_date)
    release = data / "publish" / "releases" / export_date.isoformat() / "index.json"
    index = json.loads(release.read_text(encoding="utf-8"))
    methods = index.get("statistics", {}).get("memberships_by_match_method", {})
    if methods:
        shares = ", ".join(f"{m} {v['share']:.1%}" for m, v in methods.items())
        print(f"\n  members matched by: {shares}")
    print(f"\n  Parquet:    {data / 'publish'}/<dataset>/snapshot_date={export_date}/")
    print(f"  Release:    {data / 'publish' / latest['index']}")
    print(f"  Data Docs:  {data / 'docs' / 'gx' / 'index.html'}")
    print(f"  dbt docs:   {data / 'docs' / 'dbt' / 'index.html'}")
    print(f"  DuckDB:     {data / 'warehouse.duckdb'}")


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
    for city in sorted({r[0] for r in rows}):
        counts = ", ".join(f"{kind} {n}" for c, _, kind, n in rows if c == city)
        print(f"    city {city}: {counts}")


if __name__ == "__main__":
    sys.exit(main())
