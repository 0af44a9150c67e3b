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
    """Refuse a night whose history cannot be built again: it, or the audited night before it (which its
    changes compare with), was pruned."""
    pruned = pruned_nights(data)
    if not pruned:
        return
    audited = partition_dates(data, "audited")
    before = max((d for d in audited if d < export_date), default=None)
    if export_date in pruned or (before is not None and before in pruned):
        which = (
            "its raw files were" if export_date in pruned else f"those of the night before it ({before}) were"
        )
        raise StateError(
            f"night {export_date} cannot be built again: {which} pruned ({SETTING}; nights up to "
            f"{pruned[-1]} are pruned). Its published release and the history after it stay as they are; "
            f"to rebuild it, restore raw/ and landing/ of those nights from a backup"
        )


def check_state_kept(data: Path) -> None:
    """Refuse to build history again from raw/ when raw nights were pruned and the warehouse lost its
    history state: the pruned nights would silently drop out of history."""
    pruned = pruned_nights(data)
    if not pruned:
        return
    missing = list(STATE_TABLES)
    warehouse = data / "warehouse.duckdb"
    if warehouse.exists():
        import duckdb

        with duckdb.connect(str(warehouse)) as con:
            tables = {f"{s}.{t}" for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables").fetchall()}  # fmt: skip
        missing = [t for t in STATE_TABLES if t not in tables]
    if missing:
        raise StateError(
            f"{warehouse} lacks the history state ({', '.join(missing)}) and the raw nights up to "
            f"{pruned[-1]} were pruned ({SETTING}): building history again from raw/ would leave them "
            "out. Restore warehouse.duckdb from a backup (or raw/ and landing/ of the pruned nights) and "
            "run the night again"
        )


def prune_raw_nights(data: Path, keep: int | None, con) -> list[str]:
    """Remove landing/ and raw/ (typed and quarantined) of the nights older than the newest `keep`
    audited nights, when the warehouse's history state (`con`) carries every one of them; the audit
    marks, load log and quality results stay (they are small, and history reads which nights count from
    them). Return the nights pruned."""
    if not keep:
        return []
    audited = partition_dates(data, "audited")
    if len(audited) <= keep:
        return []
    cutoff = audited[-keep]
    carried = {d for (d,) in con.execute(
        "select distinct snapshot_date from intermediate.int_registry_night_diffs where diff_kind = 'night'"
    ).fetchall()}  # fmt: skip
    dates = {d for s in SOURCES for d in partition_dates(data, s)}
    dates |= {
        dt.date.fromisoformat(p.name) for s in SOURCES for p in (data / "landing" / s).glob("????-??-??")
    }
    # An audited night the state does not carry yet (its build failed) is kept; so is every night from
    # the cutoff on, and a landed night that never passed the gate is only raw that nobody reads.
    old = sorted(d for d in dates if d < cutoff and (d not in audited or d in carried))
    for night in old:
        for source in SOURCES:
            shutil.rmtree(partition(data, source, night), ignore_errors=True)
            shutil.rmtree(partition(data, source, night, quarantine=True), ignore_errors=True)
            shutil.rmtree(data / "landing" / source / night.isoformat(), ignore_errors=True)
    if old:
        nights = sorted({*pruned_nights(data), *old})
        write_json_atomically(pruned_record(data), {"nights": [d.isoformat() for d in nights], "keep": keep})
    return [d.isoformat() for d in old]
