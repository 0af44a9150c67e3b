"""A night's notes: what a stage wants the night's release (issues.json) and the CLI's output to say."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingest.common.files import read_json, write_json_atomically


def notes_file(data: Path, export_date: dt.date) -> Path:
    """`runs/<date>/notes.json`."""
    return data / "runs" / export_date.isoformat() / "notes.json"


def add_note(data: Path, export_date: dt.date, kind: str, message: str) -> None:
    """Keep a note of this kind for the night (replacing an earlier one of the same kind)."""
    path = notes_file(data, export_date)
    notes = [n for n in read_json(path, default=[]) if n.get("kind") != kind]
    write_json_atomically(path, [*notes, {"kind": kind, "message": message}])


def night_notes(data: Path, export_date: dt.date) -> list[dict]:
    """The notes the night's stages left, each at level info."""
    notes = read_json(notes_file(data, export_date), default=[])
    return [{"level": "info", **note} for note in notes if isinstance(note, dict)]
