"""Helpers for end-to-end tests: the `socorg` command, the published state, a webhook that records."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.util
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb

DAGS = Path(__file__).resolve().parents[1] / "dags"
FIRST_NIGHT = "2023-10-31"  # the export date of the session's published night (conftest.first_night)


def socorg(*args: str, env: dict) -> subprocess.CompletedProcess:
    """Run `socorg …` as a user would, in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "ingest.cli", *args], capture_output=True, text=True, env=env
    )


def published_state(data: Path) -> dict[str, str]:
    """sha256 of every file under publish/, by path: equal states mean byte-identical releases."""
    return {
        str(p.relative_to(data)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((data / "publish").rglob("*"))
        if p.is_file()
    }


def file_hashes(publish) -> dict[str, str]:
    """sha256 of every Parquet file and of latest.json, by path."""
    files = [*publish.rglob("*.parquet"), publish / "latest.json"]
    return {str(p.relative_to(publish)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def marts_content(publish) -> dict[str, list]:
    """Every table of marts.duckdb, sorted, with the tables' and columns' comments."""
    with duckdb.connect(str(publish / "marts.duckdb"), read_only=True) as con:
        tables = [t for (t,) in con.execute("select table_name from duckdb_tables() order by 1").fetchall()]
        content = {t: con.execute(f'select * from "{t}" order by all').fetchall() for t in tables}
        content["_comments"] = con.execute(
            "select table_name, column_name, comment from duckdb_columns() order by all"
        ).fetchall()
    return content


def release_files(publish, night: dt.date) -> dict:
    """The release's statistics and issues, and its index without the publishing time."""
    folder = publish / "releases" / night.isoformat()
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    index.pop("published_at")
    return {
        "index": index,
        "statistics": json.loads((folder / "statistics.json").read_text(encoding="utf-8")),
        "issues": json.loads((folder / "issues.json").read_text(encoding="utf-8")),
    }


class Webhook:
    """An HTTP server on loopback that records every JSON body posted to it."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        posts = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                posts.append(
                    {
                        "path": self.path,
                        "content_type": self.headers.get("Content-Type"),
                        "body": json.loads(body.decode("utf-8")),
                    }
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/alerts"

    def __enter__(self) -> Webhook:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@functools.cache
def dag_stage_order() -> tuple[str, ...]:
    """The DAG's stage task ids in the order they run (dags/socorg_nightly.py is the one place it is
    written); the `dbt.*` model tasks left out: they report on `transform`'s build."""
    spec = importlib.util.spec_from_file_location("socorg_nightly_for_tests", DAGS / "socorg_nightly.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag, order, done = module.dag, [], set()
    while len(order) < len(dag.task_ids):
        ready = sorted(t for t in dag.task_ids if t not in done and dag.get_task(t).upstream_task_ids <= done)
        order += ready
        done.update(ready)
    return tuple(t for t in order if not t.startswith("dbt."))


def run_night_in_process(night) -> None:
    """A night's stages run in-process in the DAG's order: the exports are there (no sensor), and no
    PostgreSQL connection is configured (its load is left out)."""
    from ingest.orchestration import stages

    for task_id in dag_stage_order():
        if task_id not in {"wait_for_registry", "publish_postgres"}:
            getattr(stages, task_id)(night)
