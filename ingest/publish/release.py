"""A night's release files (index, statistics, issues), the list of releases, retention and verify."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path

import pyarrow.parquet as pq

from ingest.common.errors import StateError
from ingest.common.files import in_threads, json_field, read_json, sha256_of, write_json_atomically
from ingest.common.known_hashes import KnownHashes
from ingest.common.releases import latest_snapshot, release_dir, releases
from ingest.common.sql import sql_path
from ingest.publish.datasets import DATASETS, dataset_path


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
    row = con.execute(f"select count(*), {counts} from read_parquet({sql_path(parquet)})").fetchall()[0]
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
    for source, file_name in con.execute(
        "select source, file_name from marts.loads where rows_read = 0 and status = 'loaded' order by all"
    ).fetchall():
        issues.append(
            {
                "level": "warning",
                "kind": "empty_export",
                "source": source,
                "message": f"{file_name}: a header and no data rows; nothing of it was loaded",
            }
        )
    unmatched = (
        "select source, file_name, count(*), string_agg(coalesce(org_name, credit_code), '、' "
        "order by source_row) from marts.standing_unmatched where delivered_on = snapshot_date "
        "group by all order by all"
    )
    for source, file_name, rows, names in con.execute(unmatched).fetchall():
        shown = "、".join(names.split("、")[:STANDING_NAMES_SHOWN]) + (
            "…" if rows > STANDING_NAMES_SHOWN else ""
        )
        issues.append(
            {
                "level": "warning",
                "kind": "standing_unmatched",
                "source": source,
                "message": f"{file_name}: {rows} rows name an organization the registry does not know: "
                f"{shown}",
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


STANDING_NAMES_SHOWN = 5  # the organizations a standing_unmatched issue names; the dataset lists all


def unknown_labels(data: Path, export_date: dt.date) -> list[dict]:
    """Labels no spelling in the rules knows (quarantined as `<column>_unknown`), by count per source
    and column: a synonym to add to the rules, or a wrong value to take back to the office."""
    import duckdb

    issues = []
    for folder in sorted((data / "raw").glob(f"*/quarantine/export_date={export_date.isoformat()}")):
        files = sorted(folder.glob("*.parquet"))
        if not files:
            continue
        found = duckdb.sql(
            f"select column_name, value, count(*) from read_parquet([{', '.join(map(sql_path, files))}], "
            "union_by_name = true) where reason like '%\\_unknown' escape '\\' and value is not null "
            "group by all order by 3 desc, 1, 2"
        ).fetchall()
        source = folder.parent.parent.name
        issues += [
            {
                "level": "warning",
                "kind": "unknown_label",
                "source": source,
                "column": column,
                "label": label,
                "rows": rows,
                "message": f"{rows} {source} rows quarantined: {column} {label!r} is a label no rule knows",
            }
            for column, label, rows in found
        ]
    return issues


def history_gaps(data: Path, export_date: dt.date) -> list[dict]:
    """Earlier nights that were landed but are not audited (failed, or still running in another run),
    between the last audited night before this one and this one: history compares past them."""
    from ingest.common.paths import partition_dates
    from ingest.common.waiting import waiting_nights

    audited = [d.isoformat() for d in partition_dates(data, "audited")]
    date = export_date.isoformat()
    before = [d for d in audited if d < date]
    previous = before[-1] if before else ""
    landed = sorted(p.parent.name for p in (data / "runs").glob("*/landed.json"))
    gaps = {d: "was landed but has not passed its checks (it failed, or is still being built)"
            for d in landed if previous < d < date and d not in audited}  # fmt: skip
    gaps.update({d: "is waiting to be run on this data folder" for d in waiting_nights(data, before=date)})
    against = f"the last audited night, {previous}" if previous else "no earlier night"
    return [
        {
            "level": "warning",
            "kind": "history_gap",
            "night": gap,
            "message": f"night {gap} {why}: changes and history of {date} compare with {against}; "
            f"once {gap} is published, run {date} again (socorg run does so by itself)",
        }
        for gap, why in sorted(gaps.items())
    ]


def write_release(publish: Path, export_date: dt.date, index: dict, statistics: dict, issues: list) -> Path:
    """statistics.json and issues.json, then index.json last: a release is whole once its index is there."""
    folder = release_dir(publish, export_date)
    night = {"snapshot_date": export_date.isoformat()}
    write_json_atomically(folder / "statistics.json", {**night, **statistics})
    write_json_atomically(folder / "issues.json", {**night, "issues": issues})
    write_json_atomically(folder / "index.json", index)
    return folder / "index.json"


def write_versions(publish: Path) -> None:
    """`versions.json`: every release with its index and when it was published, newest first."""
    items = []
    for date in reversed(releases(publish)):
        index = read_json(release_dir(publish, date) / "index.json")
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


def prune(publish: Path, keep: int, scratch: Path, keep_year_ends: bool = True) -> list[str]:
    """Keep the newest `keep` releases (and, `keep_year_ends`, the last release of every year: later
    nights' figures by year read them); drop the others from versions.json first, then move each one's
    folder and partitions out of publish/ in renames and delete them there. Returns the pruned dates."""
    doomed = doomed_releases(releases(publish), keep, keep_year_ends)
    if not doomed:
        return []
    pruned = pruned_releases(publish)
    for date in doomed:  # what each was built from, so that an archive load does not publish it again
        index = read_json(release_dir(publish, date) / "index.json", default={})
        pruned[date] = {"inputs": index.get("inputs"), "fingerprint": index.get("fingerprint")}
    write_json_atomically(pruned_file(publish), dict(sorted(pruned.items())))
    for date in doomed:
        # The index goes first so that versions.json (rewritten below) no longer lists the release.
        (release_dir(publish, date) / "index.json").unlink()
    write_versions(publish)
    trash = scratch / f"pruned-{uuid.uuid4().hex[:8]}"
    trash.mkdir(parents=True)
    for date in doomed:
        for k, folder in enumerate(release_paths(publish, date)):
            if folder.exists():
                folder.replace(trash / f"{date}-{k}")
    shutil.rmtree(trash, ignore_errors=True)
    return doomed


def doomed_releases(dates: list[str], keep: int, keep_year_ends: bool = True) -> list[str]:
    """Of the releases `dates` (oldest first), those retention removes: all but the newest `keep`, and
    (with `keep_year_ends`) the last release of every year — locally and on object storage alike."""
    if keep < 1:
        raise ValueError(f"retention must keep at least 1 release, got {keep}")
    year_ends = {max(d for d in dates if d[:4] == year) for year in {d[:4] for d in dates}}
    return [d for d in dates[:-keep] if not (keep_year_ends and d in year_ends)]


def release_paths(publish: Path, date: str) -> list[Path]:
    """The folders a release lives in: its own, its reports' and each dataset's partition."""
    partitions = [dataset_path(publish, d, date).parent for d in DATASETS]
    return [release_dir(publish, date), publish / "reports" / date, *partitions]


def pruned_file(publish: Path) -> Path:
    """`publish/pruned.json`: each release retention pruned, with the inputs it was built from."""
    return publish / "pruned.json"


def pruned_releases(publish: Path) -> dict[str, dict]:
    """The releases retention pruned, by night: {"inputs": …, "fingerprint": …}."""
    record = read_json(pruned_file(publish), default={})
    return record if isinstance(record, dict) else {}


def verify(folder: Path, known: KnownHashes | None = None) -> list[str]:
    """Re-hash a release's files against its index.json; the problems found, none when it is whole.

    `marts.duckdb` holds the latest release only: it is checked with the release latest.json points at.
    With `known`, a file not written to since it was last hashed is not read again (the check that a
    night is unchanged; `socorg verify` reads every file).
    """
    index_file = folder / "index.json"
    if not index_file.exists():
        return [f"{index_file}: no index.json, so this is not a whole release"]
    publish = folder.parent.parent
    try:
        index = read_json(index_file)
        entries = [*json_field(index_file, index, "files"), *index.get("reports", [])]
        marts_db = None
        if latest_snapshot(publish) == folder.name:
            marts_db = read_json(marts_db_record(publish), default=None)
            marts_db = marts_db if (marts_db or {}).get("snapshot_date") == folder.name else None
        checked = in_threads(lambda entry: _check(publish, entry, "index.json", known), entries)
        problems = [problem for found in checked for problem in found]
        record = marts_db_record(publish).name
        return problems + (_check(publish, marts_db, record, known) if marts_db else [])
    except (StateError, KeyError, TypeError) as exc:
        return [str(exc) if isinstance(exc, StateError) else f"{index_file}: damaged entry ({exc!r})"]


def marts_db_record(publish: Path) -> Path:
    """`publish/marts.duckdb.json`: the BI file's release, bytes and sha256 (DuckDB does not write the
    same bytes twice, so they are kept beside the file, not in a release's index)."""
    return publish / "marts.duckdb.json"


def file_record(path: Path) -> dict:
    """A file's name, bytes and sha256, as verify checks them."""
    return {"path": path.name, "bytes": path.stat().st_size, "sha256": sha256_of(path)}


def _check(publish: Path, entry: dict, record: str, known: KnownHashes | None = None) -> list[str]:
    """The problems with one file of a record (index.json) under publish/: missing, another hash or size."""
    path = publish / entry["path"]
    size = path.stat().st_size if path.exists() else None
    sha256_now = (lambda: known.sha256(path)) if known else (lambda: sha256_of(path))
    return check_entry(entry["path"], size, sha256_now, entry, record)


def check_entry(where: str, size: int | None, sha256_now, entry: dict, record: str) -> list[str]:
    """One file held against its entry (bytes, sha256) in a record — here or on object storage: missing,
    or its hash and its size where they differ (`sha256_now` reads it only when it is there)."""
    if size is None:
        return [f"{where}: missing"]
    found = sha256_now()
    problems = (
        [f"{where}: sha256 {found}, {record} says {entry['sha256']}"] if found != entry["sha256"] else []
    )
    if size != entry["bytes"]:
        problems.append(f"{where}: {size} bytes, {record} says {entry['bytes']}")
    return problems
