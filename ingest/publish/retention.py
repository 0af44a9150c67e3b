"""Raw and landing nights older than the newest SOCORG_KEEP_RAW_NIGHTS audited nights, pruned once the
history state in the warehouse carries them; and the refusals that keep pruned nights from being lost."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

from ingest.common.errors import StateError
from ingest.common.files import write_json_atomically
from ingest.parse.night import partition, partition_dates
from ingest.rules.layouts import SOURCES

SETTING = "SOCORG_KEEP_RAW_NIGHTS"
# The history state's tables in the warehouse (dbt incremental models): what carries a pruned night.
STATE_TABLES = ("intermediate.int_registry_night_diffs", "intermediate.int_cluster_member_counts_by_night")


def keep_raw_nights_setting() -> int | None:
    """How many audited nights of raw/ and landing/ to keep (`SOCORG_KEEP_RAW_NIGHTS`); unset keeps all.

    At least 2: a night's changes compare it with the audited night before, read from raw/.
    """
    value = os.environ.get(SETTING, "").strip()
    if not value:
        return None
    try:
        keep = int(value)
    except ValueError:
        raise ValueError(f"{SETTING} must be a whole number of nights, got {value!r}") from None
    if keep < 2:
        raise ValueError(
            f"{SETTING} must be at least 2 (a night is compared with the audited night before it), got {keep}"
        )
    return keep


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
                carried = _carried_nights(con)
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


def _carried_nights(con) -> set[dt.date]:
    """The nights the registry's history state holds."""
    return {d for (d,) in con.execute(
        "select distinct snapshot_date from intermediate.int_registry_night_diffs where diff_kind = 'night'"
    ).fetchall()}  # fmt: skip


def prune_raw_nights(data: Path, keep: int | None, con) -> list[str]:
    """Remove landing/ and raw/ (typed and quarantined) of the audited nights older than the newest
    `keep` that the warehouse's history state (`con`) carries; the audit marks, load log and quality
    results stay (they are small, and history reads which nights count from them). Return the nights
    pruned."""
    if not keep:
        return []
    audited = partition_dates(data, "audited")
    if len(audited) <= keep:
        return []
    cutoff = audited[-keep]
    carried = _carried_nights(con)
    # Audited nights the state carries, older than the newest `keep`. A night the state does not carry
    # (its build stopped) is kept, and so is a night that is not audited: it failed, or is being run.
    old = [d for d in audited if d < cutoff and d in carried]
    for night in old:
        for source in SOURCES:
            shutil.rmtree(partition(data, source, night), ignore_errors=True)
            shutil.rmtree(partition(data, source, night, quarantine=True), ignore_errors=True)
            shutil.rmtree(data / "landing" / source / night.isoformat(), ignore_errors=True)
    if old:
        nights = sorted({*pruned_nights(data), *old})
        write_json_atomically(pruned_record(data), {"nights": [d.isoformat() for d in nights], "keep": keep})
    return [d.isoformat() for d in old]
