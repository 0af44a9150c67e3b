"""
### socorg example consumer

An example of a downstream DAG: it is scheduled on the Airflow Assets that socorg's `publish_remote` task
updates (`socorg.city_summary` and `socorg.organizations`), so it runs after every night that
published, and never after one that did not. It reads the release the Asset event names — from object
storage when socorg uploads its releases there (the event's `extra` carries the URL; credentials from
the connection `socorg_publish`), else from the data folder — and logs the active organizations per
city. Replace the task with your own report, extract or refresh.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task

from ingest.orchestration.assets import published_asset


@dag(
    dag_id="socorg_example_consumer",
    schedule=[published_asset("city_summary"), published_asset("organizations")],
    start_date=pendulum.datetime(2023, 10, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    tags=["socorg", "example"],
    default_args={"owner": "socorg", "retries": 1},
    params={"data": Param(None, type=["null", "string"], description="Data folder")},
    doc_md=__doc__,
)
def socorg_example_consumer():
    @task
    def active_organizations_by_city(**context) -> dict[str, int]:
        from ingest.orchestration.consumer import active_organizations_by_city, triggering_release

        data = (context.get("params") or {}).get("data")
        return active_organizations_by_city(data, triggering_release(context))

    active_organizations_by_city()


socorg_example_consumer()
