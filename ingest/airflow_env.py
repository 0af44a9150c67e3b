"""Prepare a local Airflow (home in the checkout, SQLite metadata) and run the DAG in-process."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

from ingest.paths import DAGS_DIR, PROJECT_ROOT

DAG_ID = "socorg_nightly"


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


def prepare() -> None:
    """Metadata DB current (`airflow db migrate`) and our DAG serialized (`airflow dags reserialize`)."""
    airflow_command("db", "migrate")
    airflow_command("dags", "reserialize")


def load_dag():
    """Parse the DAG folder and return our DAG; import errors are raised, not skipped."""
    configure()
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    return bag.get_dag(DAG_ID)


def test_run(run_time: dt.datetime, conf: dict) -> str:
    """Run the DAG once in-process for the logical date; return the run's final state."""
    prepare()
    dag = load_dag()
    run = dag.test(logical_date=run_time, run_conf=conf)
    return str(run.state)
