"""The `socorg` command: sample exports, and one nightly run through the Airflow DAG."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import sys
import time
from pathlib import Path

from ingest.common import paths
from ingest.common.errors import SocorgError
from ingest.common.sql import sql_path
from ingest.publish.datasets import dataset_path


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
    run.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help="how long to wait while another run holds the data folder (default: as long as it takes)",
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
    postgres.add_argument(
        "--wait", type=float, metavar="SECONDS", help="how long to wait for a run holding the data folder"
    )

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
    """Run the nights in date order, each holding the data folder's lock; stop at the first that does
    not publish.

    An earlier night waiting for the data folder goes first. A night published before an earlier one
    (two runs raced, or a backfill) was built on the wrong history: once the earlier night is in, each
    later release that no longer fits is built again.
    """
    from ingest.orchestration.lock import data_folder_lock, waiting_nights

    data = paths.data_dir(args.data)
    nights = [args.date + dt.timedelta(days=k) for k in range(args.nights)]
    command = f"socorg run --date {args.date}" + (f" --nights {args.nights}" if args.nights > 1 else "")
    while nights:
        export_date = nights[0]
        try:
            with data_folder_lock(data, export_date.isoformat(), command, args.wait, _say):
                _prepare_airflow(data, export_date)
                earlier = waiting_nights(data, before=export_date.isoformat())
                if earlier:
                    print(f"  night {earlier[0]} waits for this data folder too: it goes first", flush=True)
                    continue
                code = _run_night(args, export_date)
            if code:
                return code
            nights.pop(0)
            for later in _outdated_later_releases(args, export_date, nights):
                print(
                    f"\nsocorg run: the release of {later} was built before {export_date} was; "
                    f"building {later} again on top of it",
                    flush=True,
                )
                nights = sorted([*nights, later])
        except Exception as exc:  # the lock, Airflow's metadata DB, a full disk: said, not a traceback
            from ingest.orchestration.stages import describe_failure

            print(f"socorg run {export_date}: NOT run.\n{describe_failure(exc)}", file=sys.stderr)
            return 1
    return 0


def _prepare_airflow(data: Path, export_date: dt.date) -> None:
    """Airflow made ready (metadata DB, DAG) before the night's run, its output in the night's log: a
    few seconds in which a run of an earlier night started at the same time asks for the lock too."""
    from ingest.orchestration.airflow_home import output_to, prepare

    with output_to(data / "runs" / export_date.isoformat() / "airflow.log"):
        prepare()


def _say(message: str) -> None:
    print(message, flush=True)


def _outdated_later_releases(args, export_date: dt.date, queued: list[dt.date]) -> list[dt.date]:
    """The first release after this night that was built before it (none queued), if its exports are
    still there to build it again; else say that it stays as it is."""
    from ingest.land.landing import list_exports
    from ingest.land.storage import open_root
    from ingest.publish.fingerprint import previous_changed
    from ingest.publish.release import releases

    data = paths.data_dir(args.data)
    for later in releases(data / "publish"):
        day = dt.date.fromisoformat(later)
        if day <= export_date or day in queued:
            continue
        if not previous_changed(data, day):
            return []
        exports = paths.exports_root(args.exports, data)
        fs, root = open_root(exports)
        if list_exports(fs, root, "registry", day):
            return [day]
        print(
            f"\n  warning: the release of {later} was built before {export_date} was, but its exports are no "
            f"longer in {exports}: it stays as it is (its changes do not include {export_date})"
        )
        return []
    return []


def _run_night(args, export_date: dt.date) -> int:
    from ingest.orchestration.airflow_home import test_run
    from ingest.orchestration.stages import (
        Night,
        describe_failure,
        failure_file,
        record_failure,
        run_record,
        run_time_for,
    )

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
    _say_if_not_whole(night)
    started = time.perf_counter()
    failure = failure_file(night)
    failure.unlink(missing_ok=True)
    try:
        state, tasks = test_run(run_time_for(export_date), conf, log)
    except Exception as exc:  # Airflow itself failed (its metadata DB on a full disk, …): say why
        state, tasks = "failed", {}
        record_failure(night, f"the run could not go on: {describe_failure(exc)}")
        if not failure.exists():
            print(f"  the run could not go on: {describe_failure(exc)}", file=sys.stderr)
    seconds = round(time.perf_counter() - started, 2)
    _write_run_record(run_record(night), {"state": state, "seconds": seconds, "tasks": tasks})
    if tasks:
        print("  " + "  ".join(f"{task}: {t['state']} ({t['seconds']:.1f} s)" for task, t in tasks.items()))
    if state != "success":
        reason = _failure_reason(failure, log, export_date)
        print(
            f"\nsocorg run {export_date}: NOT published (run state {state}).\n{reason}",
            file=sys.stderr,
        )
        _say_alert(night)
        return 1
    from ingest.land.landing import missing_sources

    if tasks.get("parse", {}).get("state") == "skipped":
        print(f"  {export_date}: exports unchanged since its release; nothing rebuilt (--force rebuilds)")
    try:
        for source in missing_sources(night.data, export_date):
            print(f"  note: no {source} exports for {export_date}; the night was published without them")
        print_headlines(night.data, export_date)
    except Exception as exc:  # the night is published; only its summary cannot be shown
        from ingest.orchestration.stages import describe_failure

        print(f"  {export_date} was published, but its figures cannot be shown: {describe_failure(exc)}")
    return 0


def _say_if_not_whole(night) -> None:
    """Tell the person at the terminal why the run may sit still for a while: exports still settling."""
    from ingest.land.landing import not_ready
    from ingest.land.storage import open_root

    try:
        fs, root = open_root(night.exports, night.conn_id)
        waiting = not_ready(fs, root, night.export_date)
    except Exception:  # noqa: BLE001 (only a hint: the sensor itself reports what is wrong)
        return
    reasons = [reason for source_reasons in waiting.values() for reason in source_reasons]
    if reasons:
        more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
        print(f"  waiting for the exports to be whole: {reasons[0]}{more}", flush=True)


def _say_alert(night) -> None:
    """Whether the failure alert reached its webhook: a person at the terminal should know if not."""
    from ingest.common.files import read_json
    from ingest.orchestration.alerts import alert_record

    try:
        outcome = read_json(alert_record(night.data, night.export_date.isoformat()), default=None)
    except SocorgError:
        outcome = None
    if isinstance(outcome, dict) and outcome.get("delivered"):
        print(f"  alert: sent to {outcome.get('to')} ({outcome.get('detail')})", file=sys.stderr)
    elif isinstance(outcome, dict) and outcome.get("configured"):
        print(f"  alert: NOT delivered to {outcome.get('to')}: {outcome.get('detail')}", file=sys.stderr)
    elif isinstance(outcome, dict):
        print(f"  alert: none sent (no Airflow connection {outcome.get('to')})", file=sys.stderr)


def _failure_reason(failure: Path, log: Path | None, export_date: dt.date) -> str:
    """The failed stage's reason: from failure.txt, else as this process saw it (a full disk keeps the
    file from being written), else where to look."""
    import shutil

    from ingest.orchestration.stages import LAST_FAILURES

    try:
        reason = failure.read_text(encoding="utf-8").strip()
    except OSError:
        reason = ""
    reason = reason or LAST_FAILURES.get(export_date, "")
    free = shutil.disk_usage(failure.parents[2]).free if failure.parents[2].exists() else None
    if free is not None and free < LOW_SPACE:
        reason += (
            f"\nthe data folder's disk has {free >> 10:,} KiB free: free some space and run the night again"
        )
    return reason.strip() or f"no reason was recorded; see {log or 'the task logs'}"


LOW_SPACE = 1 << 20  # below this much free space, a failed night's message says the disk is full


def _write_run_record(path: Path, record: dict) -> None:
    """`runs/<date>/run.json`; when it cannot be written, say so and remove a stale one."""
    from ingest.common.files import write_json_atomically

    try:
        write_json_atomically(path, record)
    except OSError as exc:
        print(f"  could not write the run record {path}: {exc.strerror or exc}", file=sys.stderr)
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def _verify(args) -> int:
    """OK when every file of the release hashes as its index.json says; else name each that differs."""
    from ingest.common.files import read_json
    from ingest.orchestration.lock import describe_holder, holder_now
    from ingest.publish.release import latest_file, latest_snapshot, marts_db_record, release_dir, verify
    from ingest.transform.dbt import warehouse_problems

    publish = paths.data_dir(args.data) / "publish"
    try:
        if args.release == "latest":
            snapshot = latest_snapshot(publish)
            if not snapshot:
                print(f"socorg verify: no release yet ({latest_file(publish)} is missing)", file=sys.stderr)
                return 1
            folder = release_dir(publish, snapshot)
        elif Path(args.release).is_dir():
            folder = Path(args.release).resolve()
        else:
            folder = release_dir(publish, _date(args.release).isoformat())
        problems = verify(folder)
        data = paths.data_dir(args.data)
        busy = holder_now(data)
        if busy:  # opening the warehouse now could trip up the run that has it open
            print(f"  warehouse.duckdb not checked: the data folder is in use by {describe_holder(busy)}")
        else:
            problems += warehouse_problems(data)
    except (SocorgError, argparse.ArgumentTypeError, OSError) as exc:
        print(f"socorg verify {args.release}: FAILED\n  {exc}", file=sys.stderr)
        return 1
    if problems:
        print(f"socorg verify {folder}: FAILED", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    index = read_json(folder / "index.json")
    if latest_snapshot(publish) == folder.name and marts_db_record(publish).exists():
        print(f"  {publish / 'marts.duckdb'} matches {marts_db_record(publish).name}")
    print(f"socorg verify {folder}: OK, {len(index['files'])} files match index.json")
    return 0


def _publish_postgres(args) -> int:
    import psycopg

    from ingest.orchestration.lock import data_folder_lock
    from ingest.publish.postgres import POSTGRES_CONN_ID, dsn_from_airflow, publish_postgres

    dsn = args.dsn or dsn_from_airflow()
    if not dsn:
        print(
            f"socorg publish-postgres: give --dsn or an Airflow connection {POSTGRES_CONN_ID}",
            file=sys.stderr,
        )
        return 2
    data = paths.data_dir(args.data)
    try:
        # Named so that it sorts after every date: nights waiting beside it are not held up by it.
        with data_folder_lock(data, "postgres", "socorg publish-postgres", args.wait, _say):
            result = publish_postgres(data, dsn, args.schema, args.release)
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

    from ingest.common.files import read_json
    from ingest.publish.release import read_latest

    latest = read_latest(data / "publish")
    summary = dataset_path(data / "publish", "city_summary", export_date)
    read = f"read_parquet({sql_path(summary)})"
    rows = duckdb.sql(f"select * from {read} order by city_code").fetchall()
    columns = [c[0] for c in duckdb.sql(f"describe select * from {read}").fetchall()]
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
    print(f"  Release:    {release} (check it: socorg verify {export_date})")
    print(f"  Releases:   {publish / 'versions.json'}")
    print(f"  BI tools:   {publish / 'marts.duckdb'} (read-only; replaced whole each night)")
    print(f"  Catalog:    {data / 'docs' / 'index.html'}")
    print(f"  Data Docs:  {data / 'docs' / 'gx' / 'index.html'}")
    print(f"  dbt docs:   {data / 'docs' / 'dbt' / 'index.html'}")


SHOWN_ISSUES = ("history_gap", "warehouse_rebuilt")  # printed after the figures; the rest: issues.json
CITIES_SHOWN = 3  # more cities than this: their figures summed, not city by city
NOT_SUMMED = ("city_code", "snapshot_date")


def _print_figures(figures: dict) -> None:
    for key, value in figures.items():
        if key not in NOT_SUMMED:
            print(f"    {key:32} {value:>8,}")


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
