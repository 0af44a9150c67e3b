"""The code's plan, read from its imports: the stages in their order (land → parse → validate → transform →
publish, orchestration and the CLI on top), no import against it and no loop."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "ingest"
# A package may import those below it, never one above: shared helpers live in common/ and rules/.
FLOORS = {
    "common": 0,
    "rules": 1,
    "land": 2,
    "parse": 3,
    "validate": 4,
    "transform": 5,
    "publish": 6,
    "sample": 6,
    "orchestration": 7,
    "cli": 8,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Each module of ingest/ and the modules of ingest/ it imports (at the top or inside a function)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    found: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ingest"):
                for alias in node.names:  # `from ingest.rules import layouts` imports a module
                    child = f"{node.module}.{alias.name}"
                    targets.add(child if child in modules else node.module)
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.startswith("ingest")}
        found[name] = {t for t in targets if t in modules and t != name}
    return found


def floor(module: str) -> int | None:
    parts = module.split(".")
    return FLOORS.get(parts[1]) if len(parts) > 2 else None


def test_every_package_has_its_floor():
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(FLOORS), "give a new package its place in FLOORS (and the README's layout)"


def back_imports(graph: dict[str, set[str]]) -> list[str]:
    """Imports from a package to one above it."""
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if floor(module) is not None and floor(target) is not None and floor(target) > floor(module)
    )


def loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """The modules that import each other, round and round (Tarjan's strongly connected components)."""
    found, index, low, stack, on_stack = [], {}, {}, [], set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_runs_against_the_stages():
    assert back_imports(imports()) == []


def test_no_loop_of_imports():
    assert loops(imports()) == []


def test_the_checks_see_a_back_import_and_a_loop():
    graph = {
        "ingest.land.landing": {"ingest.parse.workbooks"},  # land reaching forward into parse
        "ingest.parse.workbooks": {"ingest.rules.site"},
        "ingest.rules.site": {"ingest.rules.layouts"},
        "ingest.rules.layouts": {"ingest.rules.site"},
    }
    assert back_imports(graph) == ["ingest.land.landing imports ingest.parse.workbooks"]
    assert loops(graph) == [["ingest.rules.layouts", "ingest.rules.site"]]
    read = imports()  # and the plan read from the code has the arrows the code has
    assert {"ingest.common.paths", "ingest.parse.files"} <= read["ingest.parse.night"]


def test_modules_stay_under_450_lines():
    long = {module_name(p): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 450}
    assert long == {}
