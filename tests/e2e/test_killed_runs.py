"""A run killed (SIGKILL) during any task leaves nothing half-done, and running the night again gives
exactly what an uninterrupted run gives."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from runner import FIRST_NIGHT, file_hashes, marts_content, release_files, run_night_in_process, socorg

from ingest.orchestration import stages as pipeline

pytestmark = pytest.mark.e2e

NIGHT_1 = dt.date.fromisoformat(FIRST_NIGHT)
NIGHT_2 = NIGHT_1 + dt.timedelta(days=1)
# How long each task runs before the kill: long enough to be in the middle of its work, short enough
# to stay inside it (a Shenzhen night parses and validates in about a second each).
KILL_AFTER = {"land": 0.0, "parse": 0.5, "validate": 0.5, "transform": 3.0, "publish": 0.2}


@pytest.fixture(scope="module")
def nights(tmp_path_factory, shenzhen_two_nights):
    """Shenzhen's exports for two nights (the session's, only read); a data folder with night 1
    published (the stages in-process); and a copy that ran night 2 through Airflow without
    interruption: the reference."""
    root = tmp_path_factory.mktemp("killed")
    exports, base = shenzhen_two_nights, root / "base"
    env = {**os.environ, "SOCORG_EXPORTS": str(exports)}
    night = pipeline.Night(NIGHT_1, str(exports), base)
    run_night_in_process(night)
    reference = shutil.copytree(base, root / "reference")
    done = socorg("run", "--date", NIGHT_2.isoformat(), env={**env, "SOCORG_DATA": str(reference)})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return {"exports": exports, "base": base, "reference": reference, "env": env}


def running_since(task_id: str, since: str, con: sqlite3.Connection | None = None) -> str | None:
    """The state of the task's newest try that started after `since` (UTC), from Airflow's metadata DB."""
    own = con is None
    con = con or sqlite3.connect(os.path.join(os.environ["AIRFLOW_HOME"], "airflow.db"), timeout=30)
    try:
        row = con.execute(
            "select state from task_instance where dag_id = 'socorg_nightly' and task_id = ? "
            "and start_date > ? order by start_date desc limit 1",
            (task_id, since),
        ).fetchone()
        con.rollback()  # a reader holds no snapshot between polls
    finally:
        if own:
            con.close()
    return row[0] if row else None


def kill_during(task_id: str, env: dict) -> bool:
    """Start `socorg run` for night 2, wait until the task runs, let it work a moment, SIGKILL the run.
    False when the run went past the task before a poll saw it running (a task of a tenth of a second,
    on a busy machine): nothing was killed, and the caller starts again from a fresh copy."""
    since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    process = subprocess.Popen(
        [sys.executable, "-m", "ingest.cli", "run", "--date", NIGHT_2.isoformat()],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    con = sqlite3.connect(os.path.join(os.environ["AIRFLOW_HOME"], "airflow.db"), timeout=30)
    try:
        deadline = time.monotonic() + 300
        while running_since(task_id, since, con) != "running":
            if process.poll() is not None or running_since(task_id, since, con) not in (
                None,
                "queued",
                "scheduled",
            ):
                return False  # it ran and ended between two polls
            assert time.monotonic() < deadline, f"{task_id} never started"
            time.sleep(0.005)
        time.sleep(KILL_AFTER[task_id])
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        con.close()
    assert running_since(task_id, since) == "running", f"{task_id} had finished before the kill"
    return True


def assert_nothing_half_done(publish, before: dict, after: dict) -> None:
    """No temporary file under publish/; every file is either the previous night's or the finished one."""
    leftovers = [
        p for p in publish.rglob("*") if p.name.startswith(".") or p.name.endswith((".tmp", ".part"))
    ]
    assert leftovers == []
    for path, digest in file_hashes(publish).items():
        assert digest in (before.get(path), after.get(path)), f"{path} is neither the old nor the new file"
    assert marts_content(publish) in (before["_marts"], after["_marts"])


@pytest.mark.parametrize("task_id", list(KILL_AFTER))
def test_a_run_killed_during_a_task_then_run_again_equals_an_uninterrupted_run(nights, task_id, tmp_path):
    for attempt in range(3):
        data = shutil.copytree(nights["base"], tmp_path / f"data-{attempt}")
        env = {**nights["env"], "SOCORG_DATA": str(data)}
        before = {**file_hashes(data / "publish"), "_marts": marts_content(data / "publish")}
        if kill_during(task_id, env):
            break
    else:
        pytest.fail(f"{task_id} was never seen running in three runs: nothing was killed")
    reference = nights["reference"] / "publish"
    after = {**file_hashes(reference), "_marts": marts_content(reference)}
    assert_nothing_half_done(data / "publish", before, after)
    if task_id != "publish":  # killed before publishing: the previous release exactly as it was
        assert file_hashes(data / "publish") == {k: v for k, v in before.items() if k != "_marts"}

    again = socorg("run", "--date", NIGHT_2.isoformat(), env=env)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert file_hashes(data / "publish") == file_hashes(reference)
    assert marts_content(data / "publish") == after["_marts"]
    assert release_files(data / "publish", NIGHT_2) == release_files(reference, NIGHT_2)
    assert list((data / "tmp").iterdir()) == []
