"""Progress as a night runs: to the terminal of `socorg run` (stderr) when one is attached, else the log."""

from __future__ import annotations

import logging
import os
import threading
import time

log = logging.getLogger("socorg.progress")
_terminal: int | None = None  # a file descriptor of the terminal's stderr, while `socorg run` runs a night
_lock = threading.Lock()
_last: dict[str, float] = {}

# A stage's steps (files, chunks, datasets) are told at most this often, and always the last one.
STEP_SECONDS = 2.0


def attach(fd: int) -> None:
    """Tell progress to this file descriptor (its own copy) until detach()."""
    global _terminal
    detach()
    _terminal = os.dup(fd)


def detach() -> None:
    global _terminal
    if _terminal is not None:
        os.close(_terminal)
        _terminal = None


def say(line: str) -> None:
    """One line of progress: on the attached terminal, else in the task's log."""
    with _lock:
        if _terminal is None:
            log.info("%s", line)
            return
        try:
            os.write(_terminal, (line.rstrip("\n") + "\n").encode("utf-8"))
        except OSError:  # a closed terminal must not stop the night
            log.info("%s", line)


def step(stage: str, done: int, total: int, unit: str, what: str = "") -> None:
    """`parse: 3 of 40 files`, every STEP_SECONDS while a stage runs, and its last step; a stage of one
    step says nothing."""
    if total < 2:
        return
    now = time.monotonic()
    if done < total:
        started = _last.setdefault(stage, now)  # a stage's first step: its clock starts
        if now - started < STEP_SECONDS:
            return
        _last[stage] = now
    else:
        _last.pop(stage, None)
    say(f"  {stage}: {done:,} of {total:,} {unit}" + (f" ({what})" if what else ""))
