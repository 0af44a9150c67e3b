"""Checks of a night's batches as a whole before any expectation: rows present, no shrink, sizes expected."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from ingest.common.errors import GateError
from ingest.common.notes import add_note
from ingest.common.paths import partition, partition_dates
from ingest.rules.layouts import SOURCES, load_layout
from ingest.validate.batches import night_files


def check_batches(data: Path, export_date: dt.date) -> None:
    """Whole-batch checks: an empty registry, too many quarantined rows, a registry that shrank."""
    import pyarrow.parquet as pq

    log = pq.read_table(partition(data, "load_log", export_date)).to_pylist()
    registry = [r for r in log if r["source"] == "registry"]
    if sum(r["rows_read"] for r in registry) == 0:
        files = ", ".join(r["file_name"] for r in registry) or "no file"
        raise GateError(f"registry: the night's registry export ({files}) holds no rows")
    for source in SOURCES:
        layout = load_layout(source)
        files = [r for r in log if r["source"] == source]
        night = {
            "file_name": "the night",
            "rows_read": sum(r["rows_read"] for r in files),
            "rows_quarantined": sum(r["rows_quarantined"] for r in files),
        }
        # A flooded file is named before the night it floods. A share means something only over enough
        # rows (the layout's quarantine_min_rows): below it, quarantined rows are warnings in the
        # release's issues and the night publishes — unless every row of the source was quarantined.
        if night["rows_read"] and night["rows_quarantined"] == night["rows_read"]:
            raise GateError(
                f"{source}: every one of the night's {night['rows_read']} rows was quarantined "
                f"({', '.join(r['file_name'] for r in files)}): nothing of it could be loaded"
            )
        for r in [*files, night]:
            if problem := too_many_quarantined(layout, r["rows_read"], r["rows_quarantined"]):
                raise GateError(f"{source}: {r['file_name']}: {problem}")
    _check_shrink(data, export_date)


def too_many_quarantined(layout, read: int, bad: int) -> str:
    """Why `bad` quarantined of `read` rows stop a night ('' when they do not): more than the layout's
    quarantine_threshold, judged only over at least quarantine_min_rows rows."""
    limit = layout.quarantine_threshold
    if read >= layout.quarantine_min_rows and bad / read > limit:
        return f"{bad} of {read} rows quarantined ({bad / read:.1%}); expected at most {limit:.0%}"
    return ""


def last_good_snapshot(data: Path) -> dt.date | None:
    """The snapshot date of the last published release (latest.json), if any."""
    from ingest.common.releases import latest_snapshot

    latest = latest_snapshot(data / "publish")
    return dt.date.fromisoformat(latest) if latest else None


def expected_organizations() -> dict[str, int]:
    """Each city's expected registry size for a first night: `SOCORG_EXPECTED_ORGANIZATIONS`, written
    `320500=7700,440300=12000`."""
    setting = os.environ.get("SOCORG_EXPECTED_ORGANIZATIONS", "")
    expected = {}
    for item in filter(None, (x.strip() for x in setting.split(","))):
        city, _, count = item.partition("=")
        if not count.strip().isdigit():
            raise GateError(f"SOCORG_EXPECTED_ORGANIZATIONS: expected city=count items, got {item!r}")
        expected[city.strip()] = int(count)
    return expected


def _registry_counts(data: Path, export_date: dt.date) -> dict[str, int]:
    import duckdb

    if not partition(data, "registry", export_date).exists():
        return {}
    rows = duckdb.sql(
        f"select city_code, count(*) from {night_files(data, 'registry', export_date)} group by 1"
    ).fetchall()
    return {city or "unknown": n for city, n in rows}


def _check_shrink(data: Path, export_date: dt.date) -> None:
    """Each city's registry may not fall far below what came before: more than the layout's max_shrink
    below the last good snapshot or, before the first release, below the last night parsed; on a first
    night, below half its expected size (a half-delivered export)."""
    share = load_layout("registry").max_shrink
    if share is None:
        return
    last, what = last_good_snapshot(data), "the last good snapshot"
    if last is None or last >= export_date:
        earlier = [d for d in partition_dates(data, "registry") if d < export_date]
        last, what = (earlier[-1] if earlier else None), "the last night parsed"
    tonight_counts = _registry_counts(data, export_date)
    if last is None:
        for city, count in sorted(expected_organizations().items()):
            tonight = tonight_counts.get(city, 0)
            if tonight < count * EXPECTED_FLOOR:
                raise GateError(
                    f"registry: city {city} has {tonight} organizations tonight, less than "
                    f"{EXPECTED_FLOOR:.0%} of the {count} expected (SOCORG_EXPECTED_ORGANIZATIONS) — "
                    "a half-delivered export?"
                )
        return
    absent = []
    for city, count in sorted(_registry_counts(data, last).items()):
        tonight = tonight_counts.get(city, 0)
        if not tonight:
            absent.append(f"{city} (had {count} in {what}, {last.isoformat()})")
        elif count and tonight < count * (1 - share):
            raise GateError(
                f"registry: city {city} has {tonight} organizations tonight but had {count} in {what} "
                f"({last.isoformat()}); expected a fall of at most {share:.0%}, came "
                f"{(count - tonight) / count:.1%} — a truncated export?"
            )
    # A city that delivered nothing tonight is not a cut-off export (an archive's early years often
    # hold fewer cities); the release says so rather than the night stopping for every other city.
    if absent:
        add_note(
            data,
            export_date,
            "cities_not_delivered",
            "no registry rows tonight from city "
            + ", ".join(absent)
            + ": its organizations are not in tonight's figures",
        )


EXPECTED_FLOOR = 0.5  # a first night's registry below this share of the expected size is refused
