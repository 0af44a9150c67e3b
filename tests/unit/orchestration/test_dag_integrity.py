"""Every DAG file loads without import errors and follows the house rules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.common.paths import DAGS_DIR
from ingest.orchestration.airflow_home import DAG_ID, configure


@pytest.fixture(scope="module")
def dagbag():
    configure()
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def parsed_with(expression: str, **settings: str) -> str:
    """`expression` (of `dag`) printed by a fresh process that parsed the DAG file with `settings`."""
    code = f"import sys, runpy; dag = runpy.run_path(sys.argv[1])['dag']; print({expression})"
    done = subprocess.run(
        [sys.executable, "-c", code, str(DAGS_DIR / "socorg_nightly.py")],
        capture_output=True,
        text=True,
        env={**os.environ, **settings},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


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
            # A model's task reports the build; cleared, it builds again: a retry would only repeat a verdict.
            reports = task.task_id.startswith("dbt.")
            assert task.retries >= (0 if task.task_id in no_retry or reports else 1)


def test_nightly_schedule_and_order(dagbag):
    dag = dagbag.dags[DAG_ID]
    assert dag.timetable.expression == "0 2 * * *"
    assert str(dag.timetable.timezone) == "Asia/Shanghai"
    order = ["wait_for_registry", "land", "parse", "validate", "transform"]
    for upstream, downstream in zip(order, order[1:], strict=False):
        assert dag.get_task(downstream).upstream_task_ids == {upstream}


def test_each_dbt_model_is_a_task_in_the_graphs_order_between_transform_and_publish(dagbag):
    from ingest.transform.graph import load_graph

    dag = dagbag.dags[DAG_ID]
    nodes = load_graph()["nodes"]
    assert {t for t in dag.task_ids if t.startswith("dbt.")} == {f"dbt.{n}" for n in nodes}
    for name, node in nodes.items():
        upstream = dag.get_task(f"dbt.{name}").upstream_task_ids
        assert upstream == ({f"dbt.{p}" for p in node["parents"]} or {"transform"}), name
    leaves = {n for n in nodes} - {p for node in nodes.values() for p in node["parents"]}
    assert dag.get_task("publish").upstream_task_ids == {f"dbt.{n}" for n in leaves}
    tested = dag.get_task("dbt.organizations")
    assert tested.retries == 0 and "data tests" in tested.doc_md


def test_one_task_rendering_draws_transform_then_publish_and_no_model_tasks():
    """`SOCORG_DBT_TASKS=one` (what `socorg run` sets): the build's own task reports each model."""
    drawn = parsed_with(
        "(sorted(dag.get_task('publish').upstream_task_ids), len(dag.task_ids))", SOCORG_DBT_TASKS="one"
    )
    assert drawn == "(['transform'], 8)"


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


def test_publishing_updates_an_asset_per_dataset_and_the_example_consumer_listens(dagbag):
    """The Assets are updated by the last step of publishing (the upload, when there is one), so that a
    consumer never reads a release that is not whole where it reads it."""
    from ingest.publish.datasets import DATASETS

    dag = dagbag.dags[DAG_ID]
    assert not dag.get_task("publish").outlets
    publish = dag.get_task("publish_remote")
    assert publish.upstream_task_ids == {"publish"} and publish.trigger_rule == "none_failed"
    assert sorted(a.name for a in publish.outlets) == sorted(f"socorg.{d}" for d in DATASETS)
    consumer = dagbag.dags["socorg_example_consumer"]
    listened = {a.name for a in consumer.timetable.asset_condition.objects}
    assert listened == {"socorg.city_summary", "socorg.organizations"}
    assert listened <= {a.name for a in publish.outlets}


def test_production_shape_retries_pool_and_deadline(dagbag):
    import datetime as dt

    from ingest.orchestration.airflow_home import WAREHOUSE_POOL

    dag = dagbag.dags[DAG_ID]
    land = dag.get_task("land")
    assert land.retries >= 3 and land.retry_exponential_backoff > 1
    assert land.max_retry_delay == dt.timedelta(minutes=30)
    assert {t.task_id for t in dag.tasks if t.pool == WAREHOUSE_POOL} == {"transform", "publish"}
    assert dag.get_task("publish_postgres").upstream_task_ids == {"publish"}
    assert {t.queue for t in dag.tasks} == {"socorg"}  # SOCORG_CELERY_QUEUE unset: the default queue
    remote = dag.get_task("publish_remote")
    assert remote.retries >= 3 and remote.retry_exponential_backoff > 1
    [deadline] = dag.deadline
    assert deadline.interval == dt.timedelta(hours=5)  # 02:00 logical date → 07:00 default deadline
    assert deadline.callback.path == "ingest.orchestration.alerts.on_deadline_missed"


def test_the_celery_queue_and_the_uploads_retries_are_settings():
    drawn = parsed_with(
        "(sorted({t.queue for t in dag.tasks}), dag.get_task('publish_remote').retries)",
        SOCORG_CELERY_QUEUE="socorg_city", SOCORG_REMOTE_RETRIES="0",
    )  # fmt: skip
    assert drawn == "(['socorg_city'], 0)"


def test_the_run_deadline_is_configurable():
    assert parsed_with("dag.deadline[0].interval", SOCORG_RUN_DEADLINE="09:30") == "7:30:00"


def test_the_sensor_gives_its_slot_back_while_it_waits(dagbag):
    sensor = dagbag.dags[DAG_ID].get_task("wait_for_registry")
    assert sensor.mode == "reschedule"


def test_each_task_calls_its_stage_function_by_name():
    """The DAG spells out each task: the stage function it runs is named in its body (no table of
    stages looked up by a string), and each stage of ingest.orchestration.stages is one task."""
    from ingest.orchestration import stages

    source = (Path(__file__).resolve().parents[3] / "dags" / "socorg_nightly.py").read_text(encoding="utf-8")
    for task_id in (
        "wait_for_registry",
        "land",
        "parse",
        "validate",
        "transform",
        "publish",
        "publish_postgres",
    ):
        assert f"def {task_id}(**context)" in source
        assert f"stages.run_stage(stages.{task_id}, context)" in source
        assert callable(getattr(stages, task_id))
    assert "STAGES" not in source and "upstream" not in source
