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


class LDict(dict):
    """A dict that remembers its own line and the line of each key."""

    line: int = 0
    source: str | None = None
    lines: dict

    def line_of(self, key: Any) -> int:
        return self.lines.get(key, self.line)


class LList(list):
    """A list that remembers its own line and the line of each item."""

    line: int = 0
    source: str | None = None
    lines: list

    def line_of(self, index: int) -> int:
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


def load_located(text: str, source: str) -> Any:
    """Parse YAML text into LDict/LList/LStr values; syntax errors become RubricError with a line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        problem = e.problem or e.context or "syntax error"
        raise RubricError(f"YAML syntax error: {problem}", source, line) from None
    except yaml.YAMLError as e:
        raise RubricError(f"YAML syntax error: {e}", source) from None
    if node is None:
        raise RubricError("empty rubric file", source, 1)
    try:
        return _build(node, source)
    except yaml.constructor.ConstructorError as e:
        mark = e.problem_mark
        raise RubricError(f"YAML error: {e.problem}", source, mark.line + 1 if mark else None) from None


def line_of(value: Any, default: int | None = None) -> int | None:
    return getattr(value, "line", None) or default
