"""The team's Airflow cluster on this machine: the components deploy/docker-compose.yaml runs, as processes
— PostgreSQL, Redis (Debian's redis-server), the CeleryExecutor with two Celery workers on the socorg
queue. A night goes through Celery and publishes what `socorg run` publishes; the worker running `parse`
is killed in the middle, the task runs again on the other worker, and nothing half-written is published.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time

import pytest
from airflow_server import AirflowServer
from compose_topology import compose_commands
from postgres_server import free_port
from runner import FIRST_NIGHT, marts_content, published_state, release_files

from ingest.orchestration import stages as pipeline

pytestmark = pytest.mark.e2e

DAG_ID = "socorg_nightly"
QUEUE = "socorg_nightly_queue"  # SOCORG_CELERY_QUEUE: the DAG's tasks and the workers agree on it
KILL_AFTER = 0.5  # seconds into parse (a night of two cities parses in a few)


@pytest.fixture(scope="module")
def redis_url():
    """Debian's redis-server on a free loopback port, nothing kept on disk."""
    binary = shutil.which("redis-server")
    if not binary:
        pytest.fail("redis-server is not installed: `make system-deps` installs Debian's redis-server")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    give_up = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            assert time.monotonic() < give_up and process.poll() is None, "redis-server did not start"
            time.sleep(0.2)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


def cluster_components() -> tuple[dict[str, list[str]], dict[str, dict[str, str]]]:
    """The Airflow services of the compose file, their commands as Compose resolves them; the two
    workers side by side on one host get their own Celery node names and log server ports."""
    names = (
        "AIRFLOW_FERNET_KEY",
        "AIRFLOW_JWT_SECRET",
        "AIRFLOW_API_SECRET_KEY",
        "_AIRFLOW_WWW_USER_PASSWORD",
    )
    secret_env = {name: secrets.token_hex(16) for name in names}
    commands = compose_commands({**secret_env, "SOCORG_CELERY_QUEUE": QUEUE})
    components, component_env = {}, {}
    for name, args in commands.items():
        if args[:2] == ["celery", "worker"]:
            args = [*args, "--celery-hostname", f"{name}@%h"]
            component_env[name] = {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
        components[name] = args
    return components, component_env


@pytest.fixture(scope="module")
def celery_night(first_night, postgres_dsn, redis_url, tmp_path_factory):
    """The session's night triggered on the cluster; the worker that runs `parse` killed half-way."""
    root = tmp_path_factory.mktemp("celery")
    components, component_env = cluster_components()
    workers = [name for name, args in components.items() if args[:2] == ["celery", "worker"]]
    assert len(workers) >= 2, components
    env = {
        "SOCORG_EXPORTS": str(first_night["exports"]),
        "SOCORG_DATA": str(root / "data"),
        "SOCORG_SETTLE_SECONDS": "0",
        "SOCORG_DBT_TASKS": "one",  # as `socorg run` draws it (the models are test_model_tasks.py's)
        "SOCORG_CELERY_QUEUE": QUEUE,
        "SOCORG_RETRY_DELAY_SECONDS": "5",  # the killed try's retry need not wait the minute
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": redis_url,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        # A worker gone: its task is found without heartbeat after 20 s (300 s by default).
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    }
    server = AirflowServer(root / "home", postgres_dsn, env, components, component_env)
    backend = server.metadata_dsn.split("://", 1)[1]
    server.env["AIRFLOW__CELERY__RESULT_BACKEND"] = f"db+postgresql+psycopg://{backend}"
    with server:
        server.wait_for_dag(DAG_ID)
        server.cli("dags", "unpause", DAG_ID)
        logical = pipeline.run_time_for(dt_night())
        server.cli("dags", "trigger", DAG_ID, "--run-id", "night", "--logical-date", logical.isoformat())
        server.killed = kill_the_worker_running(server, "parse")
        server.tasks = wait_for_run(server)
        server.root, server.workers = root, workers
        yield server


def dt_night():
    import datetime as dt

    return dt.date.fromisoformat(FIRST_NIGHT)


def kill_the_worker_running(server, task_id: str) -> str:
    """Once the task runs (and has worked a moment), SIGKILL the worker it runs on, with the task."""
    give_up = time.monotonic() + 600
    while True:
        rows = server.query(
            "select state, pid from task_instance where run_id = 'night' and task_id = %s", task_id
        )
        if rows and rows[0][0] == "running" and rows[0][1]:
            break
        assert not rows or rows[0][0] in (None, "scheduled", "queued", "running"), rows
        assert time.monotonic() < give_up, f"{task_id} never ran: see {server.home}/scheduler.log"
        time.sleep(0.05)
    time.sleep(KILL_AFTER)
    worker = server.component_running(rows[0][1])
    assert worker and "worker" in worker, f"{task_id} (pid {rows[0][1]}) runs under {worker}"
    server.kill(worker)
    [(state,)] = server.query(
        "select state from task_instance where run_id = 'night' and task_id = %s", task_id
    )
    assert state == "running", f"{task_id} had finished before the kill"
    return worker


def wait_for_run(server, timeout: float = 600) -> dict[str, tuple[str, int, str]]:
    """Until the run has ended: each task's (state, try number, queue)."""
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        [(state,)] = server.query("select state from dag_run where run_id = 'night'")
        if state in ("success", "failed"):
            rows = server.query(
                "select task_id, state, try_number, queue from task_instance where run_id = 'night'"
            )
            return {task: (state, tries, queue) for task, state, tries, queue in rows}
        time.sleep(3)
    pytest.fail(f"the run did not end in time; see {server.home}/scheduler.log")


def test_the_killed_workers_task_ran_again_on_the_other_worker(celery_night):
    tasks = celery_night.tasks
    assert {state for state, _, _ in tasks.values()} <= {"success", "skipped"}, tasks
    assert tasks["parse"][:2] == ("success", 2)  # the try on the killed worker, then one more
    assert all(queue == QUEUE for _, _, queue in tasks.values())  # SOCORG_CELERY_QUEUE routes every task
    history = celery_night.query(
        "select state from task_instance_history where run_id = 'night' and task_id = 'parse' "
        "and try_number = 1"
    )
    assert history == [("failed",)], history
    killed = celery_night.processes[list(celery_night.components).index(celery_night.killed)]
    assert killed.poll() is not None  # so the second try can only have run on the other worker
    survivors = [w for w in celery_night.workers if w != celery_night.killed]
    assert all(
        celery_night.processes[list(celery_night.components).index(w)].poll() is None for w in survivors
    )


def test_the_night_publishes_what_socorg_run_publishes(celery_night, first_night):
    ours, theirs = celery_night.root / "data", first_night["data"]
    mine, reference = published_state(ours), published_state(theirs)
    assert set(mine) == set(reference)
    changed = sorted(path for path in mine if mine[path] != reference[path])
    assert changed == [  # the publishing time, and the BI database (DuckDB files are not byte-stable)
        "publish/marts.duckdb",
        "publish/marts.duckdb.json",
        f"publish/releases/{FIRST_NIGHT}/index.json",
        "publish/versions.json",
    ]
    night = dt_night()
    assert release_files(ours / "publish", night) == release_files(theirs / "publish", night)
    assert marts_content(ours / "publish") == marts_content(theirs / "publish")
    assert not list((ours / "tmp").glob("publish-*"))  # no staging left behind by the killed try
    latest = json.loads((ours / "publish" / "latest.json").read_text(encoding="utf-8"))
    assert latest["snapshot_date"] == FIRST_NIGHT
    assert os.path.exists(ours / "runs" / FIRST_NIGHT / "landed.json")
