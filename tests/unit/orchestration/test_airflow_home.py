"""socorg run's in-process Airflow: the Execution API built for the one version its client speaks."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json
from ingest.orchestration.airflow_home import configure, lean_execution_api
configure()
lean_execution_api()
from airflow.sdk.api.client import API_VERSION
from airflow.sdk.execution_time.supervisor import in_process_api_server
from fastapi.testclient import TestClient
app = in_process_api_server().app
health = TestClient(app).get("/health", headers={"Airflow-API-Version": API_VERSION})
print(json.dumps({
    "versions": [v.value for v in app.versions.versions],
    "sdk": API_VERSION,
    "initialized": app._cadwyn_initialized,
    "health": health.status_code,
}))
"""


def test_the_in_process_execution_api_is_built_for_the_version_the_task_sdk_speaks(tmp_path):
    env = {"AIRFLOW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    # Airflow's own app holds every version it ever served (nine in 3.3); this one the SDK's and a
    # stand-in older version, built before the first task rather than on its first call.
    assert seen["versions"] == [seen["sdk"], "2000-01-01"]
    assert seen["initialized"] is True
    assert seen["health"] == 200


def test_the_socorg_command_runs_the_exit_handlers_and_keeps_its_exit_code():
    script = (
        "import atexit; from ingest.cli import exit_now; "
        "atexit.register(lambda: print('handler ran')); print('said', end=' '); exit_now(3)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (3, "said handler ran\n")


def test_the_socorg_command_shuts_down_a_process_pool_left_open_before_it_leaves():
    # OpenLineage's listener submits its events to a fork pool it never shuts down; its workers hold
    # the command's output open, so a caller reading it would wait for ever if they outlived it.
    script = (
        "import multiprocessing, os; from concurrent.futures import ProcessPoolExecutor; "
        "from ingest.cli import exit_now; "
        "pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('fork')); "
        "print('worker', pool.submit(os.getpid).result() != os.getpid()); exit_now(0)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "worker True\n")
