"""The DAG's task types beyond plain @task: stage tasks and dbt model tasks that tell OpenLineage what they
read and wrote, and the model tasks drawn from `dbt_project/graph.json` (no dbt runs at parse time)."""

from __future__ import annotations

from airflow.providers.standard.decorators.python import _PythonDecoratedOperator
from airflow.sdk import BaseOperator, TaskGroup
from airflow.sdk.bases.decorator import task_decorator_factory


class _StageOperator(_PythonDecoratedOperator):
    """A stage's @task: the function as written in the DAG, plus its OpenLineage datasets."""

    custom_operator_name = "@stage_task"

    def get_openlineage_facets_on_complete(self, task_instance):
        from ingest.orchestration.lineage import stage_lineage

        return stage_lineage(self.task_id, task_instance)

    def get_openlineage_facets_on_failure(self, task_instance):
        return self.get_openlineage_facets_on_complete(task_instance)


def stage_task(python_callable=None, **kwargs):
    """`@stage_task(...)`: like `@task(...)`, for a stage of the night."""
    return task_decorator_factory(
        python_callable=python_callable, decorated_operator_class=_StageOperator, **kwargs
    )


class DbtModelOperator(BaseOperator):
    """A dbt model or seed with its data tests: reports how the night's build went for it (a failed
    test fails the task, naming it); cleared and run again, builds it with its tests again."""

    ui_color = "#ff694b"
    template_fields = ()

    def __init__(self, *, model: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model = model

    def execute(self, context):
        from ingest.orchestration import stages

        return stages.run_model_task(self.model, context)

    def get_openlineage_facets_on_complete(self, task_instance):
        from ingest.orchestration.lineage import model_lineage

        return model_lineage(self.model, task_instance)

    def get_openlineage_facets_on_failure(self, task_instance):
        return self.get_openlineage_facets_on_complete(task_instance)


def dbt_model_tasks(graph: dict) -> tuple[list[BaseOperator], list[BaseOperator]]:
    """A task per model and seed in the task group `dbt`, wired as dbt's graph; (the first tasks, which
    follow `transform`, and the last, which `publish` follows). The first run whether transform
    succeeded or failed (a failed build's models still report; with no build at all they fail,
    so the run fails too), not when it was skipped."""
    tasks: dict[str, BaseOperator] = {}
    with TaskGroup("dbt", tooltip="each dbt model and seed with its data tests"):
        for name, node in graph["nodes"].items():
            kind = "seed" if node["type"] == "seed" else f"{node['materialized']} model"
            tasks[name] = DbtModelOperator(
                task_id=name,
                model=name,
                retries=0,
                on_failure_callback=None,  # transform's own alert names the failing models
                trigger_rule="none_skipped" if not node["parents"] else "all_success",
                doc_md=f"dbt {kind} `{node['schema']}.{name}` with its {len(node['tests'])} data tests.",
            )
    for name, node in graph["nodes"].items():
        for parent in node["parents"]:
            tasks[parent] >> tasks[name]
    children = {p for node in graph["nodes"].values() for p in node["parents"]}
    first = [tasks[n] for n, node in graph["nodes"].items() if not node["parents"]]
    last = [tasks[n] for n in graph["nodes"] if n not in children]
    return first, last
