"""Measure the shape of the code (issue 15), read from the source with ``ast`` (nothing imported):

1. lines per module, and the modules over ``MAX_LINES`` once data tables (module-level literal
   dicts/lists/sets/tuples) are left out;
2. import cycles among the modules of ``qa/`` (module-level and function-level imports, relative
   ones resolved);
3. the places that assemble the pipeline: calls of ``qa.pipeline``'s compositions and steps
   (``process_call``, ``*_step``, ``CALL_STEPS``, ``to_record``) and functions that chain two or
   more of its stages themselves, outside ``qa/pipeline.py``;
4. files outside ``qa/store/`` that run SQL: ``sqlalchemy.text``, ``.execute(`` /
   ``exec_driver_sql``, ``sqlite3`` / ``psycopg`` imports, SQL statements in string literals;
5. docstring coverage of public functions, classes and public methods of public classes
   (Alembic migration scripts not counted).

    python bench/architecture.py [--out bench/results/architecture.md]

Prints a summary and writes the full report (markdown). Exit 0 always: this measures, it does not
judge (tests/test_architecture.py and tests/test_store_layout.py do).
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400

# qa.pipeline: its entry points (what commands and pages call), the steps it chains (a caller that
# chains them itself assembles the pipeline a second time) and the single stages
ENTRY_POINTS = {"process_call", "score_each", "score_transcripts", "score_transcript", "score_batch",
                "transcribe_recording"}
STEPS = {"read_step", "score_step", "metrics_step", "redact_step", "to_record", "CALL_STEPS"}
STAGES = {"decode", "transcribe", "assign_roles", "read_transcript", "prepare", "score", "compute_metrics", "redact"}
# the layers under the stages: a caller outside qa/pipeline.py that chains these rebuilds a stage
LOWER_STAGES = {("qa.analysis.roles", "assign_roles"), ("qa.rubric.engine", "score_prepared"),
                ("qa.rubric.infer", "infer_language"), ("qa.rubric.infer", "infer_call_types"),
                ("qa.redact", "redact_transcript"), ("qa.transcribe.core", "transcribe_audio"),
                ("qa.audio", "load_audio"), ("qa.analysis.metrics", "compute_metrics")}
SQL_RE = re.compile(r"^\s*(SELECT\s.+\sFROM\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|CREATE\s+(TABLE|INDEX)\s|"
                    r"ALTER\s+TABLE\s|DROP\s+(TABLE|INDEX)\s|PRAGMA\s)", re.I | re.S)


# ---------------------------------------------------------------------------------- modules
@dataclass
class Module:
    """One ``.py`` file of the package: its dotted name, path and parsed tree."""

    name: str
    path: Path
    is_pkg: bool
    tree: ast.Module
    lines: int = 0
    data_lines: int = 0


def modules(package: Path, root: Path | None = None) -> dict[str, Module]:
    """Every module under ``package`` (a folder), by dotted name relative to ``root``."""
    root = root or package.parent
    out = {}
    for p in sorted(package.rglob("*.py")):
        parts = list(p.relative_to(root).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_pkg else parts)
        text = p.read_text(encoding="utf-8")
        tree = ast.parse(text)
        m = Module(name, p, is_pkg, tree, len(text.splitlines()))
        m.data_lines = _data_table_lines(tree)
        out[name] = m
    return out


def _is_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(_is_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is None or _is_literal(k) for k in node.keys) and all(_is_literal(v) for v in node.values)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in {"frozenset", "set", "tuple"}:
        return all(_is_literal(a) for a in node.args)
    return False


def _data_table_lines(tree: ast.Module) -> int:
    """Lines of module-level assignments of literal containers spanning 3+ lines (word tables)."""
    n = 0
    for node in tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if value is not None and not isinstance(value, ast.Constant) and _is_literal(value):
            span = node.end_lineno - node.lineno + 1
            if span >= 3:
                n += span
    return n


# ---------------------------------------------------------------------------------- imports
def imported(mod: Module, known: dict[str, Module]) -> list[tuple[str, str | None, str, int]]:
    """``(module, name or None, local alias, line)`` for every import of ``mod``, relative ones
    resolved; ``from x import y`` gives module ``x.y`` when that is a module, else ``(x, y)``."""
    here = mod.name if mod.is_pkg else mod.name.rpartition(".")[0]
    out = []
    for node in ast.walk(mod.tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out.append((a.name, None, a.asname or a.name.split(".")[0], node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = here.split(".")
                anchor = parts[:len(parts) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for a in node.names:
                sub = f"{base}.{a.name}"
                if sub in known:
                    out.append((sub, None, a.asname or a.name, node.lineno))
                else:
                    out.append((base, a.name, a.asname or a.name, node.lineno))
    return out


def import_graph(mods: dict[str, Module]) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (the nearest known parent of a name)."""
    graph = {}
    for name, mod in mods.items():
        edges = set()
        for target, _, _, _ in imported(mod, mods):
            while target and target not in mods:
                target = target.rpartition(".")[0]
            if target and target != name:
                edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []
    for root in sorted(graph):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(graph[root])))]
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in graph:
                    continue
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on_stack.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return sorted(out)


# ---------------------------------------------------------------------------------- pipeline
@dataclass
class Site:
    """A place in the code: file, line, enclosing function and what it does there."""

    path: str
    line: int
    function: str
    what: str


def _functions(tree: ast.Module):
    """(qualified name, node) of every function, and ('<module>', tree) for module-level code."""
    yield "<module>", tree
    stack = [("", n) for n in tree.body]
    while stack:
        prefix, node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield prefix + node.name, node
            stack.extend((prefix + node.name + ".", n) for n in node.body)
        elif isinstance(node, ast.ClassDef):
            stack.extend((prefix + node.name + ".", n) for n in node.body)


def _own_calls(fn: ast.AST):
    """Call nodes in ``fn`` itself (not in functions defined inside it)."""
    todo = list(ast.iter_child_nodes(fn))
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)) and fn is not n:
            if not isinstance(fn, ast.Module) or not isinstance(n, ast.Lambda):
                continue
        if isinstance(n, ast.Call):
            yield n
        todo.extend(ast.iter_child_nodes(n))


def _called_names(mod: Module, mods: dict[str, Module]) -> dict[str, tuple[str, str]]:
    """Local name -> (module, name) for names imported from the package's modules; module
    aliases map to (module, '*')."""
    out = {}
    for target, name, alias, _ in imported(mod, mods):
        if name is None:
            out[alias] = (target, "*")
        else:
            out[alias] = (target, name)
    return out


def pipeline_sites(mods: dict[str, Module], root: Path,
                   pipeline: str = "qa.pipeline") -> tuple[list[Site], list[Site], list[Site]]:
    """(entry points used, assembly points, direct calls of lower layers) outside ``pipeline``.
    An entry point is a call of one of ``ENTRY_POINTS``; an assembly point calls one of ``STEPS``
    or chains two or more ``STAGES`` in one function (the pipeline put together a second time); a
    direct call is a use of a layer under the stages (``LOWER_STAGES``)."""
    entries, assembled, lower = [], [], []
    for name, mod in mods.items():
        if name == pipeline:
            continue
        names = _called_names(mod, mods)
        rel = mod.path.relative_to(root).as_posix()
        for fname, fn in _functions(mod.tree):
            stages_here = []
            for call in _own_calls(fn):
                f = call.func
                src = None
                if isinstance(f, ast.Name) and f.id in names:
                    src = names[f.id]
                elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and names.get(f.value.id, ("", ""))[1] == "*":
                    src = (names[f.value.id][0], f.attr)
                if src is None:
                    continue
                module, attr = src
                if module == pipeline and attr in ENTRY_POINTS:
                    entries.append(Site(rel, call.lineno, fname, f"{attr}()"))
                elif module == pipeline and attr in STEPS:
                    assembled.append(Site(rel, call.lineno, fname, f"{attr}()"))
                elif module == pipeline and attr in STAGES:
                    stages_here.append((call.lineno, attr))
                elif (module, attr) in LOWER_STAGES and not module.startswith(name):
                    lower.append(Site(rel, call.lineno, fname, f"{module}.{attr}()"))
            if len({a for _, a in stages_here}) >= 2:
                line = min(ln for ln, _ in stages_here)
                assembled.append(Site(rel, line, fname, " -> ".join(a for _, a in sorted(stages_here))))
    def key(s: Site):
        return s.path, s.line

    return sorted(entries, key=key), sorted(assembled, key=key), sorted(lower, key=key)


# ---------------------------------------------------------------------------------- SQL
def _docstring_nodes(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def sql_sites(mod: Module, root: Path) -> list[Site]:
    """Where ``mod`` runs SQL by itself: sqlalchemy ``text``, ``.execute``/``exec_driver_sql``,
    DB-API driver imports, SQL statements in string literals (docstrings not counted)."""
    rel = mod.path.relative_to(root).as_posix()
    out = []
    text_names = set()
    for node in ast.walk(mod.tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            text_names |= {a.asname or a.name for a in node.names if a.name == "text"}
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in {"sqlite3", "psycopg", "psycopg2"}:
                    out.append(Site(rel, node.lineno, "", f"import {a.name}"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in {"sqlite3", "psycopg", "psycopg2"}:
            out.append(Site(rel, node.lineno, "", f"from {node.module} import ..."))
    docs = _docstring_nodes(mod.tree)
    for node in ast.walk(mod.tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in text_names:
                out.append(Site(rel, node.lineno, "", "sqlalchemy text()"))
            elif isinstance(f, ast.Attribute) and f.attr == "text" and isinstance(f.value, ast.Name) \
                    and f.value.id in {"sqlalchemy", "sa"}:
                out.append(Site(rel, node.lineno, "", "sqlalchemy.text()"))
            elif isinstance(f, ast.Attribute) and f.attr in {"execute", "exec_driver_sql", "executemany", "executescript"}:
                out.append(Site(rel, node.lineno, "", f".{f.attr}()"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs \
                and SQL_RE.match(node.value):
            out.append(Site(rel, node.lineno, "", f"SQL literal {node.value.strip()[:40]!r}"))
    return sorted(out, key=lambda s: s.line)


# ---------------------------------------------------------------------------------- docstrings
def public_api(mod: Module) -> list[tuple[str, int, bool]]:
    """(qualified name, line, has docstring) of the public functions and classes of ``mod`` and the
    public methods of its public classes (names without a leading '_'; private modules and Alembic
    migration scripts, whose ``upgrade``/``downgrade`` are entry points of Alembic, skipped)."""
    if any(part.startswith("_") for part in mod.name.split(".")[1:] if part != "__init__") \
            or ".migrations." in mod.name:
        return []
    out = []
    for node in mod.tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            out.append((node.name, node.lineno, ast.get_docstring(node) is not None))
            if isinstance(node, ast.ClassDef):
                for sub in node.body:
                    if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and not sub.name.startswith("_"):
                        out.append((f"{node.name}.{sub.name}", sub.lineno, ast.get_docstring(sub) is not None))
    return out


# ---------------------------------------------------------------------------------- report
@dataclass
class Report:
    """Everything measured, ready to print."""

    sizes: list[tuple[str, int, int]] = field(default_factory=list)  # path, lines, lines without data tables
    cycles: list[list[str]] = field(default_factory=list)
    entries: list[Site] = field(default_factory=list)
    assembled: list[Site] = field(default_factory=list)
    lower: list[Site] = field(default_factory=list)
    sql: list[Site] = field(default_factory=list)
    docs: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> (documented, public)

    @property
    def over(self) -> list[tuple[str, int, int]]:
        """Modules over ``MAX_LINES`` without their data tables."""
        return [s for s in self.sizes if s[2] > MAX_LINES]

    @property
    def doc_total(self) -> tuple[int, int]:
        """(documented, public) over every module."""
        return sum(d for d, _ in self.docs.values()), sum(n for _, n in self.docs.values())


def measure(root: Path = ROOT, package: str = "qa", store: str = "qa/store/") -> Report:
    """Measure ``root/package``."""
    mods = modules(root / package, root)
    rep = Report()
    for name, m in mods.items():
        rel = m.path.relative_to(root).as_posix()
        rep.sizes.append((rel, m.lines, m.lines - m.data_lines))
        api = public_api(m)
        rep.docs[rel] = (sum(1 for _, _, d in api if d), len(api))
        if not rel.startswith(store):
            rep.sql.extend(sql_sites(m, root))
    rep.sizes.sort(key=lambda s: -s[1])
    rep.cycles = cycles(import_graph(mods))
    rep.entries, rep.assembled, rep.lower = pipeline_sites(mods, root, f"{package}.pipeline")
    return rep


def markdown(rep: Report) -> str:
    """The full report as markdown."""
    documented, public = rep.doc_total
    out = ["# Architecture measures (bench/architecture.py)", "",
           "Read from the source of `qa/` with `ast`. Regenerate: `python bench/architecture.py`.", "",
           "| measure | value |", "|---|---|",
           f"| modules | {len(rep.sizes)} |",
           f"| lines (all modules) | {sum(s[1] for s in rep.sizes)} |",
           f"| modules over {MAX_LINES} lines without data tables | {len(rep.over)} |",
           f"| import cycles | {len(rep.cycles)} |",
           f"| places that assemble the pipeline (qa/pipeline.py + others) | {1 + len(rep.assembled)} |",
           f"| calls of the pipeline's entry points outside qa/pipeline.py | {len(rep.entries)} |",
           f"| direct calls of the layers under the stages outside qa/pipeline.py | {len(rep.lower)} |",
           f"| SQL sites outside qa/store/ | {len(rep.sql)} |",
           f"| public functions/classes/methods with a docstring | {documented} / {public} "
           f"({100 * documented / max(public, 1):.0f} %) |", ""]
    out += [f"## Modules over {MAX_LINES} lines", "", "| module | lines | without data tables |", "|---|---|---|"]
    out += [f"| `{p}` | {n} | {c}{' **over**' if c > MAX_LINES else ''} |" for p, n, c in rep.sizes if n > MAX_LINES]
    out += ["", "## Import cycles", ""] + ([f"- {' <-> '.join(c)}" for c in rep.cycles] or ["none"])
    out += ["", "## Calls of the pipeline's entry points", ""]
    out += [f"- `{s.path}:{s.line}` {s.function}: {s.what}" for s in rep.entries] or ["none"]
    out += ["", "## Places that assemble the pipeline again (outside qa/pipeline.py)", ""]
    out += [f"- `{s.path}:{s.line}` {s.function}: {s.what}" for s in rep.assembled] or ["none"]
    out += ["", "## Direct calls of the layers under the stages (outside qa/pipeline.py)", ""]
    out += [f"- `{s.path}:{s.line}` {s.function}: {s.what}" for s in rep.lower] or ["none"]
    out += ["", "## SQL outside qa/store/", ""]
    out += [f"- `{s.path}:{s.line}` {s.what}" for s in rep.sql] or ["none"]
    by_pkg: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for p, (d, n) in rep.docs.items():
        parts = p.split("/")
        key = "/".join(parts[:2]) + "/" if len(parts) > 2 else parts[0] + "/ (top level)"
        by_pkg[key][0] += d
        by_pkg[key][1] += n
    out += ["", "## Docstring coverage of the public API", "", "| package | documented | public | % |", "|---|---|---|---|"]
    out += [f"| `{k}` | {d} | {n} | {100 * d / max(n, 1):.0f} |" for k, (d, n) in sorted(by_pkg.items())]
    out += ["", "Least documented modules (5+ public names):", ""]
    worst = sorted(((d / n, p, d, n) for p, (d, n) in rep.docs.items() if n >= 5))[:10]
    out += [f"- `{p}`: {d}/{n}" for _, p, d, n in worst]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Measure, print the summary, write the report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "architecture.md")
    ap.add_argument("--root", type=Path, default=ROOT, help="project root (default: this checkout)")
    args = ap.parse_args(argv)
    rep = measure(args.root)
    text = markdown(rep)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text.split("\n## ")[0].rstrip())
    print(f"\nreport: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
