"""Each dbt model is a task under the real scheduler: a failing test fails its model's task and nothing is
published; the wrong reference data mended, the seed's task cleared with what follows it re-runs those
tasks alone (not the whole build) and the night publishes. Every task's OpenLineage events are there.

Airflow runs as deployed (tests/airflow_server.py): API server, scheduler with the LocalExecutor and DAG
processor, with the DAG drawn a task per model (the default outside `socorg run`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import time

import pytest
from airflow_server import AirflowServer
from runner import socorg

from ingest.common.paths import SEEDS_DIR
from ingest.orchestration import stages as pipeline
from ingest.rules.creditcode import make_code
from ingest.transform.graph import load_graph

pytestmark = pytest.mark.e2e

NIGHT = dt.date(2023, 10, 31)
DAG_ID = "socorg_nightly"


@pytest.fixture(scope="module")
def scheduled(postgres_dsn, tmp_path_factory):
    """One Shenzhen night triggered on the scheduler, the site's designated associations naming one
    association the registry does not hold; the run, ended."""
    root = tmp_path_factory.mktemp("models")
    exports = root / "exports"
    sampled = socorg("sample", "--out", str(exports), "--date", NIGHT.isoformat(), "--city", "shenzhen",
                     env=dict(os.environ))  # fmt: skip
    assert sampled.returncode == 0, sampled.stderr
    site = root / "site" / "seeds"
    site.mkdir(parents=True)
    good = (SEEDS_DIR / "cluster_associations.csv").read_text(encoding="utf-8")
    lines = good.splitlines(keepends=True)
    first_shenzhen = next(k for k, line in enumerate(lines) if line.startswith("440300,"))
    cells = lines[first_shenzhen].split(",")
    unknown = make_code("5", "1", "440304", random.Random(31))
    cells[2] = unknown  # association_credit_code: an association no export lists
    lines[first_shenzhen] = ",".join(cells)
    (site / "cluster_associations.csv").write_text("".join(lines), encoding="utf-8")
    lineage = root / "lineage.jsonl"
    env = {
        "SOCORG_EXPORTS": str(exports),
        "SOCORG_DATA": str(root / "data"),
        "SOCORG_SITE": str(root / "site"),
        "SOCORG_SETTLE_SECONDS": "0",
        "SOCORG_DBT_TASKS": "models",
        # No run of its own schedule (today's, waiting for exports) takes the DAG's one active run.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(lineage), "append": True}
        ),
    }
    with AirflowServer(root / "home", postgres_dsn, env) as server:
        server.wait_for_dag(DAG_ID)
        server.cli("dags", "unpause", DAG_ID)
        logical = pipeline.run_time_for(NIGHT)
        server.cli("dags", "trigger", DAG_ID, "--run-id", "night", "--logical-date", logical.isoformat())
        server.root, server.good, server.unknown, server.lineage = root, good, unknown, lineage
        server.first = wait_for_run(server)
        yield server


def wait_for_run(server, timeout: float = 600) -> dict[str, tuple[str, int]]:
    """Until the run has ended: each task's (state, try number)."""
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        [(state,)] = server.query("select state from dag_run where run_id = 'night'")
        if state in ("success", "failed"):
            return tasks(server)
        time.sleep(3)
    pytest.fail(f"the run did not end in time: {tasks(server)}; see {server.home}/scheduler.log")


def tasks(server) -> dict[str, tuple[str, int]]:
    rows = server.query("select task_id, state, try_number from task_instance where run_id = 'night'")
    return {task: (state, tries) for task, state, tries in rows}


def test_the_scheduler_shows_every_model_as_a_task_and_a_failing_test_fails_its_model(scheduled):
    first = scheduled.first
    models = {f"dbt.{name}" for name in load_graph()["nodes"]}
    assert models <= set(first) and len(models) >= 40
    assert first["transform"][0] == "failed"  # the build's own task names the failing node too
    assert first["dbt.int_cluster_associations"][0] == "failed"
    assert first["dbt.clusters"][0] == "upstream_failed"
    assert first["dbt.organizations"][0] == "success"  # a model the failure does not reach
    assert first["publish"][0] == "upstream_failed"
    assert not (scheduled.root / "data" / "publish" / "latest.json").exists()
    log = next((scheduled.home / "logs").rglob("*task_id=dbt.int_cluster_associations*/attempt=1.log"))
    text = log.read_text(encoding="utf-8")
    assert "intermediate.int_cluster_associations: test designated_associations_are_registered fail" in text


def test_mending_the_seed_and_clearing_its_task_re_runs_what_follows_it_alone(scheduled):
    (scheduled.root / "site" / "seeds" / "cluster_associations.csv").write_text(
        scheduled.good, encoding="utf-8"
    )
    start, end = (pipeline.run_time_for(NIGHT) + dt.timedelta(minutes=m) for m in (-1, 1))
    # Airflow 3.3 matches --task-regex as a substring of the task id (partial_subset), not as a regex.
    scheduled.cli(
        "tasks", "clear", DAG_ID, "--task-regex", "dbt.cluster_associations", "--downstream",
        "--start-date", start.isoformat(), "--end-date", end.isoformat(), "--yes",
    )  # fmt: skip
    # The cleared run goes back to queued; wait until it ends again.
    time.sleep(5)
    after = wait_for_run(scheduled)
    assert after["publish"][0] == "success", {t: s for t, s in after.items() if s[0] != "success"}
    assert after["transform"] == scheduled.first["transform"]  # not run again: the build is not redone
    assert after["dbt.organizations"] == scheduled.first["dbt.organizations"]  # nor a model not downstream
    assert after["dbt.cluster_associations"] == ("success", 2)  # the seed loaded again, mended
    assert after["dbt.int_cluster_associations"] == ("success", 2)
    assert after["dbt.clusters"][0] == "success"
    record = json.loads((scheduled.root / "data" / "runs" / NIGHT.isoformat() / "dbt_nodes.json").read_text())
    assert all(n["status"] in ("success", "pass") for n in record["nodes"].values())
    latest = json.loads((scheduled.root / "data" / "publish" / "latest.json").read_text())
    assert latest["snapshot_date"] == NIGHT.isoformat()


def test_every_task_of_the_scheduled_night_emits_its_lineage(scheduled):
    events = [json.loads(line) for line in scheduled.lineage.read_text(encoding="utf-8").splitlines()]
    by_job: dict[str, set[str]] = {}
    for event in events:
        by_job.setdefault(event["job"]["name"], set()).add(event["eventType"])
    expected = ["wait_for_registry", "land", "parse", "validate", "transform"]
    expected += [f"dbt.{name}" for name in load_graph()["nodes"]]
    for task in expected:
        assert "START" in by_job.get(f"{DAG_ID}.{task}", set()), task
        assert by_job[f"{DAG_ID}.{task}"] & {"COMPLETE", "FAIL"}, task
    assert "FAIL" in by_job[f"{DAG_ID}.dbt.int_cluster_associations"]
    organizations = [
        e
        for e in events
        if e["job"]["name"] == f"{DAG_ID}.dbt.organizations" and e["eventType"] == "COMPLETE"
    ]
    [output] = organizations[-1]["outputs"]
    assert output["name"] == "warehouse.marts.organizations"
    assert output["outputFacets"]["outputStatistics"]["rowCount"] > 7000
    assert {f["name"] for f in output["facets"]["schema"]["fields"]} >= {"org_id", "credit_code", "org_name"}


def test_a_night_that_fails_before_the_build_fails_with_its_model_tasks_drawn(tmp_path):
    """Drawn a task per model, a night without its registry export fails (it does not end green with
    the model tasks skipped and publish skipped), and says why."""
    exports = tmp_path / "exports"
    (exports / "registry").mkdir(parents=True)
    env = {**os.environ, "SOCORG_EXPORTS": str(exports), "SOCORG_DATA": str(tmp_path / "data")}
    run = socorg("run", "--date", NIGHT.isoformat(), "--model-tasks", "--json", env=env)
    assert run.returncode == 4, run.stdout[-2000:]  # no exports for the date: nothing ran (exit_codes)
    [line] = run.stdout.splitlines()  # --json: the night's outcome on stdout, all else on stderr
    outcome = json.loads(line)
    assert (outcome["exit_code"], outcome["outcome"], outcome["release"]) == (4, "nothing_ran", None)
    assert outcome["reason"].startswith(
        "wait_for_registry: export missing: no registry export for 2023-10-31"
    )
    assert "NOT published (run state failed)" in run.stderr
    assert "no registry export for 2023-10-31" in run.stderr
    nodes = load_graph()["nodes"]
    roots = sum(not n["parents"] for n in nodes.values())  # they fail; the rest never run
    assert f"dbt models: {roots} failed, {len(nodes) - roots} upstream_failed" in run.stderr
    record = json.loads((tmp_path / "data" / "runs" / NIGHT.isoformat() / "run.json").read_text())
    assert record["state"] == "failed"
    states = {t["state"] for name, t in record["tasks"].items() if name.startswith("dbt.")}
    assert states <= {"failed", "upstream_failed"} and "failed" in states
    assert record["tasks"]["publish"]["state"] == "upstream_failed"
