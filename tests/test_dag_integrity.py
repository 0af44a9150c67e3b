"""Every DAG file loads without import errors and follows the house rules."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ingest.airflow_env import DAG_ID, configure
from ingest.paths import DAGS_DIR


@pytest.fixture(scope="module")
def dagbag():
    configure()
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert DAG_ID in dagbag.dag_ids


def test_house_rules(dagbag):
    for dag in dagbag.dags.values():
        assert dag.tags, dag.dag_id
        assert dag.max_active_runs == 1, dag.dag_id
        assert dag.doc_md, dag.dag_id
        for task in dag.tasks:
            assert task.owner == "socorg"
            no_retry = {"wait_for_registry", "validate", "transform"}
            assert task.retries >= (0 if task.task_id in no_retry else 1)


def test_nightly_schedule_and_order(dagbag):
    dag = dagbag.dags[DAG_ID]
    assert dag.timetable.expression == "0 2 * * *"
    assert str(dag.timetable.timezone) == "Asia/Shanghai"
    order = ["wait_for_registry", "land", "parse", "validate", "transform", "publish"]
    for upstream, downstream in zip(order, order[1:], strict=False):
        assert dag.get_task(downstream).upstream_task_ids == {upstream}


def test_no_heavy_imports_at_parse_time():
    code = (
        "import sys, runpy; runpy.run_path(sys.argv[1]);"
        "heavy = [m for m in ('pandas', 'great_expectations', 'dbt', 'duckdb', 'pyarrow') "
        "if m in sys.modules]; print('HEAVY:' + ','.join(heavy))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(DAGS_DIR / "socorg_nightly.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "HEAVY:"
