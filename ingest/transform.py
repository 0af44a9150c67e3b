"""Build the marts with dbt (DuckDB) in-process, then dbt's docs; failures name the failing nodes."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

from ingest.errors import GateError
from ingest.paths import DBT_DIR


def _dbt(data: Path, export_date: dt.date, *command: str):
    from dbt.cli.main import dbtRunner

    os.environ["SOCORG_DATA"] = str(data)
    runs = data / "runs" / "dbt"
    args = [
        *command,
        "--project-dir",
        str(DBT_DIR),
        "--profiles-dir",
        str(DBT_DIR),
        "--target-path",
        str(runs / "target"),
        "--log-path",
        str(runs / "logs"),
        "--vars",
        json.dumps({"snapshot_date": export_date.isoformat()}),
    ]
    return dbtRunner().invoke(args)


def build_marts(data: Path, export_date: dt.date) -> dict:
    """`dbt build` (seeds, models, data and unit tests) for the night; raise GateError on any failure."""
    result = _dbt(data, export_date, "build")
    if not result.success:
        problems = []
        for node in getattr(result.result, "results", None) or []:
            if str(node.status) in ("error", "fail", "runtime error"):
                problems.append(f"{node.node.unique_id}: {str(node.message or '').strip()[:300]}")
        detail = "\n  ".join(problems) or str(result.exception)
        raise GateError(f"dbt build failed for {export_date.isoformat()}:\n  {detail}")
    statuses = [str(n.status) for n in result.result.results]
    _docs(data, export_date)
    return {"nodes": len(statuses), "passed": statuses.count("pass") + statuses.count("success")}


def _docs(data: Path, export_date: dt.date) -> None:
    """dbt's docs as one static page under <data>/docs/dbt/."""
    result = _dbt(data, export_date, "docs", "generate", "--static")
    page = data / "runs" / "dbt" / "target" / "static_index.html"
    if result.success and page.exists():
        target = data / "docs" / "dbt" / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page, target)
