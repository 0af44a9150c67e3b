"""Shared by the benchmarks: one measurement per fresh process, and one section per bench in RESULTS.md."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil


def measure(script: str, task: str, *args: str) -> dict:
    """Run `script --task task args…` in a fresh process; its JSON result with wall seconds.

    A fresh process makes the peak memory (max RSS) the task's own.
    """
    started = time.perf_counter()
    done = subprocess.run([sys.executable, script, "--task", task, *args], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{task} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {**result, "wall_seconds": round(seconds, 2)}


def run_measured(
    command: list[str],
    env: dict | None = None,
    sample_seconds: float = 0.1,
    limit_address_space: int | None = None,
) -> dict:
    """Run a command; its wall seconds, exit code, output and peak memory of its whole process tree.

    Peak memory is the largest sum of resident memory over the process and its children, sampled
    every `sample_seconds` (Airflow and dbt run tasks in child processes). `limit_address_space`
    (bytes) caps the command's virtual memory: past it, allocations fail in the command.
    """

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_address_space, limit_address_space))

    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=cap if limit_address_space else None,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(process.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(_rss(p) for p in tree))
            except psutil.NoSuchProcess:
                pass
            done.wait(sample_seconds)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return {
        "wall_seconds": round(seconds, 2),
        "peak_rss_mib": round(peak / 2**20, 1),
        "returncode": process.returncode,
        "stdout": stdout,
        "stderr": stderr,
    }


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.NoSuchProcess:
        return 0


def report_task(result: dict) -> None:
    """Print a task's result with its peak memory, as `measure` reads it: this process's own plus that
    of the largest process it started (an upper bound when they ran at the same time)."""
    peak = sum(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    result["peak_rss_mib"] = round(peak / 1024, 1)
    print(json.dumps(result))


def write_section(results: Path, heading: str, text: str) -> None:
    """Replace the section starting `## {heading}` in RESULTS.md where it stands (or append it)."""
    previous = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n\n"
    start = previous.find(f"## {heading}")
    if start < 0:
        results.write_text(previous.rstrip() + "\n\n" + text, encoding="utf-8")
        return
    end = previous.find("\n## ", start + 1)
    after = "\n" + previous[end + 1 :] if end >= 0 else ""
    results.write_text(previous[:start] + text.rstrip() + "\n" + after, encoding="utf-8")
