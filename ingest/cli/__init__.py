"""The `socorg` command: sample exports, and one nightly run through the Airflow DAG."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ingest.cli.exit_codes import EXIT_CODES
from ingest.cli.inspect import inspect_command
from ingest.cli.nights import export_date_arg, export_dates_arg
from ingest.cli.release import publish_postgres_command, publish_remote_command, verify_command
from ingest.cli.run import run_command
from ingest.cli.sample import sample_command
from ingest.rules.layouts import SOURCES


def _check_run_args(parser, args) -> None:
    """`--nights` goes with `--date`, `--to` with `--from`."""
    if args.nights != 1 and not args.date:
        parser.error("--nights counts days from --date: give --date")
    if args.nights < 1:
        parser.error("--nights must be at least 1")
    if args.to and getattr(args, "from") and args.to < getattr(args, "from"):
        parser.error(f"--to {args.to} is before --from {getattr(args, 'from')}")
    if args.to and (args.date or args.dates or args.all):
        parser.error("--to goes with --from (the dates held from one date to another)")


def package_version() -> str:
    """socorg's version as installed (pyproject.toml's)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("socorg")
    except PackageNotFoundError:
        return "unknown (not installed: run `uv sync`)"


def build_parser() -> argparse.ArgumentParser:
    """The `socorg` command line: every command with its options (the docs' CLI reference prints each
    command's help from here)."""
    codes = "\n".join(f"  {code}  {name}: {what}" for code, (name, what) in EXIT_CODES.items())
    parser = argparse.ArgumentParser(
        prog="socorg",
        description=__doc__,
        epilog=f"exit codes (every command):\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"socorg {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    sample = commands.add_parser("sample", help="write realistic sample exports for one night")
    sample.add_argument("--out", type=Path, required=True, help="exports root to write into")
    when = sample.add_mutually_exclusive_group(required=True)
    when.add_argument(
        "--date", type=export_date_arg, help="export date YYYY-MM-DD (with --nights: the first)"
    )
    when.add_argument(
        "--dates",
        type=export_dates_arg,
        metavar="D1,D2,…",
        help="an archive: a snapshot for each date (year-ends, say), as exports looked in their year — "
        "registration numbers before 2016, member and other lists from 2021 (city scale)",
    )
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

    run = commands.add_parser(
        "run",
        help="run the nightly DAG for an export date, or load an archive of dates in date order",
        description="Run the socorg_nightly DAG for the nights asked for, one at a time and in date "
        "order, each on the history of the nights before it. A night already published whose exports are "
        "unchanged is not run again.",
    )
    which = run.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--date", type=export_date_arg, help="export date YYYY-MM-DD (with --nights: the first)"
    )
    which.add_argument(
        "--dates", type=export_dates_arg, metavar="D1,D2,…", help="these export dates (comma-separated)"
    )
    which.add_argument(
        "--from", type=export_date_arg, metavar="DATE", help="every date the exports root holds from DATE on"
    )
    which.add_argument("--all", action="store_true", help="every date the exports root holds (an archive)")
    run.add_argument("--to", type=export_date_arg, metavar="DATE", help="with --from: up to DATE")
    run.add_argument("--exports", help="exports root URL (default $SOCORG_EXPORTS or <data>/exports)")
    run.add_argument("--data", help="data folder (default $SOCORG_DATA or ./data)")
    run.add_argument("--verbose", action="store_true", help="show Airflow's, dbt's and GX's output")
    run.add_argument(
        "--json",
        action="store_true",
        help="print each night's outcome (state, release, figures, issues) as one JSON document per line "
        "on stdout; everything else goes to stderr",
    )
    run.add_argument("--nights", type=int, default=1, help="with --date: this many consecutive days from it")
    run.add_argument("--site", type=Path, help="the deployment's site folder (default $SOCORG_SITE)")

    run.add_argument("--keep-releases", type=int, help="keep the newest N releases (default: all)")
    run.add_argument(
        "--keep-year-ends",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with --keep-releases, also keep the last release of every year (default: yes, or "
        "$SOCORG_KEEP_YEAR_ENDS)",
    )
    run.add_argument(
        "--force", action="store_true", help="rebuild a night even if its release is current (unchanged)"
    )
    run.add_argument(
        "--model-tasks",
        action="store_true",
        help="run the DAG drawn with a task per dbt model, as the scheduler shows it (about 0.1 s more "
        "a model; by default dbt is one task that reports each model as it finishes)",
    )
    run.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help="how long to wait while another run holds the data folder (default: as long as it takes)",
    )

    inspect = commands.add_parser(
        "inspect", help="show how a night would read an export file (or a folder's exports of a date)"
    )
    inspect.add_argument("path", help="an export file, or an exports root with --date")
    inspect.add_argument("--source", choices=list(SOURCES))
    inspect.add_argument("--date", type=export_date_arg, help="export date YYYY-MM-DD (a folder needs it)")
    inspect.add_argument("--site", type=Path, help="the deployment's site folder (default $SOCORG_SITE)")

    verify = commands.add_parser("verify", help="re-hash a release's files against its index.json")
    verify.add_argument(
        "release",
        help="a release folder, a snapshot date YYYY-MM-DD, 'latest', or a URL on object storage "
        "(s3://bucket/prefix for its latest release, …/releases/YYYY-MM-DD for one)",
    )
    verify.add_argument("--data", help="data folder (default $SOCORG_DATA or ./data)")

    remote = commands.add_parser(
        "publish-remote", help="upload a release to object storage, latest.json last (only what is missing)"
    )
    remote.add_argument("--url", help="fsspec URL, e.g. s3://bucket/socorg (default $SOCORG_PUBLISH_URL)")
    remote.add_argument("--release", type=export_date_arg, help="snapshot date YYYY-MM-DD (default: latest)")
    remote.add_argument("--keep-releases", type=int, help="keep the newest N releases there (default: all)")
    remote.add_argument("--data", help="data folder (default $SOCORG_DATA or ./data)")
    remote.add_argument(
        "--wait", type=float, metavar="SECONDS", help="how long to wait for a run holding the data folder"
    )

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

    return parser


def entry() -> None:
    """The `socorg` command (and `python -m ingest.cli`): main(), then a quick exit."""
    exit_now(main())


def exit_now(code: int | None) -> None:
    """Leave without the interpreter's own finalization, which after a night spends about 2.5 s
    collecting the garbage of Airflow's, dbt's and GX's modules, for nothing. What finalization does
    that matters still happens, in its order: threads are joined and executors shut down (OpenLineage's
    process pool, whose forked workers would otherwise outlive the command and hold its output open),
    the exit handlers run (logs flushed, dbt's DuckDB connections closed, Airflow's sessions disposed),
    then the terminal's output is flushed."""
    import atexit
    import threading

    threading._shutdown()  # what Py_Finalize calls first: non-daemon threads, threading._register_atexit
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        _check_run_args(parser, args)
    if getattr(args, "site", None):  # the stages read it from the environment, as under a scheduler
        os.environ["SOCORG_SITE"] = str(args.site.expanduser().resolve())
    commands_by_name = {
        "sample": sample_command,
        "run": run_command,
        "inspect": inspect_command,
        "verify": verify_command,
        "publish-remote": publish_remote_command,
        "publish-postgres": publish_postgres_command,
    }
    return commands_by_name[args.command](args)
