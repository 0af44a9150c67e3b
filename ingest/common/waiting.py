"""Nights waiting for the data folder's lock: a file each in `<data>/.socorg.waiting`, held by its process."""

from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path

WAITERS = ".socorg.waiting"  # one file per process waiting for the lock, so the earliest night goes first


def register_waiter(data: Path, night: str) -> tuple[Path, int]:
    """A file named for the night, held with an flock while this process waits: a waiter's file that
    nobody holds was left by a process that died (on any host sharing the folder)."""
    folder = data / WAITERS
    folder.mkdir(exist_ok=True)
    path = folder / f"{night}__{socket.gethostname()}__{os.getpid()}"
    new = folder / f".new-{socket.gethostname()}-{os.getpid()}"
    fd = os.open(new, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        new.replace(path)  # seen by others only once it is held
    except BaseException:
        os.close(fd)
        new.unlink(missing_ok=True)
        raise
    return path, fd


def drop_waiter(waiter: tuple[Path, int]) -> None:
    """This process waits no more: its file goes."""
    path, fd = waiter
    path.unlink(missing_ok=True)
    os.close(fd)


def waiting_nights(data: Path, before: str, me: Path | None = None) -> list[str]:
    """Earlier nights that live processes wait to run on this data folder (the files of dead ones go)."""
    nights = set()
    folder = data / WAITERS
    for path in folder.glob("*__*__*") if folder.exists() else []:
        their_night = path.name.split("__", 1)[0]
        if path == me or their_night >= before:
            continue
        if _abandoned(path):
            path.unlink(missing_ok=True)
            continue
        nights.add(their_night)
    return sorted(nights)


def _abandoned(path: Path) -> bool:
    """Whether no process holds the waiter's file (its process died)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)
