"""The layer contract of tidb2mysql/ and flows/: who may import whom (pure: reads the source).

    entry   cli, commands
    flows   flows/ (Bytewax wiring)
    stages  replication, fullload, schema, ops, verify, simulator
    shared  ddl, selection, drainer, input, mysql (the target layer), config, events, ...

A unit (a subpackage of tidb2mysql, a top-level module, or flows/) imports only units of its
own layer or of a lower one, and the import graph between units has no cycle. Every import
counts, including those inside functions and under ``TYPE_CHECKING``: a function-level import
that dodges a cycle still couples the two units. The target layer (tidb2mysql/mysql/) imports
nothing but config, events and errors.

``KNOWN`` lists the edges that still break the contract, each with the step of issue 18 that
removes it. The test fails on any other violation, and also when a listed edge no longer
exists (delete it from the list: the list only shrinks).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LAYERS: dict[str, tuple[str, ...]] = {
    "entry": ("cli", "commands"),
    "flows": ("flows",),
    "stages": ("replication", "fullload", "schema", "ops", "verify", "simulator"),
    "shared": ("ddl", "selection", "drainer", "input", "mysql", "config", "events", "kafka_settings",
               "failpoints", "compare", "launch", "errors"),
}
RANK = {unit: i for i, units in enumerate(LAYERS.values()) for unit in units}
MYSQL_LAYER_MAY_IMPORT = {"config", "events", "errors"}

# (importer, imported): why it is still there, and which step of issue 18 removes it.
KNOWN: dict[tuple[str, str], str] = {
    ("ops", "replication"): "precheck/status read Kafka through replication/source.py (the input seam, "
                            "tidb2mysql/input/, takes the reader; runtime services fencing/metrics/shutdown "
                            "are imported the other way)",
}


def _unit(module: str) -> str | None:
    """The unit of a dotted module name, or None outside tidb2mysql/flows."""
    parts = module.split(".")
    if parts[0] == "flows":
        return "flows"
    if parts[0] != "tidb2mysql" or len(parts) == 1:
        return None
    head = parts[1]
    if (ROOT / "tidb2mysql" / head).is_dir() or (ROOT / "tidb2mysql" / f"{head}.py").exists():
        return head
    return None  # a name from tidb2mysql/__init__.py (e.g. __version__)


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


@lru_cache(maxsize=1)
def import_edges() -> dict[tuple[str, str], list[str]]:
    """(importer unit, imported unit) -> the places (file:line) that import across."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    files = sorted((ROOT / "tidb2mysql").rglob("*.py")) + sorted((ROOT / "flows").glob("*.py"))
    for path in files:
        if path == ROOT / "tidb2mysql" / "__init__.py":
            continue  # the package's version string only
        src = _unit(_module_name(path))
        assert src is not None, path
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from tidb2mysql import db` names a module; `from x.y import Name` names x.y
                targets = [f"{node.module}.{a.name}" for a in node.names] if node.module == "tidb2mysql" \
                    else [node.module]
            else:
                continue
            for target in targets:
                dst = _unit(target)
                if dst is not None and dst != src:
                    edges[(src, dst)].append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return edges


def _cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components with more than one unit (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(set(graph) | {b for _, b in edges}):
        if v not in index:
            visit(v)
    return out


def test_every_unit_has_a_layer():
    units = {u for edge in import_edges() for u in edge}
    units |= {p.stem for p in (ROOT / "tidb2mysql").iterdir()
              if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__init__")}
    missing = sorted(units - set(RANK))
    assert not missing, f"put these in a layer of tests/unit/test_layers.py: {missing}"


def test_no_upward_import_and_the_target_layer_imports_no_stage():
    edges = import_edges()
    bad = []
    for (src, dst), where in sorted(edges.items()):
        if (src, dst) in KNOWN:
            continue
        if RANK[dst] < RANK[src] or (src == "mysql" and dst not in MYSQL_LAYER_MAY_IMPORT):
            bad.append(f"{src} -> {dst}: {', '.join(where[:3])}")
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_no_import_cycle_between_units():
    edges = {e for e in import_edges() if e not in KNOWN}
    assert _cycles(edges) == [], "import cycles between units"


def test_known_violations_still_exist():
    """An exception that is no longer needed is deleted from KNOWN, so the list only shrinks."""
    stale = sorted(set(KNOWN) - set(import_edges()))
    assert not stale, f"no longer imported, remove from KNOWN: {stale}"


def test_the_checker_sees_violations():
    """The checks above can fail: a made-up upward edge and a made-up cycle are caught."""
    assert _cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [["a", "b", "c"]]
    assert RANK["mysql"] > RANK["replication"] > RANK["flows"] > RANK["commands"]
    assert ("mysql", "config") in import_edges()  # the walker finds real imports
