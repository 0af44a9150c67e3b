"""Publish a night: Parquet per dataset, the release files, marts.duckdb, versions, latest, catalog."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path

from ingest.common import progress
from ingest.common.files import write_json_atomically
from ingest.common.notes import night_notes
from ingest.common.paths import duckdb_memory
from ingest.common.releases import latest_file, latest_snapshot
from ingest.common.sql import sql_literal, sql_path
from ingest.publish.datasets import DATASETS, dataset_docs, dataset_path
from ingest.publish.fingerprint import night_fingerprint, night_inputs, previous_fingerprint
from ingest.publish.release import (
    column_statistics,
    describe_file,
    file_record,
    history_gaps,
    marts_db_record,
    night_issues,
    prune,
    unknown_labels,
    write_release,
    write_versions,
)
from ingest.rules.layouts import personal_columns

# Fixed Parquet settings, so that the same marts always give the same bytes.
PARQUET_OPTIONS = "format parquet, compression zstd, row_group_size 122880"


def scratch_dir(data: Path) -> Path:
    """Where a publish stages its files: beside publish/ on the same disk, never inside it."""
    return data / "tmp"


def publish_night(
    data: Path,
    export_date: dt.date,
    keep_releases: int | None = None,
    keep_raw_nights: int | None = None,
    keep_year_ends: bool = True,
) -> dict:
    """Stage every file outside publish/, move the Parquet into place, write the release (index last),
    then — for the newest night — marts.duckdb and latest.json; then versions, retention (releases, and
    raw nights the history state carries), the catalog."""
    import duckdb

    from ingest.transform.results import check_built

    check_built(data, export_date)  # write–audit–publish: only a build whose every node passed
    publish = data / "publish"
    scratch = scratch_dir(data)
    staging = scratch / f"publish-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        # Not read_only: within one process (dag.test) dbt may still hold the file open read-write,
        # and DuckDB refuses a second configuration. The pool lets one writer at a time in.
        with duckdb.connect(str(data / "warehouse.duckdb")) as con:
            con.execute(f"set memory_limit = {sql_literal(duckdb_memory())}")
            staged = {}
            for done, dataset in enumerate(DATASETS, 1):
                staged[dataset] = _export(con, dataset, staging, export_date)
                progress.step("publish", done, len(DATASETS), "datasets", dataset)
            files, statistics = [], {"datasets": {}}
            for dataset, (relative, columns) in staged.items():
                files.append(describe_file(dataset, staging / relative, relative.as_posix()))
                statistics["datasets"][dataset] = column_statistics(con, staging / relative, columns)
            shares = match_method_shares(con)
            statistics["headline"] = _headline(con, shares)
            from ingest.land.landing import missing_sources

            issues = night_issues(con, missing_sources(data, export_date))
        issues += unknown_labels(data, export_date)
        issues += history_gaps(data, export_date) + night_notes(data, export_date)
        is_newest = latest_snapshot(publish) <= export_date.isoformat()
        docs = dataset_docs()  # the marts' descriptions, from the dbt contracts
        tonight = {d: staging / relative for d, (relative, _) in staged.items()}
        if is_newest:
            from ingest.publish.marts_db import build_marts_db

            build_marts_db(staging / "marts.duckdb", tonight, docs)
        from ingest.publish.report import install_reports, write_reports

        reports = write_reports(staging, export_date, docs, publish, tonight)
        for relative, _ in staged.values():
            final = publish / relative
            final.parent.mkdir(parents=True, exist_ok=True)
            (staging / relative).replace(final)
        install_reports(staging, publish, export_date)
        index = {
            "snapshot_date": export_date.isoformat(),
            "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "files": files,
            "reports": reports,
            "statistics": {"memberships_by_match_method": shares},
            "inputs": night_inputs(data, export_date),
            "fingerprint": night_fingerprint(data, export_date),
            "previous_fingerprint": previous_fingerprint(data, export_date),
        }

        index_file = write_release(publish, export_date, index, statistics, issues)
        if is_newest:
            # DuckDB files are not byte-reproducible: the hash lives beside the file, not in the index.
            record = {"snapshot_date": export_date.isoformat(), **file_record(staging / "marts.duckdb")}
            (staging / "marts.duckdb").replace(publish / "marts.duckdb")
            write_json_atomically(marts_db_record(publish), record)
            latest = {
                "snapshot_date": export_date.isoformat(),
                "index": str(index_file.relative_to(publish)),
                "report": reports[0]["path"],
                "workbook": reports[1]["path"],
            }
            write_json_atomically(latest_file(publish), latest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    write_versions(publish)
    pruned = prune(publish, keep_releases, scratch, keep_year_ends) if keep_releases else []
    pruned_raw = []
    if keep_raw_nights:
        from ingest.publish.retention import prune_raw_nights

        with duckdb.connect(str(data / "warehouse.duckdb")) as con:
            pruned_raw = prune_raw_nights(data, keep_raw_nights, con)
    from ingest.publish.catalog import write_catalog
    from ingest.publish.report import write_reports_index

    write_reports_index(publish)
    write_catalog(data, docs)
    return {
        "release": str(index_file),
        "files": files,
        "issues": len(issues),
        "pruned": pruned,
        "pruned_raw_nights": pruned_raw,
    }


def match_method_shares(con) -> dict[str, dict]:
    """Memberships per match method (credit_code, exact_name, normalized_name, unmatched): rows, share."""
    rows = con.execute(
        "select match_method, count(*) from marts.memberships group by 1 order by 1"
    ).fetchall()
    total = sum(n for _, n in rows) or 1
    return {method: {"rows": n, "share": round(n / total, 4)} for method, n in rows}


def _headline(con, shares: dict) -> dict:
    """The figures a reader looks for first: each city's summary, and how members were matched."""
    cursor = con.execute("select * exclude (snapshot_date) from marts.city_summary order by city_code")
    names = [d[0] for d in cursor.description]
    cities = {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in cursor.fetchall()}
    return {"cities": cities, "memberships_by_match_method": shares}


def _export(con, dataset: str, staging: Path, export_date: dt.date) -> tuple[Path, list[str]]:
    """Write one mart to staging as Parquet sorted by its key; refuse personal columns."""
    columns = [row[0] for row in con.execute(f"describe marts.{dataset}").fetchall()]
    leaked = personal_columns().intersection(columns)
    if leaked:
        raise RuntimeError(f"refusing to publish {dataset}: personal columns {sorted(leaked)}")
    relative = dataset_path(Path("."), dataset, export_date)
    target = staging / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    key = ", ".join(DATASETS[dataset].key)
    con.execute(
        f"copy (select * from marts.{dataset} order by {key}) to {sql_path(target)} ({PARQUET_OPTIONS})"
    )
    return relative, columns
