"""Build the marts with dbt (DuckDB) in-process, then dbt's docs; failures name the failing nodes."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
from pathlib import Path

from ingest.common.errors import GateError
from ingest.common.paths import DBT_DIR

log = logging.getLogger(__name__)
ANSI_COLOURS = re.compile(r"\x1b\[[0-9;]*m")  # dbt colours a unit test's diff for a terminal


def _dbt(data: Path, export_date: dt.date, *command: str):
    from dbt.cli.main import dbtRunner

    from ingest.rules.site import dbt_project_for

    os.environ["SOCORG_DATA"] = str(data)
    runs = data / "runs" / "dbt"
    args = [
        *command,
        "--project-dir",
        str(dbt_project_for(data)),
        "--profiles-dir",
        str(DBT_DIR),
        "--target-path",
        str(runs / "target"),
        "--log-path",
        str(runs / "logs"),
    ]
    # The night, read by the macro snapshot_date() when dbt executes: not a --vars, whose every new
    # value would make dbt parse the whole project again.
    os.environ["SOCORG_SNAPSHOT_DATE"] = export_date.isoformat()
    return dbtRunner().invoke(args)


# dbt's unit tests check the models' logic on fixed inputs: they run in `make test` and CI
# (tests/e2e/test_dbt_unit_tests.py), not every night (dbt's advice for production).
NIGHTLY_BUILD = ("build", "--exclude", "resource_type:unit_test")


def build_marts(data: Path, export_date: dt.date) -> dict:
    """`dbt build` (seeds, models, data tests) for the night; raise GateError on any failure."""
    from ingest.publish.retention import check_state_kept

    set_aside_damaged_warehouse(data, export_date)
    check_state_kept(data)
    result = _dbt(data, export_date, *NIGHTLY_BUILD)
    if not result.success and _corrupt(_failures(result)):
        set_aside_damaged_warehouse(data, export_date, because=_failures(result))
        check_state_kept(data)
        result = _dbt(data, export_date, *NIGHTLY_BUILD)
    if not result.success:
        raise GateError(f"dbt build failed for {export_date.isoformat()}:\n  {_failures(result)}")
    statuses = [str(n.status) for n in result.result.results]
    _docs(data, export_date)
    return {"nodes": len(statuses), "passed": statuses.count("pass") + statuses.count("success")}


def _failures(result) -> str:
    """The failing nodes of a dbt result with their messages, else its exception."""
    problems = []
    for node in getattr(result.result, "results", None) or []:
        if str(node.status) in ("error", "fail", "runtime error"):
            message = ANSI_COLOURS.sub("", str(node.message or "")).strip()
            problems.append(f"{node.node.unique_id}: {message[:300]}")
    return "\n  ".join(problems) or str(result.exception)


def _docs(data: Path, export_date: dt.date) -> None:
    """dbt's docs as one static page under <data>/docs/dbt/, generated again only when the dbt project
    (models, macros, seeds, tests, a site's seeds) changed since the page was."""
    from ingest.rules.site import dbt_project_for

    target = data / "docs" / "dbt" / "index.html"
    stamp = target.with_name(".project-sha256")
    project = _project_fingerprint(dbt_project_for(data))
    if target.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == project:
        return
    result = _dbt(data, export_date, "docs", "generate", "--static")
    page = data / "runs" / "dbt" / "target" / "static_index.html"
    if result.success and page.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, target)
        stamp.write_text(project, encoding="utf-8")


def _project_fingerprint(project: Path) -> str:
    """SHA-256 over a dbt project's own files (its docs change only with them)."""
    import hashlib

    digest = hashlib.sha256()
    files = [project / "dbt_project.yml"] + [
        p for folder in ("models", "macros", "seeds", "tests") for p in sorted((project / folder).rglob("*"))
    ]
    for path in files:
        if path.is_file():
            digest.update(path.relative_to(project).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def warehouse_problems(data: Path) -> list[str]:
    """What is wrong with `warehouse.duckdb`, if DuckDB cannot open it (a lock held by a run is not)."""
    import duckdb

    warehouse = data / "warehouse.duckdb"
    try:
        damage = _damage(warehouse, read_only=True)
    except duckdb.Error:  # another process has it open: not damaged
        return []
    if damage is None:
        return []
    return [
        f"warehouse.duckdb: DuckDB cannot open it ({damage.splitlines()[0][:200]}); it holds only what "
        "is derived from raw/: the next run sets it aside and builds it again (or delete it and run "
        "the latest night with --force)"
    ]


def _damage(warehouse: Path, read_only: bool = False) -> str | None:
    """Why DuckDB cannot open the warehouse; None when it opens or is not there. A file another process
    has open raises DuckDB's own error: it is not damaged."""
    import duckdb

    if not warehouse.exists():
        return None
    try:
        duckdb.connect(str(warehouse), read_only=read_only).close()
    except duckdb.Error as exc:
        if _held_by_another(exc):
            raise
        return str(exc)
    return None


def _held_by_another(exc: Exception) -> bool:
    """DuckDB's own words for a file another process has open (not "block", as in a corrupt block)."""
    return "Could not set lock on file" in str(exc) or "Conflicting lock" in str(exc)


def _corrupt(message: str) -> bool:
    """A dbt failure that says the warehouse file itself is damaged (found only when a block is read)."""
    return "Corrupt database file" in message or "not a valid DuckDB database file" in message


def set_aside_damaged_warehouse(data: Path, export_date: dt.date, because: str | None = None) -> Path | None:
    """A warehouse.duckdb DuckDB cannot open (or that dbt found damaged, `because`) is moved aside as
    `warehouse.duckdb.damaged-<time>` with a note for the night: every table in it is derived from raw/
    and is built again by the night's dbt build (unless raw nights were pruned: check_state_kept)."""
    from ingest.common.notes import add_note

    warehouse = data / "warehouse.duckdb"
    because = because or _damage(warehouse)
    if because is None or not warehouse.exists():
        return None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = warehouse.with_name(f"warehouse.duckdb.damaged-{stamp}")
    warehouse.replace(aside)
    for wal in data.glob("warehouse.duckdb.wal"):
        wal.replace(aside.with_name(aside.name + ".wal"))
    message = (
        f"{warehouse} could not be opened ({because.strip().splitlines()[0][:200]}); it holds only what is "
        f"derived from raw/, so it was moved to {aside.name} and built again from raw/ (delete that "
        "file once you no longer need it)"
    )
    log.warning(message)
    add_note(data, export_date, "warehouse_rebuilt", message)
    return aside
