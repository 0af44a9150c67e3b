"""`airflow backfill create` over five days, four of which the exports root holds, on a real scheduler,
gives exactly the releases of running the held nights one after the other, skips the day without a
registry export (no failure, no alert); and the deadline alert fires for real, but not for backfills.

Airflow runs as deployed: API server, scheduler with the LocalExecutor and DAG processor, each its own
process (tests/airflow_server.py). The reference runs each night's stages in date order, in-process: the
same stage functions the DAG's tasks call, without Airflow. `SOCORG_BACKFILL_NIGHTS` sets the number of
nights (`make test-soak` runs a month).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time

import pytest
from airflow_server import AirflowServer
from runner import Webhook, file_hashes, marts_content, release_files, run_night_in_process, socorg

from ingest.orchestration import stages as pipeline
from ingest.publish.datasets import DATASETS

pytestmark = pytest.mark.e2e

FIRST = dt.date(2023, 11, 1)
NIGHTS = int(os.environ.get("SOCORG_BACKFILL_NIGHTS", "4"))  # more with `make test-soak`
DAYS = [FIRST + dt.timedelta(days=k) for k in range(NIGHTS + 1)]
GAP = DAYS[2]  # a day the exports root holds no export for
MONTH = [day for day in DAYS if day != GAP]  # the nights held
DAG_ID = "socorg_nightly"
DEADLINE_LEAD = dt.timedelta(seconds=45)  # how far ahead the deadline of the late manual run lies
RUN_DEADLINE = dt.time.fromisoformat(os.environ.get("SOCORG_RUN_DEADLINE", "07:00"))  # as the DAG reads it


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """A month of Shenzhen's nightly exports, with registrations, renames, members coming and going."""
    folder = tmp_path_factory.mktemp("backfill") / "exports"
    sampled = socorg(
        "sample", "--out", str(folder), "--dates", ",".join(d.isoformat() for d in MONTH),
        "--city", "shenzhen", env=dict(os.environ),
    )  # fmt: skip
    assert sampled.returncode == 0, sampled.stderr
    return folder


@pytest.fixture(scope="module")
def webhook():
    with Webhook() as hook:
        yield hook


@pytest.fixture(scope="module")
def airflow(exports, webhook, postgres_dsn, tmp_path_factory):
    """A running Airflow whose tasks read `exports` and write a data folder of their own."""
    root = tmp_path_factory.mktemp("airflow")
    env = {
        "SOCORG_EXPORTS": str(exports),
        "SOCORG_DATA": str(root / "data"),
        "SOCORG_POKE_SECONDS": "10",
        # dbt as one task: the nights are this test's subject; a task per model under this scheduler is
        # test_model_tasks.py's (44 more tasks a night slow a busy scheduler's loop, and a rescheduled
        # sensor can then be failed by Airflow's "finished with state success, but … queued" race).
        "SOCORG_DBT_TASKS": "one",
        "AIRFLOW_CONN_SOCORG_ALERTS": webhook.url,
    }
    with AirflowServer(root / "home", postgres_dsn, env) as server:
        server.wait_for_dag(DAG_ID)
        server.cli("dags", "unpause", DAG_ID)
        server.data = root / "data"
        yield server


@pytest.fixture(scope="module")
def backfill_started(airflow):
    """`airflow backfill create` over the month, as the README says: one night at a time, oldest first."""
    airflow.cli(
        "backfill", "create", "--dag-id", DAG_ID,
        "--from-date", pipeline.run_time_for(MONTH[0]).isoformat(),
        "--to-date", pipeline.run_time_for(DAYS[-1]).isoformat(),
        "--max-active-runs", "1",
    )  # fmt: skip
    return airflow


@pytest.fixture(scope="module")
def nightly(backfill_started, exports, tmp_path_factory):
    """The reference, computed while the backfill runs: each night's stages in date order."""
    data = tmp_path_factory.mktemp("nightly") / "data"
    for export_date in MONTH:
        night = pipeline.Night(export_date, str(exports), data)
        run_night_in_process(night)
    return data


@pytest.fixture(scope="module")
def backfilled(backfill_started, nightly) -> dict[str, str]:
    """Wait until every backfill run has ended; their states by run id."""
    give_up = time.monotonic() + 300 + 180 * NIGHTS
    while time.monotonic() < give_up:
        runs = dict(backfill_started.query("select run_id, state from dag_run where run_type = 'backfill'"))
        if len(runs) == len(DAYS) and set(runs.values()) <= {"success", "failed"}:
            return runs
        time.sleep(5)
    pytest.fail(f"the backfill did not end in time: {runs}; see {backfill_started.home}/scheduler.log")


def test_the_backfill_runs_every_night_of_the_month_in_order(backfill_started, backfilled):
    assert set(backfilled.values()) == {"success"}, backfilled
    runs = backfill_started.query(
        "select logical_date, start_date from dag_run where run_type = 'backfill' order by logical_date"
    )
    assert [pipeline.export_date_for(logical) for logical, _ in runs] == DAYS
    starts = [start for _, start in runs]
    assert starts == sorted(starts), "the nights must run oldest first: each builds on the one before"


def test_a_day_without_a_registry_export_is_skipped_not_failed_and_raises_no_alert(
    backfill_started, backfilled, webhook
):
    """The backfill covers every day of the range; the exports root holds none for GAP: its run
    succeeds with every task skipped, nothing is landed or published for it, no alert is posted."""
    logical = pipeline.run_time_for(GAP)
    states = dict(backfill_started.query(
        "select ti.task_id, ti.state from task_instance ti join dag_run r on ti.run_id = r.run_id "
        "and ti.dag_id = r.dag_id where r.run_type = 'backfill' and r.logical_date = %s", logical,
    ))  # fmt: skip
    assert states["wait_for_registry"] == "skipped"
    assert {states[t] for t in ("land", "parse", "validate", "transform", "publish")} == {"skipped"}
    assert not (backfill_started.data / "landing" / "registry" / GAP.isoformat()).exists()
    assert not (backfill_started.data / "publish" / "releases" / GAP.isoformat()).exists()
    assert [p for p in webhook.posts if p["body"].get("export_date") == GAP.isoformat()] == []


def test_the_backfill_gives_the_releases_of_the_nightly_runs(backfill_started, backfilled, nightly):
    publish, reference = backfill_started.data / "publish", nightly / "publish"
    assert file_hashes(publish) == file_hashes(reference)
    assert len([p for p in file_hashes(publish) if p.endswith(".parquet")]) >= 12 * NIGHTS
    for night in MONTH:
        assert release_files(publish, night) == release_files(reference, night), night
    versions = json.loads((publish / "versions.json").read_text(encoding="utf-8"))
    assert [release["snapshot_date"] for release in versions["releases"]] == [
        night.isoformat() for night in reversed(MONTH)
    ]
    assert marts_content(publish) == marts_content(reference)
    done = socorg("verify", "latest", env={**os.environ, "SOCORG_DATA": str(backfill_started.data)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.endswith(f"releases/{MONTH[-1]}: OK, {len(DATASETS) + 2} files match index.json\n")


def test_the_last_nights_report_shows_its_changes_and_every_night(backfill_started, backfilled):
    """A night with registry changes and nights before it: the report's change counts, its chart over
    the nights and its workbook's 登记变动 sheet are the published ones (night 1 has none of these)."""
    import re
    from collections import Counter

    import duckdb
    import openpyxl

    last = MONTH[-1].isoformat()
    publish = backfill_started.data / "publish"
    changes = duckdb.sql(
        f"select * from read_parquet('{publish}/registry_changes/snapshot_date={last}/*.parquet')"
    )
    changes = [dict(zip(changes.columns, row, strict=True)) for row in changes.fetchall()]
    assert changes
    page = (publish / "reports" / last / "index.html").read_text(encoding="utf-8")
    shown = dict(
        re.findall(r'data-dataset="registry_changes" data-key="440300" data-column="([^"]+)">([^<]+)<', page)
    )
    assert shown == {kind: f"{n:,}" for kind, n in Counter(c["change_type"] for c in changes).items()}
    assert ">nan<" not in page and ">None<" not in page  # a null before/after value is an empty cell
    chart = page[page.index('id="org-types-440300"') :]
    bars = chart[chart.index("rect mark container") : chart.index("</g>", chart.index("rect mark container"))]
    assert bars.count("<path") == 3 * NIGHTS  # three organization types, every night published
    sheet = openpyxl.load_workbook(publish / "reports" / last / f"socorg_{last}.xlsx")["登记变动"]
    english = [c.value for c in sheet[2]]
    written = [dict(zip(english, r, strict=True)) for r in sheet.iter_rows(min_row=3, values_only=True)]
    key = ("credit_code", "change_type", "value_before", "value_after")
    assert sorted(tuple(r[k] for k in key) for r in written) == sorted(
        tuple(c[k] for k in key) for c in changes
    )


def test_backfilled_nights_raise_no_deadline_alert(backfilled, webhook):
    """Every backfilled night was past its 07:00 deadline before it began: no page for any of them."""
    alerts = [
        post["body"] for post in webhook.posts if str(post["body"].get("run", "")).startswith("backfill")
    ]
    assert alerts == []


def test_a_run_unfinished_at_its_deadline_posts_the_deadline_alert(airflow, webhook, backfilled, tmp_path):
    """A manual run whose deadline lies 45 s ahead, waiting for a registry export that never comes."""
    deadline = dt.datetime.now(dt.UTC) + DEADLINE_LEAD
    logical = deadline - (dt.datetime.combine(FIRST, RUN_DEADLINE) - dt.datetime.combine(FIRST, dt.time(2)))
    conf = {
        "exports": str(tmp_path / "no-exports"),
        "data": str(tmp_path / "data"),
        "registry_deadline": "23:59",
    }
    (tmp_path / "no-exports").mkdir()
    airflow.cli(
        "dags", "trigger", DAG_ID, "--run-id", "manual_late", "--conf", json.dumps(conf),
        "--logical-date", logical.isoformat(),
    )  # fmt: skip
    give_up = time.monotonic() + DEADLINE_LEAD.total_seconds() + 180
    while time.monotonic() < give_up:
        alerts = [
            post["body"]
            for post in webhook.posts
            if post["body"].get("run") == "manual_late" and post["body"]["reason"].startswith("deadline")
        ]
        if alerts:
            break
        time.sleep(2)
    assert alerts, f"no deadline alert within 3 minutes of the deadline; posts: {webhook.posts}"
    [alert] = alerts
    assert dt.datetime.now(dt.UTC) >= deadline
    assert alert["dag"] == DAG_ID
    assert alert["export_date"] == pipeline.export_date_for(logical).isoformat()
    assert alert["reason"] == (
        f"deadline missed: the run was not finished by {RUN_DEADLINE.isoformat('minutes')} (Asia/Shanghai) "
        "on the morning after"
    )
    assert alert["state"] in {"queued", "running", "failed"}
