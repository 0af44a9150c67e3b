"""The raw nights pruned, and the warehouse's history state that must carry them: the refusals that keep
a pruned night from dropping out of history."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ingest.common.errors import StateError
from ingest.common.paths import partition_dates

SETTING = "SOCORG_KEEP_RAW_NIGHTS"
# The history state's tables in the warehouse (dbt incremental models): what carries a pruned night.
STATE_TABLES = ("intermediate.int_registry_night_diffs", "intermediate.int_cluster_member_counts_by_night")


def pruned_record(data: Path) -> Path:
    return data / "raw" / "pruned.json"


def pruned_nights(data: Path) -> list[dt.date]:
    """The nights whose raw and landed files were pruned, oldest first."""
    path = pruned_record(data)
    if not path.exists():
        return []
    try:
        return [dt.date.fromisoformat(d) for d in json.loads(path.read_text(encoding="utf-8"))["nights"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise StateError(
            f"{path} is damaged ({exc}): it lists the nights whose raw files were pruned"
        ) from None


def check_night_buildable(data: Path, export_date: dt.date) -> None:
    """Refuse a night whose history cannot be built again: building a night builds its own differences
    and those of the next audited night, from the raw snapshots of the night before, it and the next —
    so no night up to the last pruned one, nor the first night after it, can be run again."""
    pruned = pruned_nights(data)
    if not pruned:
        return
    audited = partition_dates(data, "audited")
    before = max((d for d in audited if d < export_date), default=None)
    if (before or export_date) <= pruned[-1]:
        which = (
            "its raw files were pruned"
            if export_date in pruned
            else f"raw files of the nights around it were pruned (up to {pruned[-1]})"
        )
        raise StateError(
            f"night {export_date} cannot be built again: {which} ({SETTING}). Its published release "
            "and the history after it stay as they are; to rebuild it, restore raw/ and landing/ of the "
            "pruned nights from a backup"
        )


def check_state_kept(data: Path) -> None:
    """Refuse to build history again from raw/ when raw nights were pruned and the warehouse lost its
    history state: the pruned nights would silently drop out of history."""
    pruned = pruned_nights(data)
    if not pruned:
        return
    missing = list(STATE_TABLES)
    carried: set[dt.date] = set()
    warehouse = data / "warehouse.duckdb"
    if warehouse.exists():
        import duckdb

        with duckdb.connect(str(warehouse)) as con:
            tables = {f"{s}.{t}" for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables").fetchall()}  # fmt: skip
            missing = [t for t in STATE_TABLES if t not in tables]
            if not missing:
                carried = carried_nights(con)
    audited = set(partition_dates(data, "audited"))
    lost = sorted(d for d in pruned if d in audited and d not in carried)
    if missing or lost:
        what = (
            f"lacks the history state ({', '.join(missing)})"
            if missing
            else f"does not carry the pruned nights {', '.join(map(str, lost))} (an older backup?)"
        )
        raise StateError(
            f"{warehouse} {what}, and the raw nights up to {pruned[-1]} were pruned ({SETTING}): building "
            "history again from raw/ would leave them out. Restore warehouse.duckdb from a backup (or raw/ "
            "and landing/ of the pruned nights) and run the night again"
        )


def carried_nights(con) -> set[dt.date]:
    """The nights the registry's history state holds."""
    return {d for (d,) in con.execute(
        "select distinct snapshot_date from intermediate.int_registry_night_diffs where diff_kind = 'night'"
    ).fetchall()}  # fmt: skip
