"""
### socorg nightly

Pulls the night's registry, membership and qualification exports, lands them byte for byte, parses
them into typed Parquet (bad rows quarantined with a reason), validates them with Great Expectations,
builds the marts with dbt on DuckDB and publishes Parquet — in that order, each step only if the one
before passed (write–audit–publish).

The run scheduled at 02:00 Asia/Shanghai on D+1 processes the exports of D. It first waits for the
registry export until the deadline (`registry_deadline`, default `SOCORG_REGISTRY_DEADLINE` or 08:00 on
D+1), then fails with "export missing". Params `exports` (an fsspec URL: local, s3://, sftp://) and
`data` (a folder) override `SOCORG_EXPORTS` and `SOCORG_DATA`; credentials come from the Airflow
connection `exports_conn_id` (default `socorg_exports`) or the protocol's own environment.

A task that fails for good posts one JSON alert (dag, run, task, reason, Data Docs link) to the webhook
of the Airflow HTTP connection `socorg_alerts` (e.g. `AIRFLOW_CONN_SOCORG_ALERTS=https://host/path`).
"""

from __future__ import annotations

import datetime as dt
import os

import pendulum
from airflow.sdk import Param, dag, task

from ingest.alerts import on_failure

STAGES = ("land", "parse", "validate", "transform", "publish")
# The gate and the build must not be retried blindly: a failed check is an answer, not an accident.
RETRIES = {"validate": 0, "transform": 0}
POKE_SECONDS = int(os.environ.get("SOCORG_POKE_SECONDS", "300"))


def _stage(name: str):
    """A task that runs one stage of `ingest.pipeline` on the run's night."""

    @task(task_id=name, retries=RETRIES.get(name, 1))
    def run(upstream: dict | None = None, **context) -> dict:
        from ingest import pipeline

        return pipeline.run_stage(name, context)

    return run


@dag(
    dag_id="socorg_nightly",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2023, 10, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    tags=["socorg", "nightly"],
    default_args={
        "owner": "socorg",
        "retries": 1,
        "retry_delay": dt.timedelta(minutes=1),
        "on_failure_callback": on_failure,
    },
    params={
        "exports": Param(None, type=["null", "string"], description="Exports root URL"),
        "data": Param(None, type=["null", "string"], description="Data folder"),
        "exports_conn_id": Param(
            None, type=["null", "string"], description="Airflow connection with the exports' credentials"
        ),
        "registry_deadline": Param(
            None, type=["null", "string"], description="HH:MM on D+1 (Asia/Shanghai) the registry may come by"
        ),
    },
    doc_md=__doc__,
)
def socorg_nightly():
    @task.sensor(task_id="wait_for_registry", poke_interval=POKE_SECONDS, timeout=24 * 3600, retries=0)
    def wait_for_registry(**context) -> bool:
        from ingest import pipeline

        return pipeline.run_stage("wait_for_registry", context)

    upstream = wait_for_registry()
    for name in STAGES:
        upstream = _stage(name)(upstream)


socorg_nightly()
