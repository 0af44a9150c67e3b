"""Publish the marts as Parquet per dataset and snapshot date, then the release index, then latest."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import uuid
from pathlib import Path

from ingest.files import write_json_atomically

DATASETS = {
    "organizations": ["credit_code"],
    "organization_history": ["credit_code", "version_no"],
    "registry_changes": ["credit_code", "change_type"],
    "memberships": ["association_credit_code", "member_key"],
    "membership_changes": ["association_credit_code", "member_key", "change_type"],
    "enterprises": ["enterprise_key"],
    "clusters": ["city_code", "cluster_code"],
    "registry_stats": ["city_code", "division_code", "org_type"],
    "city_summary": ["city_code"],
    "loads": ["source", "file_name", "version"],
    "quality": ["source", "expectation", "column_name"],
    "quarantine_reasons": ["source", "file_name", "version", "reason"],
}
PERSONAL_COLUMNS = {"legal_representative", "phone", "contact_person"}


def dataset_path(publish: Path, dataset: str, export_date: dt.date) -> Path:
    """`publish/<dataset>/snapshot_date=<date>/<dataset>.parquet`."""
    return publish / dataset / f"snapshot_date={export_date.isoformat()}" / f"{dataset}.parquet"


def publish_night(data: Path, export_date: dt.date) -> dict:
    """Write each dataset to a staging folder, move it into place, then index.json, then latest.json."""
    import duckdb

    publish = data / "publish"
    staging = publish / f".staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    files = []
    try:
        # Not read_only: within one process (dag.test) dbt may still hold the file open read-write,
        # and DuckDB refuses a second configuration. The DAG runs one writer at a time.
        with duckdb.connect(str(data / "warehouse.duckdb")) as con:
            for dataset, key in DATASETS.items():
                files.append(_export(con, dataset, key, staging, export_date))
            statistics = {"memberships_by_match_method": match_method_shares(con)}
        for entry in files:
            final = publish / entry["path"]
            final.parent.mkdir(parents=True, exist_ok=True)
            (staging / entry["path"]).replace(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    release = {
        "snapshot_date": export_date.isoformat(),
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "files": files,
        "statistics": statistics,
    }
    index = publish / "releases" / export_date.isoformat() / "index.json"
    write_json_atomically(index, release)
    latest = {"snapshot_date": export_date.isoformat(), "index": str(index.relative_to(publish))}
    if _current_latest(publish) <= export_date.isoformat():
        write_json_atomically(publish / "latest.json", latest)
    return {"release": str(index), "files": files}


def match_method_shares(con) -> dict[str, dict]:
    """Memberships per match method (credit_code, exact_name, normalized_name, unmatched): rows, share."""
    rows = con.execute(
        "select match_method, count(*) from marts.memberships group by 1 order by 1"
    ).fetchall()
    total = sum(n for _, n in rows) or 1
    return {method: {"rows": n, "share": round(n / total, 4)} for method, n in rows}


def _current_latest(publish: Path) -> str:
    """The snapshot date latest.json points at; a backfill of an older night does not move it back."""
    path = publish / "latest.json"
    if not path.exists():
        return ""
    return json.loads(path.read_text(encoding="utf-8"))["snapshot_date"]


def _export(con, dataset: str, key: list[str], staging: Path, export_date: dt.date) -> dict:
    columns = [row[0] for row in con.execute(f"describe marts.{dataset}").fetchall()]
    leaked = PERSONAL_COLUMNS.intersection(columns)
    if leaked:
        raise RuntimeError(f"refusing to publish {dataset}: personal columns {sorted(leaked)}")
    relative = dataset_path(Path("."), dataset, export_date)
    target = staging / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"copy (select * from marts.{dataset} order by {', '.join(key)}) "
        f"to '{target}' (format parquet, compression zstd)"
    )
    rows = con.execute(f"select count(*) from read_parquet('{target}')").fetchone()[0]
    return {
        "dataset": dataset,
        "path": relative.as_posix(),
        "rows": rows,
        "bytes": target.stat().st_size,
        "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
    }
