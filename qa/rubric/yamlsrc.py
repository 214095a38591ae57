"""YAML with line numbers: every mapping and list remembers where it (and each key) was written.

``yaml.compose`` gives the node tree with marks; we build plain Python values from it while
keeping the 1-based line of each mapping key and list item, so that every validation error can
name its file and line.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import yaml
import yaml.constructor

from ..errors import RubricError
from ..langdata import SAFE_LOADER

# Limits against hostile YAML (a rubric typed in the dashboard's editor or handed to
# ``qa rubric validate``). The bundled comune.yaml is 68 KB and 3 730 values.
MAX_RUBRIC_BYTES = 1024 * 1024  # a rubric file or editor text larger than this is refused unread (comune.yaml: 142 KB)
MAX_YAML_VALUES = 100_000  # values after expanding aliases ("billion laughs": 300 bytes -> 10^9 values)


class LDict(dict):
    """A dict that remembers its own line and the line of each key."""

    line: int = 0
    source: str | None = None
    lines: dict

    def line_of(self, key: Any) -> int:
        """The 1-based line where ``key`` was written, else the mapping's own line."""
        return self.lines.get(key, self.line)


class LList(list):
    """A list that remembers its own line and the line of each item."""

    line: int = 0
    source: str | None = None
    lines: list

    def line_of(self, index: int) -> int:
        """The 1-based line of item ``index``, else the list's own line."""
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


class LStr(str):
    """A string scalar that remembers its line."""

    line: int = 0
    source: str | None = None


_constructor = yaml.constructor.SafeConstructor()


def _scalar(node: yaml.ScalarNode, source: str | None = None) -> Any:
    value = _constructor.construct_object(node, deep=True)
    if isinstance(value, (_dt.date, _dt.datetime)):
        value = node.value  # versions like 2026-11-29 stay text
    if isinstance(value, str):
        s = LStr(value)
        s.line = node.start_mark.line + 1
        s.source = source
        return s
    return value


def _build(node: yaml.Node, source: str) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node, source)
    if isinstance(node, yaml.SequenceNode):
        out = LList(_build(item, source) for item in node.value)
        out.line = line
        out.source = source
        out.lines = [item.start_mark.line + 1 for item in node.value]
        return out
    if isinstance(node, yaml.MappingNode):
        out = LDict()
        out.line = line
        out.source = source
        out.lines = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise RubricError("a mapping key must be a plain name", source, key_node.start_mark.line + 1)
            key = _scalar(key_node, source)
            key = str(key) if not isinstance(key, bool) else ("true" if key else "false")
            if key in out:
                raise RubricError(f"duplicate key {key!r}", source, key_node.start_mark.line + 1)
            out[key] = _build(value_node, source)
            out.lines[key] = key_node.start_mark.line + 1
        return out
    raise RubricError(f"unsupported YAML node {node.tag}", source, line)


def _expanded_size(root: yaml.Node, source: str) -> None:
    """Refuse a node tree that aliases would blow up (or that refers to itself), before building it.

    ``yaml.compose`` keeps an alias as a second reference to the anchored node, so the tree is
    small however often it is repeated; building Python values copies every repetition. The size
    of each node after expansion is counted once per node (memoised), so this is linear in the
    file; the error names the innermost mapping or list whose expansion passes the limit."""
    sizes: dict[int, int] = {}
    busy: set[int] = set()
    worst: list[yaml.Node] = []
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            busy.discard(key)
            if isinstance(node, yaml.SequenceNode):
                children = node.value
            else:
                children = [n for pair in node.value for n in pair]
            total = 1 + sum(sizes[id(c)] for c in children)
            if total > MAX_YAML_VALUES and not worst:
                worst.append(node)
            sizes[key] = min(total, MAX_YAML_VALUES + 1)
            continue
        if key in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[key] = 1
            continue
        if key in busy:
            raise RubricError("YAML alias refers to the list or mapping that contains it", source,
                              node.start_mark.line + 1)
        busy.add(key)
        stack.append((node, True))
        children = node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
        for c in reversed(children):
            if id(c) in busy:
                raise RubricError("YAML alias refers to the list or mapping that contains it", source,
                                  c.start_mark.line + 1)
            if id(c) not in sizes:
                stack.append((c, False))
    if worst:
        raise RubricError(f"YAML aliases expand to more than {MAX_YAML_VALUES} values (refused: an alias bomb?)",
                          source, worst[0].start_mark.line + 1)


def check_size(n_bytes: int, source: str) -> None:
    """RubricError when a rubric text of ``n_bytes`` is over ``MAX_RUBRIC_BYTES``."""
    if n_bytes > MAX_RUBRIC_BYTES:
        raise RubricError(f"rubric too large: over {MAX_RUBRIC_BYTES // 1024} KiB (refused unread)", source)


def load_located(text: str, source: str) -> Any:
    """Parse YAML text into LDict/LList/LStr values; syntax errors become RubricError with a line.
    Texts over ``MAX_RUBRIC_BYTES`` and aliases expanding to over ``MAX_YAML_VALUES`` are refused."""
    check_size(len(text.encode("utf-8", "surrogatepass")), source)
    try:
        node = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        problem = e.problem or e.context or "syntax error"
        raise RubricError(f"YAML syntax error: {problem}", source, line) from None
    except yaml.YAMLError as e:
        raise RubricError(f"YAML syntax error: {e}", source) from None
    if node is None:
        raise RubricError("empty rubric file", source, 1)
    _expanded_size(node, source)
    try:
        return _build(node, source)
    except yaml.constructor.ConstructorError as e:
        mark = e.problem_mark
        raise RubricError(f"YAML error: {e.problem}", source, mark.line + 1 if mark else None) from None


def line_of(value: Any, default: int | None = None) -> int | None:
    """The line a value loaded by ``load_located`` remembers, else ``default`` (plain values and line 0
    have none)."""
    return getattr(value, "line", None) or default
