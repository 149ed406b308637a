"""The house rules: no import loops between server packages; the pure packages stay pure."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE_PACKAGES = ("sync", "analysis")
# What a pure package may never import: the server, the web and the database.
FORBIDDEN_IN_PURE = ("server", "flask", "werkzeug", "sqlalchemy", "marshmallow", "psycopg")


def imported_modules(path: Path) -> Iterable[str]:
    """Yield every absolute module name a file imports, at any depth (lazy imports too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def unit_of(module: str) -> str | None:
    """Name the server unit a module belongs to: `server.<package or top-level module>`."""
    parts = module.split(".")
    if parts[0] != "server" or len(parts) < 2:
        return None
    return f"server.{parts[1]}"


def server_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Map each server unit to the other server units it imports (migrations left out)."""
    graph: dict[str, set[str]] = {}
    for path in sorted((root / "server").rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        if "migrations" in rel.parts:
            continue
        source = unit_of(".".join(rel.parts))
        if source is None:
            continue
        targets = graph.setdefault(source, set())
        for module in imported_modules(path):
            target = unit_of(module)
            if target is not None and target != source:
                targets.add(target)
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected groups of more than one unit (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_cycle_finder_sees_a_loop_and_a_clean_chain() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_import_loop_between_server_packages() -> None:
    graph = server_graph()
    assert "server.protocol" in graph and "server.incidents" in graph  # the walk saw the tree
    loops = cycles(graph)
    detail = {
        " <-> ".join(group): {u: sorted(graph[u] & set(group)) for u in group} for group in loops
    }
    assert loops == [], f"import loops between server packages: {detail}"


def test_a_loop_in_a_tree_is_reported(tmp_path: Path) -> None:
    for pkg, imports in (("a", "from server.b.models import X"), ("b", "import server.a.service")):
        (tmp_path / "server" / pkg).mkdir(parents=True)
        (tmp_path / "server" / pkg / "service.py").write_text(f"def f():\n    {imports}\n")
    assert cycles(server_graph(tmp_path)) == [["server.a", "server.b"]]


@pytest.mark.parametrize("package", PURE_PACKAGES)
def test_pure_packages_import_no_server_web_or_database(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    offending = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in files
        for module in imported_modules(path)
        if module.split(".")[0] in FORBIDDEN_IN_PURE
    ]
    assert offending == []


def test_sync_and_analysis_do_not_import_each_other_upwards() -> None:
    # analysis may use sync's small shared facts (clock, ids); sync never needs analysis.
    offending = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted((ROOT / "sync").rglob("*.py"))
        for module in imported_modules(path)
        if module.split(".")[0] == "analysis"
    ]
    assert offending == []
