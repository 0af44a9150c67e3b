"""What the night's dbt build came to, node by node (`runs/<date>/dbt_nodes.json`): written by the build,
updated when a model's task builds it again, read by the model tasks, lineage and the publish gate."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

from ingest.common.errors import GateError
from ingest.common.files import read_json, write_json_atomically

PASSED = {"success", "pass", "warn"}  # a warning test does not stop a night
ANSI_COLOURS = re.compile(r"\x1b\[[0-9;]*m")  # dbt colours a unit test's diff for a terminal


def record_file(data: Path, export_date: dt.date) -> Path:
    return data / "runs" / export_date.isoformat() / "dbt_nodes.json"


def node_results(result) -> dict[str, dict]:
    """Each node of a dbt invocation's results: status, message, seconds and failing rows."""
    nodes = {}
    for node in getattr(result.result, "results", None) or []:
        message = ANSI_COLOURS.sub("", str(node.message or "")).strip()
        nodes[node.node.unique_id] = {
            "status": str(node.status),
            "message": message[:500],
            "seconds": round(float(node.execution_time or 0.0), 3),
            "failures": node.failures,
        }
    return nodes


def write_record(data: Path, export_date: dt.date, nodes: dict[str, dict], fresh: bool) -> dict:
    """The night's record: a fresh build replaces it; a node built again updates its entries."""
    path = record_file(data, export_date)
    record = None if fresh else read_record(data, export_date)
    if record is None:
        record = {"build": uuid.uuid4().hex, "nodes": {}}
    record["nodes"].update(nodes)
    record["updated_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    write_json_atomically(path, record)
    return record


def read_record(data: Path, export_date: dt.date) -> dict | None:
    return read_json(record_file(data, export_date), default=None)


def forget_record(data: Path, export_date: dt.date) -> None:
    """A night starting again has no build yet."""
    record_file(data, export_date).unlink(missing_ok=True)


def outcome(record: dict, node: dict) -> tuple[bool, str]:
    """Whether a drawn node (graph.json) built and passed its tests tonight, and how to say it."""
    built = record["nodes"].get(node["id"])
    if built is None:
        return False, "not in tonight's dbt build"
    if built["status"] == "skipped":
        return False, "not built: a model it depends on failed"
    if built["status"] not in PASSED:
        return False, f"{node['type']} failed: {built['message']}"
    failed = []
    for test in node["tests"]:
        result = record["nodes"].get(test["id"])
        if result is None or result["status"] in PASSED:
            continue
        on = f"({test['column']})" if test["column"] else ""
        rows = f": {row_count(result['failures'])}" if result.get("failures") else f": {result['message']}"
        failed.append(f"test {test['name']}{on} {result['status']}{rows}")
    if failed:
        return False, "; ".join(failed)
    tests, held = len(node["tests"]), len(node.get("constraints", []))
    return True, f"{built['status']} in {built['seconds']:.2f} s" + (
        f", {tests} tests passed" if tests else ""
    ) + (f", {held} constraint{'' if held == 1 else 's'} held" if held else "")


def constraint_results(record: dict, node: dict) -> list[tuple[str, bool, str]]:
    """The constraints a drawn node's contract had DuckDB enforce tonight (graph.json), as (type,
    held, column): all held when the table was built; when the build failed, the one DuckDB names in
    its error ("NOT NULL constraint failed: organizations.org_id") did not, and the others are unknown."""
    built = record["nodes"].get(node["id"])
    if built is None or built["status"] == "skipped":
        return []
    if built["status"] in PASSED:
        return [(kind, True, column) for column, kind in node.get("constraints", [])]
    return [
        (kind, False, column)
        for column, kind in node.get("constraints", [])
        if re.search(
            rf"{kind.replace('_', ' ')} constraint failed: [^\s.]+\.{re.escape(column)}\b",
            built["message"],
            re.IGNORECASE,
        )
    ]


def data_test_lines(record: dict, node: dict) -> list[str]:
    """A line per data test of a drawn node, as its task's log shows them: name, column, status, rows;
    then a line per constraint DuckDB enforced as the table was built."""
    lines = []
    for test in node["tests"]:
        result = record["nodes"].get(test["id"])
        on = f"({test['column']})" if test["column"] else ""
        if result is None:
            lines.append(f"test {test['name']}{on}: not run tonight")
            continue
        rows = f", {row_count(result['failures'])}" if result.get("failures") else ""
        lines.append(f"test {test['name']}{on}: {result['status']}{rows} ({result['seconds']:.2f} s)")
    for kind, held, column in constraint_results(record, node):
        lines.append(
            f"constraint {kind}({column}): {'held' if held else 'failed'} (enforced as the table was built)"
        )
    return lines


def row_count(n: int) -> str:
    """n rows in words: 1 row, 3 rows."""
    return f"{n} row" if n == 1 else f"{n} rows"


def check_built(data: Path, export_date: dt.date) -> None:
    """Publish only what passed: every node of the night's dbt build succeeded or passed its test."""
    record = read_record(data, export_date)
    if record is None:
        raise GateError(f"no dbt build is recorded for {export_date} ({record_file(data, export_date)})")
    failing = [
        f"{uid}: {n['status']} {n['message'][:200]}".strip()
        for uid, n in sorted(record["nodes"].items())
        if n["status"] not in PASSED
    ]
    if failing:
        raise GateError(
            f"the dbt build of {export_date} did not pass; nothing is published:\n  " + "\n  ".join(failing)
        )
