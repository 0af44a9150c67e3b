"""A night's release files (index, statistics, issues), the list of releases, retention and verify."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import uuid
from pathlib import Path

import pyarrow.parquet as pq

from ingest.datasets import DATASETS
from ingest.files import write_json_atomically


def release_dir(publish: Path, export_date: dt.date | str) -> Path:
    """`publish/releases/<date>/`."""
    return publish / "releases" / str(export_date)


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_file(dataset: str, parquet: Path, relative: str) -> dict:
    """An index entry: dataset, path, rows, bytes, sha256 and the Arrow schema."""
    meta = pq.read_metadata(parquet)
    schema = meta.schema.to_arrow_schema()
    return {
        "dataset": dataset,
        "path": relative,
        "rows": meta.num_rows,
        "bytes": parquet.stat().st_size,
        "sha256": sha256_of(parquet),
        "schema": [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema],
    }


def column_statistics(con, parquet: Path, columns: list[str]) -> dict:
    """Row count and each column's share of nulls."""
    counts = ", ".join(f'count("{c}")' for c in columns)
    row = con.execute(f"select count(*), {counts} from read_parquet('{parquet}')").fetchall()[0]
    rows = row[0]
    return {
        "rows": rows,
        "null_share": {
            c: round(1 - n / rows, 4) if rows else 0.0 for c, n in zip(columns, row[1:], strict=True)
        },
    }


def night_issues(con, missing_sources: list[str]) -> list[dict]:
    """The night's warnings: failed warning-level expectations, quarantined rows, re-deliveries, gaps."""
    issues = [
        {"level": "warning", "kind": "missing_export", "source": s, "message": f"no {s} exports this night"}
        for s in missing_sources
    ]
    for source, expectation, column, unexpected, total in con.execute(
        "select source, expectation, column_name, unexpected_count, element_count from marts.quality "
        "where not success order by all"
    ).fetchall():
        on = f" on {column}" if column else ""
        issues.append(
            {
                "level": "warning",
                "kind": "expectation",
                "source": source,
                "message": f"{expectation}{on}: {unexpected} of {total} rows unexpected",
                "rows": unexpected,
            }
        )
    for source, reason, rows in con.execute(
        "select source, reason, sum(quarantined_rows) from marts.quarantine_reasons group by all order by all"
    ).fetchall():
        issues.append(
            {
                "level": "warning",
                "kind": "quarantine",
                "source": source,
                "message": f"{rows} rows quarantined: {reason}",
                "rows": int(rows),
            }
        )
    for source, name, version in con.execute(
        "select source, file_name, version from marts.loads where status = 'superseded' order by all"
    ).fetchall():
        issues.append(
            {
                "level": "info",
                "kind": "redelivery",
                "source": source,
                "message": f"{name} version {version} was replaced by a re-delivery with new content",
            }
        )
    return issues


def write_release(publish: Path, export_date: dt.date, index: dict, statistics: dict, issues: list) -> Path:
    """statistics.json and issues.json, then index.json last: a release is whole once its index is there."""
    folder = release_dir(publish, export_date)
    night = {"snapshot_date": export_date.isoformat()}
    write_json_atomically(folder / "statistics.json", {**night, **statistics})
    write_json_atomically(folder / "issues.json", {**night, "issues": issues})
    write_json_atomically(folder / "index.json", index)
    return folder / "index.json"


def latest_snapshot(publish: Path) -> str:
    """The snapshot date latest.json points at ("" before the first release)."""
    path = publish / "latest.json"
    if not path.exists():
        return ""
    return json.loads(path.read_text(encoding="utf-8"))["snapshot_date"]


def releases(publish: Path) -> list[str]:
    """Snapshot dates of the whole releases (those with an index.json), oldest first."""
    folder = publish / "releases"
    return sorted(p.parent.name for p in folder.glob("*/index.json")) if folder.exists() else []


def write_versions(publish: Path) -> None:
    """`versions.json`: every release with its index and when it was published, newest first."""
    items = []
    for date in reversed(releases(publish)):
        index = json.loads((release_dir(publish, date) / "index.json").read_text(encoding="utf-8"))
        items.append(
            {
                "snapshot_date": date,
                "index": f"releases/{date}/index.json",
                "published_at": index.get("published_at"),
                "datasets": len(index.get("files", [])),
            }
        )
    write_json_atomically(
        publish / "versions.json", {"latest": latest_snapshot(publish) or None, "releases": items}
    )


def prune(publish: Path, keep: int, scratch: Path) -> list[str]:
    """Keep the newest `keep` releases; drop older ones from versions.json first, then move each one's
    folder and partitions out of publish/ in renames and delete them there. Returns the pruned dates."""
    if keep < 1:
        raise ValueError(f"retention must keep at least 1 release, got {keep}")
    dates = releases(publish)
    doomed = dates[:-keep]
    if not doomed:
        return []
    for date in doomed:
        # The index goes first so that versions.json (rewritten below) no longer lists the release.
        (release_dir(publish, date) / "index.json").unlink()
    write_versions(publish)
    trash = scratch / f"pruned-{uuid.uuid4().hex[:8]}"
    trash.mkdir(parents=True)
    for date in doomed:
        for k, folder in enumerate(
            [release_dir(publish, date), *(publish / d / f"snapshot_date={date}" for d in DATASETS)]
        ):
            if folder.exists():
                folder.replace(trash / f"{date}-{k}")
    shutil.rmtree(trash, ignore_errors=True)
    return doomed


def verify(folder: Path) -> list[str]:
    """Re-hash a release's files against its index.json; the problems found, none when it is whole."""
    index_file = folder / "index.json"
    if not index_file.exists():
        return [f"{index_file}: no index.json, so this is not a whole release"]
    publish = folder.parent.parent
    problems = []
    for entry in json.loads(index_file.read_text(encoding="utf-8"))["files"]:
        path = publish / entry["path"]
        if not path.exists():
            problems.append(f"{entry['path']}: missing")
            continue
        found = sha256_of(path)
        if found != entry["sha256"]:
            problems.append(f"{entry['path']}: sha256 {found}, index.json says {entry['sha256']}")
        elif path.stat().st_size != entry["bytes"]:
            problems.append(f"{entry['path']}: {path.stat().st_size} bytes, index.json says {entry['bytes']}")
    return problems
