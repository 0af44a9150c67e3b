"""What publish/ holds: its whole releases and the one latest.json names (any stage may read it)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingest.common.files import json_field, read_json


def release_dir(publish: Path, export_date: dt.date | str) -> Path:
    """`publish/releases/<date>/`."""
    return publish / "releases" / str(export_date)


def latest_file(publish: Path) -> Path:
    """`publish/latest.json`: the newest whole release (its snapshot date and index)."""
    return publish / "latest.json"


def read_latest(publish: Path) -> dict | None:
    """What latest.json says, None before the first release (a damaged file raises StateError)."""
    return read_json(latest_file(publish), default=None)


def latest_snapshot(publish: Path) -> str:
    """The snapshot date latest.json points at ("" before the first release)."""
    latest = read_latest(publish)
    return "" if latest is None else str(json_field(latest_file(publish), latest, "snapshot_date"))


def releases(publish: Path) -> list[str]:
    """Snapshot dates of the whole releases (those with an index.json), oldest first."""
    folder = publish / "releases"
    return sorted(p.parent.name for p in folder.glob("*/index.json")) if folder.exists() else []
