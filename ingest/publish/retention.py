"""Raw and landing nights older than the newest SOCORG_KEEP_RAW_NIGHTS audited nights, pruned once the
history state in the warehouse carries them (transform/history_state.py refuses to lose them)."""

from __future__ import annotations

import shutil
from pathlib import Path

from ingest.common.files import write_json_atomically
from ingest.common.paths import partition, partition_dates
from ingest.common.settings import nights_setting
from ingest.rules.layouts import SOURCES, STANDING_SOURCES
from ingest.transform.history_state import SETTING, carried_nights, pruned_nights, pruned_record


def keep_raw_nights_setting() -> int | None:
    """How many audited nights of raw/ and landing/ to keep (`SOCORG_KEEP_RAW_NIGHTS`); unset keeps all.

    At least 2: a night's changes compare it with the audited night before, read from raw/.
    """
    return nights_setting(SETTING, None, 2, "a night is compared with the audited night before it")


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
    carried = carried_nights(con)
    # Audited nights the state carries, older than the newest `keep`. A night the state does not carry
    # (its build stopped) is kept, and so is a night that is not audited: it failed, or is being run.
    old = [d for d in audited if d < cutoff and d in carried]
    for night in old:
        for source in (s for s in SOURCES if s not in STANDING_SOURCES):  # lists hold until replaced
            shutil.rmtree(partition(data, source, night), ignore_errors=True)
            shutil.rmtree(partition(data, source, night, quarantine=True), ignore_errors=True)
            shutil.rmtree(data / "landing" / source / night.isoformat(), ignore_errors=True)
    if old:
        nights = sorted({*pruned_nights(data), *old})
        write_json_atomically(pruned_record(data), {"nights": [d.isoformat() for d in nights], "keep": keep})
    return [d.isoformat() for d in old]
