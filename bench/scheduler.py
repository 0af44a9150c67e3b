"""`make bench-scheduler`: what drawing each dbt model as a task costs a city night under the real
scheduler, against dbt as one task, and what it costs parsing the DAG file.

On the city of `make bench` (Suzhou, generated), for each rendering (`SOCORG_DBT_TASKS=one`, then
`models`): a throwaway Airflow as deployed (PostgreSQL metadata, API server, scheduler with the
LocalExecutor, DAG processor: tests/airflow_server.py), one night triggered and timed from the metadata
database — the run, `transform`, the model tasks, and the gap between the build's end and `publish`'s
start (what the model tasks add to the night). Then the DAG file parsed in fresh processes with
Airflow already imported, as the DAG processor does, for each rendering. Writes a section of
bench/RESULTS.md.

    python bench/scheduler.py --out data/bench/scheduler
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the tests' throwaway PostgreSQL and Airflow
from airflow_server import AirflowServer  # noqa: E402
from postgres_server import PostgresServer, postgres_bin  # noqa: E402

from bench.measure import write_section  # noqa: E402
from bench.nightly import exports_for  # noqa: E402
from ingest.common.paths import DAGS_DIR  # noqa: E402
from ingest.orchestration import stages  # noqa: E402

DAG_ID = "socorg_nightly"
DATE = dt.date(2023, 10, 31)
RENDERINGS = ("one", "models")


def scheduled_night(rendering: str, exports: Path, root: Path, dsn: str) -> dict:
    """One night on a fresh Airflow and data folder; its timings from the metadata database."""
    shutil.rmtree(root, ignore_errors=True)
    env = {
        "SOCORG_EXPORTS": str(exports),
        "SOCORG_DATA": str(root / "data"),
        "SOCORG_SETTLE_SECONDS": "0",
        "SOCORG_DBT_TASKS": rendering,
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the run triggered here
    }
    with AirflowServer(root / "home", dsn, env) as server:
        server.wait_for_dag(DAG_ID)
        server.cli("dags", "unpause", DAG_ID)
        logical = stages.run_time_for(DATE).isoformat()
        server.cli("dags", "trigger", DAG_ID, "--run-id", "bench", "--logical-date", logical)
        give_up = time.monotonic() + 1800
        while time.monotonic() < give_up:
            [(state,)] = server.query("select state from dag_run where run_id = 'bench'")
            if state in ("success", "failed"):
                break
            time.sleep(1)
        [(started, ended)] = server.query("select start_date, end_date from dag_run where run_id = 'bench'")
        rows = server.query(
            "select task_id, state, start_date, end_date from task_instance where run_id = 'bench'"
        )
    tasks = {t: (s, a, b) for t, s, a, b in rows}
    models = [(a, b) for t, (s, a, b) in tasks.items() if t.startswith("dbt.") and a and b]
    transform_end, publish_start = tasks["transform"][2], tasks["publish"][1]
    return {
        "rendering": rendering,
        "state": state,
        "run_seconds": round((ended - started).total_seconds(), 1),
        "transform_seconds": round((tasks["transform"][2] - tasks["transform"][1]).total_seconds(), 1),
        "model_tasks": len(models),
        "model_task_seconds": round(sum((b - a).total_seconds() for a, b in models), 1),
        "build_to_publish_seconds": round((publish_start - transform_end).total_seconds(), 1),
        "failed_tasks": sorted(t for t, (s, _a, _b) in tasks.items() if s not in ("success", "skipped")),
    }


PARSE = """
import os, runpy, sys, time
import airflow.sdk  # imported already in the DAG processor
started = time.perf_counter()
dag = runpy.run_path(sys.argv[1])["dag"]
print(time.perf_counter() - started, len(dag.task_ids))
"""


def parse_seconds(rendering: str, times: int = 5) -> dict:
    """The DAG file parsed in `times` fresh processes: median seconds and the tasks drawn."""
    seconds, tasks = [], 0
    for _ in range(times):
        done = subprocess.run(
            [sys.executable, "-c", PARSE, str(DAGS_DIR / "socorg_nightly.py")],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "SOCORG_DBT_TASKS": rendering, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"},
        )
        took, tasks = done.stdout.split()[-2:]
        seconds.append(float(took))
    return {
        "rendering": rendering,
        "median_seconds": round(statistics.median(seconds), 3),
        "tasks": int(tasks),
    }


def render(nights: list[dict], parses: list[dict]) -> str:
    lines = [
        "## Model tasks under the scheduler (issue 32)",
        "",
        f"{dt.date.today()}, `python bench/scheduler.py` (`make bench-scheduler`), {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. The city of `make bench` (Suzhou, "
        "8,000 organizations), one cold night each on a fresh Airflow (PostgreSQL metadata, API server, "
        "scheduler with the LocalExecutor, DAG processor), timed from the metadata database.",
        "",
        "| dbt drawn as | run | transform | model tasks (sum of their durations) "
        "| build's end → publish starts | state |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for n in nights:
        models = f"{n['model_tasks']} ({n['model_task_seconds']} s)" if n["model_tasks"] else "—"
        state = n["state"] + (f" ({', '.join(n['failed_tasks'])})" if n["failed_tasks"] else "")
        lines.append(
            f"| `{n['rendering']}` | {n['run_seconds']} s | {n['transform_seconds']} s | {models} | "
            f"{n['build_to_publish_seconds']} s | {state} |"
        )
    one, models = (next(n for n in nights if n["rendering"] == r) for r in RENDERINGS)
    lines += [
        "",
        f"A task per model costs the night {models['run_seconds'] - one['run_seconds']:+.1f} s under the "
        f"scheduler ({models['build_to_publish_seconds']:.1f} s between the build's end and publish, "
        f"against {one['build_to_publish_seconds']:.1f} s).",
        "",
        "Parsing the DAG file (Airflow already imported, as in the DAG processor; median of 5 fresh "
        "processes):",
        "",
        "| dbt drawn as | tasks | parse |",
        "|---|---:|---:|",
    ]
    lines += [f"| `{p['rendering']}` | {p['tasks']} | {p['median_seconds'] * 1000:.0f} ms |" for p in parses]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data/bench/scheduler"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--results", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args(argv)
    exports, _truth = exports_for("city", args.out, DATE, args.seed)
    binaries = postgres_bin()
    if binaries is None:
        raise SystemExit("PostgreSQL is not installed: `make system-deps` installs Debian's postgresql")
    nights = []
    with PostgresServer(binaries) as postgres:
        for rendering in RENDERINGS:
            print(f"scheduler: a city night with SOCORG_DBT_TASKS={rendering}", flush=True)
            nights.append(scheduled_night(rendering, exports, args.out / rendering, postgres.dsn))
            print(json.dumps(nights[-1]), flush=True)
    parses = [parse_seconds(r) for r in RENDERINGS]
    print(json.dumps(parses), flush=True)
    text = render(nights, parses)
    write_section(args.results, "Model tasks under the scheduler", text)
    print(text)


if __name__ == "__main__":
    main()
