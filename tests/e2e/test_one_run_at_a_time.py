"""One run at a time per data folder: runs started together wait, go in date order, publish right."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import duckdb
import pytest
from runner import FIRST_NIGHT, socorg

pytestmark = pytest.mark.e2e
SECOND_NIGHT = "2023-11-01"


@pytest.fixture(scope="module")
def exports(shenzhen_two_nights):
    return shenzhen_two_nights


def start(night: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ingest.cli", "run", "--date", night],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def registry_changes(data) -> int:
    path = (
        data / "publish" / "registry_changes" / f"snapshot_date={SECOND_NIGHT}" / "registry_changes.parquet"
    )
    return duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchall()[0][0]


def test_runs_started_together_wait_for_each_other_and_publish_in_date_order(exports, tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "SOCORG_DATA": str(data), "SOCORG_EXPORTS": str(exports)}
    # The later night first, then the earlier one and the later one again, all within a second.
    runs = [start(SECOND_NIGHT, env)]
    time.sleep(0.3)
    runs += [start(FIRST_NIGHT, env), start(SECOND_NIGHT, env)]
    outputs = [proc.communicate(timeout=900)[0] for proc in runs]
    assert [proc.returncode for proc in runs] == [0, 0, 0], "\n=====\n".join(o[-3000:] for o in outputs)
    assert not any("Traceback" in out for out in outputs)
    waited = [out for out in outputs if f"waiting: data folder {data} is in use by pid " in out]
    assert waited, outputs
    truth = json.loads((exports / "_truth" / "changes.json").read_text(encoding="utf-8"))
    assert len(truth) == 16
    # The later night's changes compare with the earlier night, whichever run got the folder first.
    assert registry_changes(data) == len(truth)
    latest = json.loads((data / "publish" / "latest.json").read_text(encoding="utf-8"))
    assert latest["snapshot_date"] == SECOND_NIGHT
    issues = json.loads((data / "publish" / "releases" / SECOND_NIGHT / "issues.json").read_text())["issues"]
    assert [i for i in issues if i["kind"] == "history_gap"] == []
    for night in (FIRST_NIGHT, SECOND_NIGHT):
        assert socorg("verify", night, env=env).returncode == 0
    assert (data / ".socorg.lock").read_text() == ""


def test_a_night_built_while_an_earlier_one_waits_says_so_then_is_built_again(exports, tmp_path):
    """Here the earlier night asks only after the later one's run checked for waiting nights: the later
    release names the gap in issues.json, and the earlier night's run builds it again on top."""
    data = tmp_path / "data"
    env = {**os.environ, "SOCORG_DATA": str(data), "SOCORG_EXPORTS": str(exports)}
    later = start(SECOND_NIGHT, env)
    gap_seen = threading.Event()
    earlier: list[subprocess.Popen] = []

    def start_earlier_once_land_ran():
        landed = data / "runs" / SECOND_NIGHT / "landed.json"
        while not landed.exists() and later.poll() is None:
            time.sleep(0.1)
        earlier.append(start(FIRST_NIGHT, env))
        gap_seen.set()

    helper = threading.Thread(target=start_earlier_once_land_ran)
    helper.start()
    later_out = later.communicate(timeout=900)[0]
    helper.join()
    assert gap_seen.is_set() and later.returncode == 0, later_out[-3000:]
    assert f"warning: night {FIRST_NIGHT} is waiting to be run on this data folder" in later_out
    earlier_out = earlier[0].communicate(timeout=900)[0]
    assert earlier[0].returncode == 0, earlier_out[-3000:]
    assert (
        f"the release of {SECOND_NIGHT} was built before {FIRST_NIGHT} was; building {SECOND_NIGHT} again"
        in (earlier_out)
    )
    assert registry_changes(data) == 16
    issues = json.loads((data / "publish" / "releases" / SECOND_NIGHT / "issues.json").read_text())["issues"]
    assert [i for i in issues if i["kind"] == "history_gap"] == []
