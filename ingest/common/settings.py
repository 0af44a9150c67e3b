"""Every setting socorg reads from the environment: name, default, meaning (the docs' reference is made of it)."""

# ruff: noqa: E501 (a table: one setting a row)

from __future__ import annotations

import os
from typing import NamedTuple

from ingest.common.errors import SettingError


def nights_setting(name: str, default: int | None, minimum: int, why: str) -> int | None:
    """A setting counting nights, read from the environment: `default` when unset; a SettingError naming
    it when it is not a whole number, or is below `minimum` (`why` says why)."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        nights = int(value)
    except ValueError:
        raise SettingError(f"{name} must be a whole number of nights, got {value!r}") from None
    if nights < minimum:
        raise SettingError(f"{name} must be at least {minimum} ({why}), got {nights}")
    return nights


class Setting(NamedTuple):
    """An environment variable: its name, its default as a person reads it, what it does."""

    name: str
    default: str
    what: str


SETTINGS = (
    Setting(
        "SOCORG_EXPORTS",
        "`<data>/exports`",
        "exports root (fsspec URL); DAG param `exports` overrides it for a run",
    ),
    Setting(
        "SOCORG_DATA", "`./data`", "data folder (landing, raw, warehouse, publish, docs); DAG param `data`"
    ),
    Setting(
        "SOCORG_SITE",
        "—",
        "the deployment's site folder (`layouts/`, `seeds/`): see how-to/add-a-city; `socorg run --site`",
    ),
    Setting(
        "AIRFLOW_CONN_SOCORG_EXPORTS",
        "—",
        "credentials of the exports root (or the Airflow connection `socorg_exports`)",
    ),
    Setting(
        "SOCORG_REGISTRY_DEADLINE",
        "`08:00`",
        "when on D+1 (Asia/Shanghai) a missing registry export fails the run; DAG param `registry_deadline`",
    ),
    Setting("SOCORG_POKE_SECONDS", "`300`", "how often the DAG looks for the registry export until then"),
    Setting("SOCORG_SETTLE_SECONDS", "`60`", "how long an export must stay unchanged before it is landed"),
    Setting(
        "SOCORG_COMPLETION_MARKERS",
        "—",
        "per source, a marker to wait for: `registry=.done,membership=_SUCCESS`",
    ),
    Setting(
        "SOCORG_EXPECTED_ORGANIZATIONS",
        "—",
        "per city, the registry size a first night must reach half of: `320500=7700,440300=7000`",
    ),
    Setting(
        "SOCORG_REMEMBER_HASHES",
        "`1`",
        "`0`: the unchanged check reads every local file, not only those written to since it hashed them "
        "(`runs/<date>/known_hashes.json`): for a network filesystem whose file times are cached",
    ),
    Setting("SOCORG_FREE_SPACE_MARGIN_MB", "`500`", "free space a night needs beyond twice its exports"),
    Setting(
        "SOCORG_LOCK_WAIT", "wait", "seconds an Airflow task waits for another run's lock on the data folder"
    ),
    Setting(
        "AIRFLOW_CONN_SOCORG_ALERTS",
        "—",
        "webhook that failure alerts are posted to (or the Airflow connection `socorg_alerts`)",
    ),
    Setting("SOCORG_ALERTS_CONN_ID", "`socorg_alerts`", "which Airflow connection holds the alert webhook"),
    Setting(
        "SOCORG_DOCS_URL", "—", "base URL where `data/docs/` is served, for the Data Docs link in alerts"
    ),
    Setting(
        "SOCORG_KEEP_RELEASES",
        "all",
        "keep the newest N releases; DAG param `keep_releases`, `socorg run --keep-releases`",
    ),
    Setting(
        "SOCORG_KEEP_YEAR_ENDS",
        "`true`",
        "with `SOCORG_KEEP_RELEASES`, keep the last release of every year too (later nights' figures by year read them); DAG param `keep_year_ends`, `socorg run --no-keep-year-ends`",
    ),
    Setting(
        "SOCORG_KEEP_RAW_NIGHTS",
        "all",
        "keep `landing/` and `raw/` of the newest N audited nights (N ≥ 2), once history carries the older ones: see concepts/history",
    ),
    Setting(
        "SOCORG_DATA_DOCS_NIGHTS",
        "`14`",
        "how many nights of validation results the GX Data Docs index lists (older pages stay on disk, outcomes in `runs/<date>/validation.json`)",
    ),
    Setting("SOCORG_RUN_DEADLINE", "`07:00`", "when on D+1 an unfinished nightly run posts a deadline alert"),
    Setting(
        "AIRFLOW_CONN_SOCORG_POSTGRES", "—", "PostgreSQL the `publish_postgres` task loads each release into"
    ),
    Setting("SOCORG_POSTGRES_SCHEMA", "`socorg`", "the schema it loads into"),
    Setting(
        "SOCORG_DUCKDB_MEMORY",
        "`4GB`",
        "memory the warehouse's DuckDB (dbt build, publish) may use before it spills to disk",
    ),
    Setting(
        "SOCORG_PARSE_WORKERS",
        "one per core",
        "processes that parse a night's files side by side (used from 32 files and two 32 MB groups on; within a group, CSV files of one shape are typed by one DuckDB query)",
    ),
    Setting(
        "SOCORG_PUBLISH_URL",
        "—",
        "object storage each release is uploaded to (fsspec URL: `s3://bucket/prefix`, `gs://`, `az://`, a shared folder); DAG param `publish_url`",
    ),
    Setting(
        "AIRFLOW_CONN_SOCORG_PUBLISH",
        "—",
        "its credentials (or the Airflow connection `socorg_publish`; S3: login, password, extra `endpoint_url`)",
    ),
    Setting(
        "SOCORG_REMOTE_RETRIES",
        "`3`",
        "retries of the `publish_remote` task (`socorg run` sets 0: run the night again to finish an upload)",
    ),
    Setting(
        "SOCORG_RETRY_DELAY_SECONDS",
        "`60`",
        "how long a failed task waits before its retry (the pull and the uploads back off from it, up to 30 min)",
    ),
    Setting(
        "SOCORG_CELERY_QUEUE",
        "`socorg`",
        "the Celery queue every task of the DAG goes to: serve it with workers that see the data folder",
    ),
    Setting(
        "SOCORG_DBT_TASKS",
        "`models`",
        "`models`: a task per dbt model in the DAG; `one`: `transform` alone (what `socorg run` uses; `--model-tasks` for the other): see how-to/deploy-on-airflow",
    ),
    Setting(
        "AIRFLOW__OPENLINEAGE__TRANSPORT",
        "—",
        "where OpenLineage events go (or `OPENLINEAGE_URL`): see how-to/deploy-on-airflow",
    ),
    Setting("AIRFLOW_HOME", "`.airflow/` in the checkout", "Airflow's home (metadata DB, logs)"),
    Setting(
        "SOCORG_SNAPSHOT_DATE",
        "set by the `transform` task",
        "the night dbt builds; set it yourself to run dbt by hand (`SOCORG_SNAPSHOT_DATE=2023-10-31 dbt build`), a build without it fails saying so",
    ),
)
