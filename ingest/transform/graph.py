"""The dbt project's graph as the DAG draws it: models and seeds, their parents, columns and tests.

Written to `dbt_project/graph.json` from dbt's manifest when the project changes (`make dbt-graph`;
a test fails while it is stale), so that parsing the DAG runs no dbt.
"""

from __future__ import annotations

import json
from pathlib import Path

from ingest.common.paths import DBT_DIR

GRAPH_FILE = DBT_DIR / "graph.json"
DRAWN = ("model", "seed")  # the node types that become tasks; tests go with the node they test


def graph_from_manifest(manifest: dict) -> dict:
    """Models and seeds in dependency order, each with its parents (models and seeds), the raw sources
    it reads, its columns and contract types, the data tests that test it (unit tests left out) and
    the constraints its contract has DuckDB enforce as the table is built ([column, type])."""
    nodes = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] in DRAWN}
    tests: dict[str, list[dict]] = {uid: [] for uid in nodes}
    for uid, node in sorted(manifest["nodes"].items()):
        if node["resource_type"] != "test":
            continue
        tested = [node["attached_node"]] if node.get("attached_node") else node["depends_on"]["nodes"]
        for target in tested:
            if target in tests:
                metadata = node.get("test_metadata") or {}
                tests[target].append(
                    {
                        "id": uid,
                        "name": metadata.get("name") or node["name"],
                        "column": node.get("column_name"),
                    }
                )
    drawn = {}
    for uid in _in_dependency_order(nodes):
        node = nodes[uid]
        depends = node.get("depends_on", {}).get("nodes", [])
        drawn[node["name"]] = {
            "id": uid,
            "type": node["resource_type"],
            "schema": node["schema"],
            "materialized": node["config"].get("materialized", node["resource_type"]),
            "parents": [nodes[p]["name"] for p in depends if p in nodes],
            "sources": sorted(
                f"{manifest['sources'][p]['source_name']}.{manifest['sources'][p]['name']}"
                for p in depends
                if p in manifest.get("sources", {})
            ),
            "columns": [[c["name"], c.get("data_type")] for c in node.get("columns", {}).values()],
            "tests": tests[uid],
            "constraints": [
                [c["name"], constraint["type"]]
                for c in node.get("columns", {}).values()
                for constraint in c.get("constraints", [])
            ],
        }
    return {"project": manifest["metadata"].get("project_name", "socorg"), "nodes": drawn}


def _in_dependency_order(nodes: dict[str, dict]) -> list[str]:
    """Node ids with every parent before its children (ties by name, for a stable file)."""
    done: list[str] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid in seen:
            return
        seen.add(uid)
        for parent in sorted(nodes[uid].get("depends_on", {}).get("nodes", [])):
            if parent in nodes:
                visit(parent)
        done.append(uid)

    for uid in sorted(nodes, key=lambda u: nodes[u]["name"]):
        visit(uid)
    return done


def load_graph(path: Path = GRAPH_FILE) -> dict:
    """The committed graph (what the DAG draws)."""
    return json.loads(path.read_text(encoding="utf-8"))


def parsed_graph(scratch: Path) -> dict:
    """The graph of the project as it is now: `dbt parse` into `scratch` (no warehouse is opened)."""
    import os

    from dbt.cli.main import dbtRunner

    os.environ.setdefault("SOCORG_DATA", str(scratch))
    os.environ.setdefault("SOCORG_SNAPSHOT_DATE", "2000-01-01")
    target = scratch / "target"
    args = ["parse", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
    result = dbtRunner().invoke([*args, "--target-path", str(target), "--log-path", str(scratch / "logs")])
    if not result.success:
        raise RuntimeError(f"dbt parse failed: {result.exception}")
    return graph_from_manifest(json.loads((target / "manifest.json").read_text(encoding="utf-8")))


def write_graph(graph: dict, path: Path = GRAPH_FILE) -> None:
    path.write_text(json.dumps(graph, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":  # make dbt-graph
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        write_graph(parsed_graph(Path(scratch)))
    print(f"wrote {GRAPH_FILE.relative_to(DBT_DIR.parent)}")
