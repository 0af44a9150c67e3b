"""One night's outcome as a JSON document (`socorg run --json`): state, release, figures, issues."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TextIO

from ingest.cli.exit_codes import EXIT_CODES
from ingest.common.errors import SocorgError
from ingest.common.files import read_json
from ingest.common.releases import latest_snapshot, release_dir


def night_document(
    data: Path, export_date: dt.date | None, code: int, reason: str = "", ran: bool = True
) -> dict:
    """What became of the night, from what it left in the data folder: the exit code and its name, the
    run's state and each task's, the release (its index, whether latest.json names it), the headline
    figures per city and the night's issues; `reason` when it was not published. A night that did not
    run (`ran` false: its release is current, its exports unchanged) is `unchanged`."""
    night = export_date.isoformat() if export_date else None
    document: dict = {"night": night, "exit_code": code, "outcome": EXIT_CODES[code][0]}
    if night is None:
        return {**document, "reason": reason or None}
    runs = data / "runs" / night
    try:
        run = (read_json(runs / "run.json", default={}) or {}) if ran else {"outcome": "unchanged"}
        release = release_dir(data / "publish", night)
        whole = (release / "index.json").exists() and code in (0, 5)
        statistics = read_json(release / "statistics.json", default={}) if whole else {}
        issues = read_json(release / "issues.json", default={}) if whole else {}
        latest = latest_snapshot(data / "publish") or None
    except SocorgError as exc:  # a damaged state file: said in the document, not a traceback
        return {**document, "reason": str(exc)}
    if not reason and code not in (0,):
        failure = runs / "failure.txt"
        reason = failure.read_text(encoding="utf-8").strip() if failure.exists() else ""
    return {
        **document,
        "state": run.get("state"),
        "outcome": run.get("outcome") if code == 0 and run.get("outcome") else document["outcome"],
        "tasks": {task: t.get("state") for task, t in (run.get("tasks") or {}).items()},
        "seconds": run.get("seconds"),
        "release": str(release / "index.json") if whole else None,
        "latest": latest,
        "figures": (statistics.get("headline") or {}).get("cities"),
        "issues": issues.get("issues", []) if whole else [],
        "reason": reason or None,
    }


def emit(out: TextIO, document: dict) -> None:
    """One JSON document on one line."""
    print(json.dumps(document, ensure_ascii=False, default=str), file=out, flush=True)
