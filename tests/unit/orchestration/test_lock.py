"""One run at a time per data folder: who holds it, waiting and refusing, dead holders, date order."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ingest.common.errors import LockHeldError
from ingest.orchestration.lock import data_folder_lock, holds_lock, lock_path

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ingest.orchestration.lock import data_folder_lock
    data, night, seconds, order = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
    with data_folder_lock(data, night, f"test holder {night}", say=lambda m: None):
        with open(order, "a") as fh:
            fh.write(night + "\\n")
        print("holding", flush=True)
        time.sleep(seconds)
    """
)


def hold(data: Path, night: str, seconds: float, order: Path) -> subprocess.Popen:
    """Another process holding the data folder's lock for `seconds`; returns once it holds it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(data), night, str(seconds), str(order)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "holding"
    return proc


def waiter(data: Path, night: str, order: Path) -> subprocess.Popen:
    """Another process asking for the lock (it records its night in `order` once it has it)."""
    return subprocess.Popen(
        [sys.executable, "-c", HOLD, str(data), night, "0", str(order)], stdout=subprocess.PIPE
    )


def test_a_second_run_waits_then_refuses_naming_the_holder(tmp_path):
    data = tmp_path / "data"
    holder = hold(data, "2023-10-31", 30, tmp_path / "order")
    said: list[str] = []
    started = time.monotonic()
    with (
        pytest.raises(LockHeldError) as err,
        data_folder_lock(data, "2023-11-01", "test", wait=1.5, say=said.append),
    ):
        pass
    holder.kill()
    holder.wait()
    assert time.monotonic() - started >= 1.5
    message = str(err.value)
    assert f"data folder {data} is in use by pid {holder.pid} on host {socket.gethostname()}" in message
    assert "night 2023-10-31 (test holder 2023-10-31), since 20" in message
    assert "gave up after waiting 1.5 s (--wait)" in message
    assert said == [f"  waiting: {message.split('; gave up')[0]}"]


def test_a_lock_left_by_a_dead_process_is_taken_over_and_its_leftovers_removed(tmp_path):
    data = tmp_path / "data"
    holder = hold(data, "2023-10-31", 60, tmp_path / "order")
    leftovers = [
        data / "landing" / "registry" / "2023-10-31" / ".registry_320500_20231031.csv.part",
        data / "raw" / ".staging-0a1b2c3d" / "registry" / "loaded" / "x.parquet",
        data / "publish" / ".latest.json.tmp",
        data / "tmp" / "publish-0a1b2c3d" / "clusters.parquet",
    ]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    kept = data / "landing" / "registry" / "2023-10-31" / "registry_320500_20231031.csv"
    kept.write_bytes(b"whole")
    # Killed between swapping the old partition out and the new one in: the old one is put back.
    swapped = data / "raw" / "registry" / ".export_date=2023-10-30.old" / "part.parquet"
    swapped.parent.mkdir(parents=True)
    swapped.write_bytes(b"audited")
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    said: list[str] = []
    with data_folder_lock(data, "2023-11-01", "test", wait=5, say=said.append):
        assert holds_lock(data)
    assert said == [
        f"  note: took over the lock of {data} left by pid {holder.pid} on host {socket.gethostname()}, "
        f"night 2023-10-31 (test holder 2023-10-31), since {said[0].split(', since ')[1].split(',')[0]}, "
        "which is no longer running"
    ]
    assert [p for p in leftovers if p.exists()] == []
    assert not (data / "raw" / ".staging-0a1b2c3d").exists()
    assert kept.read_bytes() == b"whole"
    assert (data / "raw" / "registry" / "export_date=2023-10-30" / "part.parquet").read_bytes() == b"audited"
    assert lock_path(data).read_text() == ""  # released in order: nothing left to take over


def test_nights_waiting_together_go_in_date_order(tmp_path):
    data, order = tmp_path / "data", tmp_path / "order"
    holder = hold(data, "2023-10-30", 3, order)
    later = waiter(data, "2023-11-02", order)
    time.sleep(0.5)
    earlier = [waiter(data, night, order) for night in ("2023-11-01", "2023-10-31")]
    for proc in [holder, later, *earlier]:
        assert proc.wait(timeout=60) == 0
    assert order.read_text().split() == ["2023-10-30", "2023-10-31", "2023-11-01", "2023-11-02"]


def test_a_stage_inside_the_run_that_holds_the_lock_reenters_it(tmp_path):
    data = tmp_path / "data"
    with data_folder_lock(data, "2023-10-31", "socorg run", say=print):
        with data_folder_lock(data, "2023-10-31", "task land", wait=0, say=print):
            assert holds_lock(data)
        assert holds_lock(data)
    assert not holds_lock(data)


def test_a_waiter_that_died_does_not_hold_up_later_nights(tmp_path):
    data = tmp_path / "data"
    (data / ".socorg.waiting").mkdir(parents=True)
    dead = data / ".socorg.waiting" / "2023-10-30__another-host__42"
    dead.write_text("2023-10-30")  # a waiter's file nobody holds: its process is gone
    with data_folder_lock(data, "2023-10-31", "test", wait=1, say=print):
        assert holds_lock(data)
    assert not dead.exists()
