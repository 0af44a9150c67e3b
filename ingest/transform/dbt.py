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
from ingest.transform.results import row_count

log = logging.getLogger(__name__)


def _dbt(data: Path, export_date: dt.date, *command: str, callbacks: list | None = None):
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
        # No dbt.log: its lines are those dbt writes to standard output, which the task's log holds
        # (Airflow's, or runs/<date>/airflow.log), and the SQL of every node is in target/run.
        "--log-level-file",
        "none",
    ]
    # The night, read by the macro snapshot_date() when dbt executes: not a --vars, whose every new
    # value would make dbt parse the whole project again.
    os.environ["SOCORG_SNAPSHOT_DATE"] = export_date.isoformat()
    return dbtRunner(callbacks=callbacks or []).invoke(args)


# dbt's unit tests check the models' logic on fixed inputs: they run in `make test` and CI
# (tests/e2e/test_dbt_unit_tests.py), not every night (dbt's advice for production). Nor are dbt's
# JSON artifacts written (manifest.json twice, run_results.json, graph.gpickle): each node's result is
# kept in runs/<date>/dbt_nodes.json, and the compiled SQL of every node in target/run/ as before.
NIGHTLY_BUILD = ("build", "--exclude", "resource_type:unit_test", "--no-write-json")
STALE_ARTIFACTS = ("run_results.json", "manifest.json", "semantic_manifest.json", "graph.gpickle")


def build_marts(data: Path, export_date: dt.date) -> dict:
    """`dbt build` (seeds, models, data tests) for the night, each model told as it finishes; every
    node's result kept for the model tasks (runs/<date>/dbt_nodes.json); GateError on any failure."""
    from ingest.transform.history_state import check_state_kept
    from ingest.transform.results import node_results, write_record

    set_aside_damaged_warehouse(data, export_date)
    check_state_kept(data)
    for name in STALE_ARTIFACTS:  # an earlier build's, not to be taken for tonight's
        (data / "runs" / "dbt" / "target" / name).unlink(missing_ok=True)
    result = _dbt(data, export_date, *NIGHTLY_BUILD, callbacks=[LiveLines()])
    if not result.success and _corrupt(_failures(result)):
        set_aside_damaged_warehouse(data, export_date, because=_failures(result))
        check_state_kept(data)
        result = _dbt(data, export_date, *NIGHTLY_BUILD, callbacks=[LiveLines()])
    nodes = node_results(result)
    write_record(data, export_date, nodes, fresh=True)
    if not result.success:
        raise GateError(f"dbt build failed for {export_date.isoformat()}:\n  {_failures(result)}")
    statuses = [n["status"] for n in nodes.values()]
    _docs(data, export_date)
    return {"nodes": len(statuses), "passed": statuses.count("pass") + statuses.count("success")}


def build_node(data: Path, export_date: dt.date, name: str) -> bool:
    """One model or seed built again with its data tests (its task cleared in Airflow), its results
    written over the night's record; whether dbt succeeded."""
    from ingest.transform.results import node_results, write_record

    result = _dbt(data, export_date, *NIGHTLY_BUILD, "--select", name, callbacks=[LiveLines()])
    write_record(data, export_date, node_results(result), fresh=False)
    return bool(result.success)


class LiveLines:
    """dbt's events as `socorg run` shows them while the build runs: a line per model and seed as it
    finishes (k of n), and a line per test that does not pass."""

    def __init__(self) -> None:
        self.done, self.total = 0, 0

    def __call__(self, event) -> None:
        from ingest.common import progress

        name = event.info.name
        if name == "FoundStats":
            found = {kind: int(n) for n, kind in re.findall(r"(\d+) (model|seed)s?\b", event.data.stat_line)}
            self.total = sum(found.values())
        elif name in ("LogModelResult", "LogSeedResult"):
            self.done += 1
            node = event.data.node_info
            where = (
                f"{node.node_relation.schema}.{node.node_name}"
                if node.node_relation.schema
                else node.node_name
            )
            status = str(event.data.status).upper().replace("SUCCESS", "OK")  # a seed's, as dbt prints it
            progress.say(
                f"  dbt {self.done:>3} of {self.total or '?'}  {status:<6} {where} "
                f"({event.data.execution_time:.2f} s)"
            )
        elif name == "LogTestResult" and str(event.data.status) not in ("pass", "success"):
            rows = f", {row_count(event.data.num_failures)}" if event.data.num_failures else ""
            on = f" on {event.data.attached_node.split('.')[-1]}" if event.data.attached_node else ""
            progress.say(f"  dbt      {str(event.data.status).upper():<6} test {event.data.name}{on}{rows}")


def _failures(result) -> str:
    """The failing nodes of a dbt result with their messages, else its exception."""
    from ingest.transform.results import PASSED, node_results

    problems = [
        f"{uid}: {n['message'][:300]}"
        for uid, n in node_results(result).items()
        if n["status"] not in PASSED and n["status"] != "skipped"
    ]
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
