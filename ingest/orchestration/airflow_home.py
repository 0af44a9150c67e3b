"""Prepare a local Airflow (home in the checkout, SQLite metadata) and run the DAG in-process."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path

from ingest.common.paths import DAGS_DIR, PROJECT_ROOT

log = logging.getLogger(__name__)

DAG_ID = "socorg_nightly"
WAREHOUSE_POOL = "socorg_warehouse"  # one slot: one task at a time writes the DuckDB file
RENDERING = "SOCORG_DBT_TASKS"  # read when the DAG is parsed: `models` (default) or `one`
RENDERINGS = ("models", "one")


def rendering() -> str:
    """How the DAG draws dbt: `models`, a task per model and seed after `transform` (the Airflow UI
    shows each); `one`, `transform` alone, reporting each model from dbt's results (what `socorg run`
    uses: in-process, a task costs about 0.1 s, forty of them a good part of a city night)."""
    value = (os.environ.get(RENDERING) or "models").strip().lower()
    if value not in RENDERINGS:
        raise ValueError(f"{RENDERING} must be one of {', '.join(RENDERINGS)}, got {value!r}")
    return value


def configure() -> None:
    """Environment Airflow reads at import: our DAG folder, no examples, a home in the checkout."""
    os.environ.setdefault("AIRFLOW_HOME", str(PROJECT_ROOT / ".airflow"))
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_DIR)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ.setdefault("AIRFLOW__CORE__DEFAULT_TIMEZONE", "Asia/Shanghai")
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")


def airflow_command(*args: str) -> None:
    """Run an `airflow` CLI command with our environment; raise with its output if it fails."""
    configure()
    done = subprocess.run([sys.executable, "-m", "airflow", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


_prepared_homes: set[str] = set()


def prepare() -> None:
    """Metadata DB current (`airflow db migrate` when it is not) and the one-slot pool that lets one task
    at a time write the DuckDB file; once per process and home.

    Checked and serialized in this process: the `airflow` commands would each start an interpreter
    and import Airflow again (about 20 s of a city night's run).
    """
    configure()
    home = os.environ["AIRFLOW_HOME"]
    if home in _prepared_homes:
        return
    if not _known_migrated(home) and not _migrated():
        airflow_command("db", "migrate")
    _remember_migrated(home)
    ensure_pool()  # the DAG itself dag.test() parses and writes to the metadata DB, every run
    _prepared_homes.add(home)


def _migration_mark(home: str) -> tuple[Path, str] | None:
    """Where `socorg run` notes that the home's SQLite metadata DB was migrated by this Airflow, and
    the note: the version and the DB file's identity. None for another metadata DB (always checked)."""
    from importlib.metadata import version

    if os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        return None
    db = Path(home) / "airflow.db"
    if not db.exists():
        return None
    stat = db.stat()
    return Path(home) / ".socorg-migrated", f"{version('apache-airflow')} {stat.st_dev}:{stat.st_ino}"


def _known_migrated(home: str) -> bool:
    """The DB was found current by an earlier run with this Airflow (checking costs 1.6 s a run)."""
    mark = _migration_mark(home)
    return bool(mark) and mark[0].exists() and mark[0].read_text(encoding="utf-8") == mark[1]


def _remember_migrated(home: str) -> None:
    mark = _migration_mark(home)
    if mark:
        mark[0].write_text(mark[1], encoding="utf-8")


def _migrated() -> bool:
    """Whether the metadata DB is at the migration heads of the installed Airflow."""
    from airflow.utils.db import check_migrations

    try:
        check_migrations(timeout=1)
    except Exception:  # TimeoutError when behind; OperationalError when there is no DB yet
        return False
    return True


def ensure_pool() -> None:
    """Create the pool `socorg_warehouse` with one slot if the metadata DB lacks it (the scheduler would
    otherwise leave its tasks queued)."""
    configure()
    from airflow.models.pool import Pool

    if Pool.get_pool(WAREHOUSE_POOL) is None:
        Pool.create_or_update_pool(
            WAREHOUSE_POOL, 1, "one writer of the socorg DuckDB warehouse at a time", include_deferred=False
        )


def load_dag():
    """Parse the DAG folder and return our DAG; import errors are raised, not skipped."""
    configure()
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.get_dag(DAG_ID)


def test_run(run_time: dt.datetime, conf: dict, log: Path | None = None) -> tuple[str, dict[str, dict]]:
    """Run the DAG once in-process for the logical date; return the run's state and, per task in
    the DAG's order, its state and seconds.

    With `log`, everything Airflow, dbt and GX print goes to that file instead of the terminal.
    """
    with output_to(log):
        prepare()
        dag = load_dag()
        # Airflow 3.3's dag.test() crashes when a successful run has a deadline alert (it looks the
        # alert up by id, but in-process DAGs carry it as a dict). A foreground run has someone
        # watching it; the deadline is for the scheduler's nightly runs.
        dag.deadline = None
        lean_execution_api()
        run = dag.test(logical_date=run_time, run_conf=conf)
        tasks = {
            ti.task_id: {"state": str(ti.state), "seconds": round(ti.duration or 0.0, 2)}
            for ti in run.get_task_instances()
        }
    order = [t.task_id for t in dag.topological_sort()] if hasattr(dag, "topological_sort") else list(tasks)
    return str(run.state), {task: tasks[task] for task in order if task in tasks}


def lean_execution_api() -> None:
    """Build dag.test()'s in-process Execution API for the one API version its client speaks.

    Airflow builds that app for every version of the API it has ever served (nine in 3.3): 2.1 s of
    every `socorg run`, spent in its first task. In-process, the only client is this process's Task
    SDK, which speaks the newest version, so the app here is built for that one (0.7 s). Cadwyn wants
    the route that exists only in older versions restored in an older one: a stand-in older version
    does that. With another Airflow (the SDK speaking a version the bundle does not start with) or any
    error, Airflow's own app is built on the first call, as before.
    """
    import airflow.api_fastapi.execution_api.versions as versions
    from airflow.sdk.api.client import API_VERSION
    from airflow.sdk.execution_time.supervisor import in_process_api_server

    api = in_process_api_server()
    full = versions.bundle
    if api._app is not None or full.versions[0].value != API_VERSION:
        return
    try:
        from cadwyn import HeadVersion, Version, VersionBundle, VersionChange, endpoint

        class OlderRoutes(VersionChange):
            description = "Routes of older versions, which no in-process client calls."
            instructions_to_migrate_to_previous_version = (
                endpoint("/dag-runs/{dag_id}/previous", ["GET"]).existed,
            )

        older = Version("2000-01-01")
        versions.bundle = VersionBundle(HeadVersion(), Version(API_VERSION, OlderRoutes), older)
        api.app._cadwyn_initialize()  # now, not on the first task's first call: errors are caught here
    except Exception as error:
        log.debug("the in-process Execution API is built for every version: %s", error)
        api._app = None
        with contextlib.suppress(AttributeError):
            del api.app
    finally:
        versions.bundle = full


@contextlib.contextmanager
def output_to(log: Path | None):
    """Point the process's stdout and stderr (file descriptors too) at a log file, then back; the
    night's progress lines still reach the terminal's stderr."""
    from ingest.common import progress

    if log is None:
        progress.attach(2)
        try:
            yield
        finally:
            progress.detach()
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    progress.attach(saved[1])
    with log.open("ab") as fh:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        try:
            with contextlib.redirect_stdout(sys.__stdout__), contextlib.redirect_stderr(sys.__stderr__):
                yield
        finally:
            try:
                with contextlib.suppress(
                    OSError
                ):  # a full disk must not keep the terminal pointed at the log
                    sys.stdout.flush()
                    sys.stderr.flush()
            finally:
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                os.close(saved[0])
                os.close(saved[1])
                progress.detach()
