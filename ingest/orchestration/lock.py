"""One run at a time per data folder: an flock on `<data>/.socorg.lock`, which also says who holds it."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ingest.common.errors import LockHeldError
from ingest.common.waiting import drop_waiter, register_waiter, waiting_nights

log = logging.getLogger(__name__)
LOCK_NAME = ".socorg.lock"
POLL_SECONDS = 0.5
# This process's locks, by data folder: a stage inside `socorg run` (dag.test in-process) re-enters it.
_held: dict[str, list] = {}


def lock_path(data: Path) -> Path:
    """`<data>/.socorg.lock`: the file every process that writes the data folder locks."""
    return data / LOCK_NAME


def describe_holder(holder: dict) -> str:
    """pid, host, night, command and since when, as a person reads it."""
    if not holder:
        return "another process (it has not said who it is yet)"
    return (
        f"pid {holder.get('pid')} on host {holder.get('host')}, night {holder.get('night')} "
        f"({holder.get('command')}), since {holder.get('since')}"
    )


def _read_holder(fd: int) -> dict:
    try:
        text = os.pread(fd, 4096, 0).decode("utf-8", errors="replace").strip()
        return json.loads(text) if text else {}
    except (OSError, ValueError):
        return {"pid": "?", "host": "?", "night": "?", "command": "unreadable lock record", "since": "?"}


@contextlib.contextmanager
def data_folder_lock(
    data: Path,
    night: str,
    command: str,
    wait: float | None = None,
    say: Callable[[str], None] = print,
) -> Iterator[None]:
    """Hold the data folder's lock for the block; wait for another holder up to `wait` seconds (None:
    as long as it takes), then raise LockHeldError naming the holder.

    Nights waiting together are let in earliest first, so history is built in date order. A lock left
    by a process that died is taken over with a note, and the leftovers of that process (temporary
    files of an interrupted write, staging folders) are removed before anything else runs.
    """
    data.mkdir(parents=True, exist_ok=True)
    key = str(data.resolve())
    if key in _held:  # re-entered by a stage of the run that holds it, in this process
        _held[key][1] += 1
        try:
            yield
        finally:
            _held[key][1] -= 1
        return
    fd = os.open(lock_path(data), os.O_RDWR | os.O_CREAT, 0o644)
    waiter: tuple[Path, int] | None = None
    started, told = time.monotonic(), False
    try:
        waiter = register_waiter(data, night)
        while True:
            if _try_lock(fd):
                if not waiting_nights(data, before=night, me=waiter[0]):
                    break
                fcntl.flock(fd, fcntl.LOCK_UN)
            holder = _read_holder(fd)
            message = f"data folder {data} is in use by {describe_holder(holder)}"
            if wait is not None and time.monotonic() - started >= wait:
                raise LockHeldError(f"{message}; gave up after waiting {wait:g} s (--wait)")
            if not told and (holder or time.monotonic() - started > 2):  # the holder writes who it is
                say(f"  waiting: {message}")
                told = True
            time.sleep(POLL_SECONDS)
        drop_waiter(waiter)
        waiter = None
        left = _read_holder(fd)
        if left:
            say(
                f"  note: took over the lock of {data} left by {describe_holder(left)}, "
                "which is no longer running"
            )
        remove_leftovers(data)  # writes happen under the lock: whatever is half-written now is an orphan
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "night": night,
            "command": command,
            "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        with contextlib.suppress(OSError):  # who holds it is for messages; a full disk must not stop it
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(record).encode(), 0)
        _held[key] = [fd, 0]
    except BaseException:
        if waiter:
            drop_waiter(waiter)
        os.close(fd)
        raise
    try:
        yield
    finally:
        del _held[key]
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # an empty record: released in order, not left by a dead process
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def holder_now(data: Path) -> dict | None:
    """Who holds the data folder's lock right now (another process), or None when it is free."""
    try:
        fd = os.open(lock_path(data), os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        if _try_lock(fd):
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        return _read_holder(fd) or {"command": "another process"}
    finally:
        os.close(fd)


def holds_lock(data: Path) -> bool:
    """Whether this process holds the data folder's lock."""
    return str(data.resolve()) in _held


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def remove_leftovers(data: Path) -> list[str]:
    """Temporary files and staging folders of interrupted runs (only the lock's holder may call this):
    `.part`/`.tmp` files anywhere in the data folder's own trees, `raw/.staging-*`, `tmp/*`. A raw
    partition swapped out (`.<name>.old`) by a parse killed before the new one was in is put back.
    Best effort: what cannot be removed is logged and left."""
    removed = []
    for tree in ("landing", "raw", "runs", "publish", "tmp"):
        root = data / tree
        for path in list(root.rglob("*")) if root.exists() else []:
            name = path.name
            try:
                if name.startswith(".") and name.endswith(".old") and path.is_dir():
                    final = path.with_name(name[1:].removesuffix(".old"))
                    if final.exists():
                        shutil.rmtree(path)
                    else:
                        path.replace(final)
                elif name.startswith(".staging-") and path.is_dir():
                    shutil.rmtree(path)
                elif name.endswith((".part", ".tmp")) and path.is_file():
                    path.unlink()
                elif tree == "tmp" and path.parent == root:
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
                else:
                    continue
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("could not remove %s left by an interrupted run: %s", path, exc)
                continue
            removed.append(str(path))
    return removed
