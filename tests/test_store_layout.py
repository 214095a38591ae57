"""The architecture the store refactor set up (issue 15), read from the source with ``ast``:
only qa/store/ talks to the database, no import cycles in qa/, store modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QA = ROOT / "qa"
# modules outside qa/store that still query the database, each waiting for its owner to call the
# store function named beside it
PENDING: dict[str, str] = {}
MAX_STORE_LINES = 400


def _bench():
    """bench/architecture.py, the one reader of the package's import graph (bench and tests)."""
    import importlib.util
    import sys

    name = "bench_architecture"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "architecture.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


def _graph() -> dict[str, set[str]]:
    """Module -> the modules of qa/ it imports (module level and inside functions)."""
    bench = _bench()
    return bench.import_graph(bench.modules(QA, ROOT))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, in bench/architecture.py)."""
    return _bench().cycles(graph)


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_in_qa():
    graph = _graph()
    assert "qa.store.queries" in graph["qa.dashboard.report"]  # the graph sees relative imports
    assert _cycles(graph) == []


def _talks_to_database(path: Path) -> list[str]:
    """Why ``path`` talks to the database: imports of SQLAlchemy or the store's internals, or a
    ``.session()`` / ``store.engine`` use."""
    why = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            why += [f"import {a.name}" for a in node.names if a.name.split(".")[0] == "sqlalchemy"]
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if mod.split(".")[0] == "sqlalchemy" or mod.endswith(("store.schema", "store.base", "store.rollups")):
                why.append(f"from {'.' * node.level}{mod} import ...")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "session":
            why.append(f"line {node.lineno}: .session()")
        elif isinstance(node, ast.Attribute) and node.attr == "engine" and isinstance(node.value, ast.Name) \
                and node.value.id == "store":
            why.append(f"line {node.lineno}: store.engine")
    return why


def test_only_the_store_talks_to_the_database():
    offenders = {}
    for path in sorted(QA.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("qa/store/") or rel in PENDING:
            continue
        why = _talks_to_database(path)
        if why:
            offenders[rel] = why
    assert offenders == {}, "query through a named function of qa/store/ instead"
    assert _talks_to_database(QA / "store" / "queries.py")  # the check does see a module that queries


def test_store_modules_stay_small():
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
             for p in (QA / "store").glob("*.py")}
    assert "qa/store/repository.py" in sizes and len(sizes) >= 10
    assert {k: v for k, v in sizes.items() if v > MAX_STORE_LINES} == {}
