"""A night's notes, what a stage wants issues.json and the CLI to say; every kind of issue a release names."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingest.common.files import read_json, write_json_atomically

# Every `kind` of issue a release's issues.json may hold: its level, what it means, what to do about it.
ISSUE_KINDS = {
    "missing_export": (
        "warning",
        "an optional source delivered no export this night; the release was built without it",
        "ask the office for the export; the next night that has it catches up",
    ),
    "expectation": (
        "warning",
        "a warning-level Great Expectations check failed on a source (the error-level ones stop the night)",
        "look at the rows in the GX Data Docs; take a wrong value back to the office",
    ),
    "quarantine": (
        "warning",
        "rows of a source were quarantined, with the reason, in raw/<source>/quarantine/",
        "read the reasons in the quarantine_reasons dataset; mend the export, or add a spelling to the site",
    ),
    "redelivery": (
        "info",
        "an export file came again with new content and replaced its earlier version",
        "nothing: the night was built from the new version (the loads dataset lists both)",
    ),
    "empty_export": (
        "warning",
        "a delivered file holds a header and no data rows (an empty registry stops the night instead)",
        "ask the office whether the list is really empty; a list it re-delivers replaces this one",
    ),
    "standing_unmatched": (
        "warning",
        "rows of an inspection list, annual report or credit list name an organization tonight's registry "
        "does not know (by credit code, or by a name one registered organization has): set aside",
        "read them in the standing_unmatched dataset; correct the name or code with the office",
    ),
    "unknown_label": (
        "warning",
        "a label (type, status, grade, …) no spelling in the rules knows: its rows were quarantined",
        "add the spelling to the site's layouts if it is right, or take the value back to the office",
    ),
    "history_gap": (
        "warning",
        "an earlier night was landed but is not audited: changes and history compare past it",
        "publish that night (socorg run --date …), then run this night again (socorg run does so by itself)",
    ),
    "cities_not_delivered": (
        "info",
        "a city delivered no registry rows tonight: its organizations are not in tonight's figures",
        "nothing, for an archive's early years; else ask the city's office for its export",
    ),
    "not_read": (
        "warning",
        "files under the night's folders of the exports root that no source reads (a folder that is not "
        "a source, a misspelt one, a folder inside a source's night): they were not landed",
        "move a misplaced file to <source>/<date>/ and run the night again; files of a source socorg "
        "does not read are named every night",
    ),
    "warehouse_rebuilt": (
        "info",
        "warehouse.duckdb could not be opened: it was set aside and built again from raw/",
        "delete the set-aside file once you no longer need it",
    ),
}


def notes_file(data: Path, export_date: dt.date) -> Path:
    """`runs/<date>/notes.json`."""
    return data / "runs" / export_date.isoformat() / "notes.json"


def add_note(data: Path, export_date: dt.date, kind: str, message: str) -> None:
    """Keep a note of this kind for the night (replacing an earlier one of the same kind)."""
    if kind not in ISSUE_KINDS:
        raise ValueError(f"{kind!r} is not an issue kind; add it to ISSUE_KINDS with its meaning")
    path = notes_file(data, export_date)
    notes = [n for n in read_json(path, default=[]) if n.get("kind") != kind]
    write_json_atomically(path, [*notes, {"kind": kind, "message": message}])


def night_notes(data: Path, export_date: dt.date) -> list[dict]:
    """The notes the night's stages left, each at its kind's level (ISSUE_KINDS)."""
    notes = read_json(notes_file(data, export_date), default=[])
    return [
        {"level": ISSUE_KINDS[n["kind"]][0], **n}
        for n in notes
        if isinstance(n, dict) and n.get("kind") in ISSUE_KINDS
    ]
