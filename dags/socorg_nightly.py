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
A run not finished by `SOCORG_RUN_DEADLINE` (default 07:00 on D+1) posts a deadline alert there too.

Production shape: `land` (the pull) retries with exponential backoff; `validate` and `transform` never
retry (a failed check is an answer). `transform` and `publish` share the one-slot pool
`socorg_warehouse`, so one process at a time writes the DuckDB file. `publish_remote` uploads the
release to object storage when `SOCORG_PUBLISH_URL` (or param `publish_url`) is set — credentials from
the connection `socorg_publish` — latest.json last, and then updates one Airflow Asset per published
dataset (`socorg.<dataset>`; the event's `extra` names the release and its URL) for other DAGs to be
scheduled on. `publish_postgres` loads the release into PostgreSQL when the connection `socorg_postgres`
exists, and is skipped otherwise. Every task runs on the Celery queue `SOCORG_CELERY_QUEUE` (default
`socorg`): serve it with workers that see the data folder.
Param `keep_releases` (or `SOCORG_KEEP_RELEASES`) keeps the newest N releases, and the last release of
every year unless param `keep_year_ends` (or `SOCORG_KEEP_YEAR_ENDS`) is false.

A night whose release is current — the same landed files, the same code and the same earlier
releases — skips `parse` and everything after it; param `force` rebuilds it anyway.

Backfill with `airflow backfill create --dag-id socorg_nightly --max-active-runs 1 …`: a backfill does
not follow `max_active_runs`, and each night builds on the audited nights before it. Runs queued after
their deadline (backfills) raise no deadline alert.
"""

from __future__ import annotations

import datetime as dt
import os

import pendulum
from airflow.sdk import DeadlineAlert, DeadlineReference, Param, SyncCallback, dag, task

from ingest.common.dates import first_run_time
from ingest.orchestration.airflow_home import WAREHOUSE_POOL, rendering
from ingest.orchestration.alerts import on_deadline_missed, on_failure
from ingest.orchestration.assets import published_assets
from ingest.orchestration.model_tasks import dbt_model_tasks, stage_task
from ingest.transform.graph import load_graph

# Read when Airflow parses the file (a sensor's poke interval and the DAG's deadline are part of its
# definition); everything else a task needs is read when the task runs (ingest.orchestration.stages).
POKE_SECONDS = int(os.environ.get("SOCORG_POKE_SECONDS", "300"))
# The scheduled run starts at 02:00 on D+1; it should be done by this hour of the same morning.
RUN_DEADLINE = dt.time.fromisoformat(os.environ.get("SOCORG_RUN_DEADLINE", "07:00"))
# The pull and the PostgreSQL load talk to other machines: retry them, waiting longer each time.
BACKOFF = {"retry_exponential_backoff": 2.0, "max_retry_delay": dt.timedelta(minutes=30)}
# How long a failed task waits before its retry (the pull and the uploads back off from it).
RETRY_DELAY = dt.timedelta(seconds=int(os.environ.get("SOCORG_RETRY_DELAY_SECONDS", "60")))
# The upload to object storage retries like the pull (`socorg run` sets 0: its user runs it again).
REMOTE_RETRIES = int(os.environ.get("SOCORG_REMOTE_RETRIES", "3"))


def _deadline() -> DeadlineAlert:
    """Alert when the run has not finished by RUN_DEADLINE: measured from the 02:00 logical date."""
    after = dt.datetime.combine(dt.date.min, RUN_DEADLINE) - dt.datetime.combine(dt.date.min, dt.time(2))
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=after,
        callback=SyncCallback(on_deadline_missed, kwargs={"deadline": RUN_DEADLINE.isoformat("minutes")}),
    )


@dag(
    dag_id="socorg_nightly",
    schedule="0 2 * * *",
    # Any export date from FIRST_EXPORT_DATE on is a night (an archive's year-end snapshots too):
    # Airflow runs no task for a logical date before the start date.
    start_date=pendulum.instance(first_run_time()),
    catchup=False,
    max_active_runs=1,
    deadline=_deadline(),
    tags=["socorg", "nightly"],
    default_args={
        "owner": "socorg",
        "retries": 1,
        "retry_delay": RETRY_DELAY,
        # Every task on the queue of the workers that see the data folder (CeleryExecutor).
        "queue": os.environ.get("SOCORG_CELERY_QUEUE", "socorg"),
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
        "keep_year_ends": Param(
            None,
            type=["null", "boolean"],
            description="With keep_releases, also keep the last release of every year (default: yes)",
        ),
        "force": Param(False, type="boolean", description="Rebuild even if the night's release is current"),
        "keep_releases": Param(
            None, type=["null", "integer"], minimum=1, description="Keep the newest N releases (default: all)"
        ),
        "publish_url": Param(
            None,
            type=["null", "string"],
            description="Object storage the release is uploaded to (fsspec URL)",
        ),
    },
    doc_md=__doc__,
)
def socorg_nightly():
    # Waiting for the registry gives the worker slot back between pokes (mode="reschedule"): a night
    # whose exports come at 06:00 does not hold a slot from 02:00.
    @task.sensor(poke_interval=POKE_SECONDS, timeout=24 * 3600, mode="reschedule", retries=0)
    def wait_for_registry(**context) -> bool:
        """The registry export is there and every export of the night is whole (or the deadline passed)."""
        from ingest.orchestration import stages

        return stages.run_stage(stages.wait_for_registry, context)

    @stage_task(retries=4, **BACKOFF)
    def land(**context) -> dict:
        """Copy the night's exports into landing/, byte for byte."""
        from ingest.orchestration import stages

        return stages.run_stage(stages.land, context)

    @stage_task
    def parse(**context) -> dict:
        """Type the landed files into raw/; bad rows quarantined with a reason."""
        from ingest.orchestration import stages

        return stages.run_stage(stages.parse, context)

    # The gate and the build are not retried: a failed check is an answer, not an accident.
    @stage_task(retries=0)
    def validate(**context) -> dict:
        """Great Expectations on the night's raw batches: an error stops the run."""
        from ingest.orchestration import stages

        return stages.run_stage(stages.validate, context)

    @stage_task(retries=0, pool=WAREHOUSE_POOL)
    def transform(**context) -> dict:
        """dbt builds and tests the marts in DuckDB (one writer at a time: the pool has one slot)."""
        from ingest.orchestration import stages

        return stages.run_stage(stages.transform, context)

    @stage_task(pool=WAREHOUSE_POOL)
    def publish(**context) -> dict:
        """Parquet per dataset, the release, marts.duckdb, latest.json and the catalog."""
        from ingest.orchestration import stages

        return stages.run_stage(stages.publish, context)

    # The last step of publishing, so it updates the Assets: a consumer never reads a release that is
    # not whole where it reads it. Also after a publish skipped for an unchanged night: an upload cut
    # in an earlier run is finished (only what is missing is sent).
    @stage_task(retries=REMOTE_RETRIES, trigger_rule="none_failed", outlets=published_assets(), **BACKOFF)
    def publish_remote(**context) -> dict:
        """The release onto object storage (SOCORG_PUBLISH_URL), latest.json last; the Asset events."""
        from ingest.orchestration import stages
        from ingest.orchestration.assets import record_events

        published_tonight = context["ti"].xcom_pull(task_ids="publish") is not None
        result = stages.run_stage(stages.publish_remote, context, published_tonight)
        record_events(context, result)
        return result

    # Also after a publish skipped for an unchanged night: PostgreSQL may not hold that release yet.
    @stage_task(retries=3, trigger_rule="none_failed", **BACKOFF)
    def publish_postgres(**context) -> dict:
        """The release into PostgreSQL, when the connection socorg_postgres exists."""
        from ingest.orchestration import stages

        return stages.run_stage(stages.publish_postgres, context)

    built = wait_for_registry() >> land() >> parse() >> validate() >> transform()
    published = publish()
    if rendering() == "models":  # a task per dbt model in the UI, each with its state, log and lineage
        first, last = dbt_model_tasks(load_graph())
        built >> first
        last >> published
    else:
        built >> published
    published >> [publish_remote(), publish_postgres()]


dag = socorg_nightly()
