"""`socorg verify`, `publish-remote`, `publish-postgres`: check, upload, load into PostgreSQL a release."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ingest.cli import exit_codes
from ingest.cli.nights import export_date_arg
from ingest.cli.run import say
from ingest.common import paths
from ingest.common.errors import LockHeldError, SocorgError


def verify_command(args) -> int:
    """OK when every file of the release hashes as its index.json says; else name each that differs."""
    from ingest.common.files import read_json
    from ingest.common.releases import latest_file, latest_snapshot, release_dir
    from ingest.orchestration.lock import describe_holder, holder_now
    from ingest.publish.release import marts_db_record, verify
    from ingest.transform.dbt import warehouse_problems

    if "://" in args.release:
        return _verify_remote(args.release)
    publish = paths.data_dir(args.data) / "publish"
    try:
        if args.release == "latest":
            snapshot = latest_snapshot(publish)
            if not snapshot:
                print(f"socorg verify: no release yet ({latest_file(publish)} is missing)", file=sys.stderr)
                return exit_codes.STOPPED
            folder = release_dir(publish, snapshot)
        elif Path(args.release).is_dir():
            folder = Path(args.release).resolve()
        else:
            folder = release_dir(publish, export_date_arg(args.release).isoformat())
        problems = verify(folder)
        data = paths.data_dir(args.data)
        busy = holder_now(data)
        if busy:  # opening the warehouse now could trip up the run that has it open
            print(f"  warehouse.duckdb not checked: the data folder is in use by {describe_holder(busy)}")
        else:
            problems += warehouse_problems(data)
    except (SocorgError, argparse.ArgumentTypeError, OSError) as exc:
        print(f"socorg verify {args.release}: FAILED\n  {exc}", file=sys.stderr)
        return exit_codes.STOPPED
    if problems:
        return _failed(str(folder), problems)
    index = read_json(folder / "index.json")
    if latest_snapshot(publish) == folder.name and marts_db_record(publish).exists():
        print(f"  {publish / 'marts.duckdb'} matches {marts_db_record(publish).name}")
    checked = len(index["files"]) + len(index.get("reports", []))
    print(f"socorg verify {folder}: OK, {checked} files match index.json")
    return exit_codes.OK


def _failed(release: str, problems: list[str]) -> int:
    """Name each file of the release that is not as its record says."""
    print(f"socorg verify {release}: FAILED", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return exit_codes.STOPPED


def _verify_remote(url: str) -> int:
    """`socorg verify s3://bucket/prefix` (its latest release) or `…/releases/<date>` (that one)."""
    from ingest.publish.remote import verify_remote, without_credentials

    one = re.fullmatch(r"(.+)/releases/(\d{4}-\d{2}-\d{2})/?", url)
    root, date = (one.group(1), one.group(2)) if one else (url.rstrip("/"), None)
    shown = without_credentials(url)
    try:
        found, problems, checked = verify_remote(root, date)
    except SocorgError as exc:
        print(f"socorg verify {shown}: FAILED\n  {exc}", file=sys.stderr)
        return exit_codes.STOPPED
    if problems:
        return _failed(shown, problems)
    print(
        f"socorg verify {without_credentials(root)}/releases/{found}: OK, {checked} files match the release"
    )
    return exit_codes.OK


def publish_remote_command(args) -> int:
    """Upload a local release to object storage (what the DAG's publish_remote task does)."""
    from ingest.common.releases import latest_snapshot
    from ingest.orchestration.airflow_home import configure
    from ingest.orchestration.lock import data_folder_lock
    from ingest.orchestration.stages import keep_releases_setting, keep_year_ends_setting
    from ingest.publish.remote import URL_SETTING, publish_remote, publish_url

    url = publish_url(args.url)
    if not url:
        print(f"socorg publish-remote: give --url or set {URL_SETTING}", file=sys.stderr)
        return exit_codes.USAGE
    data = paths.data_dir(args.data)
    date = args.release or latest_snapshot(data / "publish")
    if not date:
        print(f"socorg publish-remote: nothing published yet in {data / 'publish'}", file=sys.stderr)
        return exit_codes.STOPPED
    configure()  # the bucket's credentials may be the Airflow connection socorg_publish
    try:
        with data_folder_lock(data, "remote", "socorg publish-remote", args.wait, say):
            keep = args.keep_releases or keep_releases_setting()  # as the DAG keeps them
            result = publish_remote(data, str(date), url, keep, keep_year_ends_setting())
    except LockHeldError as exc:
        print(f"socorg publish-remote: {exc}", file=sys.stderr)
        return exit_codes.LOCKED
    except SocorgError as exc:
        print(f"socorg publish-remote {date}: NOT uploaded.\n  {exc}", file=sys.stderr)
        return exit_codes.NOT_UPLOADED
    print(
        f"socorg publish-remote: release {date} is on {result['url']} ({result['sent']} files sent, "
        f"{result['kept']} there already{', latest.json moved' if result['latest'] else ''})"
    )
    return exit_codes.OK


def publish_postgres_command(args) -> int:
    import psycopg

    from ingest.orchestration.lock import data_folder_lock
    from ingest.publish.postgres import POSTGRES_CONN_ID, dsn_from_airflow, publish_postgres

    dsn = args.dsn or dsn_from_airflow()
    if not dsn:
        print(
            f"socorg publish-postgres: give --dsn or an Airflow connection {POSTGRES_CONN_ID}",
            file=sys.stderr,
        )
        return exit_codes.USAGE
    data = paths.data_dir(args.data)
    try:
        # Named so that it sorts after every date: nights waiting beside it are not held up by it.
        with data_folder_lock(data, "postgres", "socorg publish-postgres", args.wait, say):
            result = publish_postgres(data, dsn, args.schema, args.release)
    except LockHeldError as exc:
        print(f"socorg publish-postgres: {exc}", file=sys.stderr)
        return exit_codes.LOCKED
    except (SocorgError, OSError, psycopg.Error) as exc:
        print(f"socorg publish-postgres: {exc}", file=sys.stderr)
        return exit_codes.STOPPED
    rows = sum(result["tables"].values())
    print(
        f"socorg publish-postgres: release {result['snapshot_date']} is now schema {result['schema']} "
        f"({len(result['tables'])} tables, {rows:,} rows)"
    )
    return exit_codes.OK
