"""OpenLineage from `socorg run`, configured the standard way (AIRFLOW__OPENLINEAGE__TRANSPORT): a file
and an HTTP receiver answering at Marquez's address (tests/conftest.py `_first_night`). Every task and
every dbt model has its events; inputs and outputs carry their schema, rows and quality results."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import duckdb
import pytest
from runner import dag_stage_order

from ingest.publish.datasets import DATASETS
from ingest.transform.graph import load_graph

pytestmark = pytest.mark.e2e
DAG_ID = "socorg_nightly"


@pytest.fixture(scope="module")
def events(first_night) -> list[dict]:
    lines = first_night["lineage"].read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def of_job(events: list[dict], job: str, state: str) -> list[dict]:
    return [e for e in events if e["job"]["name"] == job and e["eventType"] == state]


def test_every_task_and_every_model_has_a_start_and_a_complete(events):
    tasks = [t for t in dag_stage_order() if t != "publish_postgres"]  # no connection: skipped
    jobs = [f"{DAG_ID}.{task}" for task in tasks] + [f"{DAG_ID}.dbt.{m}" for m in load_graph()["nodes"]]
    for job in jobs:
        assert of_job(events, job, "START") and of_job(events, job, "COMPLETE"), job
    assert of_job(events, DAG_ID, "COMPLETE")  # the run itself
    # A model's job is a child of the transform task's run, which is a child of the night's run.
    [organizations] = of_job(events, f"{DAG_ID}.dbt.organizations", "COMPLETE")
    parent = organizations["run"]["facets"]["parent"]
    assert parent["job"]["name"] == f"{DAG_ID}.transform"
    [transform] = of_job(events, f"{DAG_ID}.transform", "START")
    assert parent["run"]["runId"] == transform["run"]["runId"]
    assert parent["root"]["job"]["name"] == DAG_ID


def test_land_reads_the_export_files_and_parse_writes_raw_partitions_with_rows(events, first_night):
    [land] = of_job(events, f"{DAG_ID}.land", "COMPLETE")
    exports = str(first_night["exports"].resolve())
    names = {d["name"] for d in land["inputs"]}
    assert names and all(n.startswith(exports) for n in names)
    assert any(n.endswith(".csv") for n in names) and len(names) == len(land["outputs"])
    [parse] = of_job(events, f"{DAG_ID}.parse", "COMPLETE")
    raw = {d["name"].split("/raw/")[1].split("/")[0]: d for d in parse["outputs"]}
    assert {"registry", "membership"} <= set(raw)
    registry = raw["registry"]
    assert registry["outputFacets"]["outputStatistics"]["rowCount"] > 7000
    assert "credit_code" in {f["name"] for f in registry["facets"]["schema"]["fields"]}


def test_the_quality_gate_and_dbt_tests_are_data_quality_facets(events):
    [validate] = of_job(events, f"{DAG_ID}.validate", "COMPLETE")
    checked = {
        d["name"].split("/raw/")[1].split("/")[0]: d["inputFacets"]["dataQualityAssertions"]["assertions"]
        for d in validate["inputs"]
    }
    assert checked["registry"] and all(a["success"] for a in checked["registry"])
    assert any(a["assertion"].startswith("expect_") for a in checked["registry"])
    [organizations] = of_job(events, f"{DAG_ID}.dbt.organizations", "COMPLETE")
    tested = [d for d in organizations["inputs"] if "dataQualityAssertions" in d.get("inputFacets", {})]
    assertions = tested[0]["inputFacets"]["dataQualityAssertions"]["assertions"]
    # org_id: a unique test, and a not_null constraint DuckDB enforced as the table was built
    assert {("unique", "org_id"), ("not_null", "org_id")} <= {
        (a["assertion"], a["column"]) for a in assertions
    }
    assert all(a["success"] for a in assertions)


def test_publish_outputs_every_dataset_with_its_schema_and_the_rows_it_holds(events, first_night):
    [publish] = of_job(events, f"{DAG_ID}.publish", "COMPLETE")
    outputs = {d["name"]: d for d in publish["outputs"]}
    published = {name.split("/publish/")[1].split("/")[0]: d for name, d in outputs.items()}
    assert set(DATASETS) <= set(published)
    organizations = [d for n, d in outputs.items() if "/organizations/" in n][0]
    [(rows,)] = duckdb.sql(f"select count(*) from read_parquet('{organizations['name']}')").fetchall()
    assert organizations["outputFacets"]["outputStatistics"]["rowCount"] == rows
    assert {"org_id", "credit_code"} <= {f["name"] for f in organizations["facets"]["schema"]["fields"]}


def test_no_event_names_a_person_or_a_credential(events, first_night):
    text = first_night["lineage"].read_text(encoding="utf-8")
    for column in ("legal_representative", "phone", "contact_person"):
        assert column not in text, column


def test_the_http_receiver_got_every_event_in_marquezs_shape(events, first_night):
    posts = json.loads(first_night["lineage_posts"].read_text(encoding="utf-8"))
    assert len(posts) == len(events)
    for post in posts:
        assert post["path"] == "/api/v1/lineage" and post["content_type"] == "application/json"
        event = post["body"]
        assert event["eventType"] in ("START", "RUNNING", "COMPLETE", "FAIL", "ABORT")
        dt.datetime.fromisoformat(event["eventTime"])
        uuid.UUID(event["run"]["runId"])
        assert event["job"]["namespace"] and event["job"]["name"]
        assert event["producer"] and event["schemaURL"].startswith("https://openlineage.io/spec/")
    assert sorted(json.dumps(p["body"], sort_keys=True) for p in posts) == sorted(
        json.dumps(e, sort_keys=True) for e in events
    )
