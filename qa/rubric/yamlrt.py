"""The YAML round trip of the rubric form editor (``qa.rubric.editing``): a rubric file parsed with
ruamel.yaml so that dumping it gives the same text back (comments, key order, quoting,
indentation), plain-Python copies of its values, and edits of its mappings and lists that keep
the comments around them where they were."""

from __future__ import annotations

import difflib
from typing import Any, Mapping

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

from ..errors import RubricError


def parse_rubric_yaml(text: str, source: str) -> tuple[YAML, CommentedMap]:
    """A rubric's text parsed for a round trip (quotes kept, lines never re-wrapped, the file's own
    indentation); RubricError with the line for a syntax error or a text that is no mapping."""
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 1 << 20  # never re-wrap long lines (the phrase lists are written one line per language)
    try:
        data, seq_indent, dash_offset = load_yaml_guess_indent(text, yaml=y)
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        problem = getattr(e, "problem", None) or getattr(e, "context", None) or str(e)
        raise RubricError(f"YAML syntax error: {problem}", source, mark.line + 1 if mark else None) from None
    if not isinstance(data, CommentedMap):
        raise RubricError("a rubric must be a YAML mapping (rubric:, version:, criteria: ...)", source, 1)
    mapping = _mapping_indent(text)
    if dash_offset is None:  # no block sequence yet: the project's style (dash under the key + 2)
        seq_indent, dash_offset = mapping + 2, mapping
    y.indent(mapping=mapping, sequence=seq_indent or mapping + 2, offset=dash_offset)
    return y, data


def _mapping_indent(text: str) -> int:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    for prev, line in zip(lines, lines[1:]):
        ps = prev.rstrip()
        if not ps.endswith(":") or ps.lstrip().startswith("-"):
            continue
        pi, li = len(prev) - len(prev.lstrip(" ")), len(line) - len(line.lstrip(" "))
        if li > pi and not line.lstrip().startswith("-"):
            return li - pi
    return 2


def plain(v: Any) -> Any:
    """A YAML value as plain Python (dicts, lists, str, int, float, bool, None), without the YAML types."""
    if isinstance(v, Mapping):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v)
    return str(v)


def same(a: Any, b: Any) -> bool:
    """Whether two values are equal as plain Python, a bool never equal to a number (true != 1)."""
    a, b = plain(a), plain(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def one_line(v: Any) -> str:
    """A value as one line of flow-style YAML ({condition: x}, [a, b]), strings quoted where needed."""
    v = plain(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {one_line(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(one_line(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str) and (not v or v.startswith("@") or any(ch in v for ch in ":{}[],#&*!|>'\"%`")):
        return dq(v)
    return str(v)


def dq(s: str) -> str:
    """``s`` as a double-quoted YAML string."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lang_phrases(body: Any, lang: str) -> list[str]:
    """The phrases of a collection's body in ``lang``, whitespace collapsed ([] when none)."""
    if not isinstance(body, Mapping):
        return []
    items = body.get(lang)
    if isinstance(items, str):
        return [" ".join(items.split())]
    if isinstance(items, list):
        return [" ".join(str(p).split()) for p in items]
    return []


def styled_like(old: Any, new: Any) -> Any:
    """``new`` quoted the way its neighbour ``old`` is (new phrases are double-quoted by default:
    '[a|b]', '<NUM>', '=word' and '@name' need quotes in YAML)."""
    if not isinstance(new, str):
        return new
    if isinstance(old, SingleQuotedScalarString):
        return SingleQuotedScalarString(new)
    if isinstance(old, DoubleQuotedScalarString) or old is None:
        return DoubleQuotedScalarString(new)
    return new


def edit_seq(seq: CommentedSeq, new: list[str]) -> None:
    """Turn ``seq`` into ``new`` with the fewest deletions and insertions, so that the items kept
    keep their quoting and any comments on them."""
    old = [" ".join(str(p).split()) for p in seq]
    template = seq[0] if len(seq) else None
    ops = difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in reversed(ops):
        if tag == "equal":
            continue
        for i in reversed(range(i1, i2)):
            del seq[i]
        for k, p in enumerate(new[j1:j2]):
            seq.insert(i1 + k, styled_like(template, p))


def to_node(v: Any, block: bool = False) -> Any:
    """Plain Python -> YAML node in the rubrics' style: a mapping in flow style ({condition: x},
    {by: customer, any_of: ["@a", "@b"]}) unless it holds a list of rules, which is written in
    block style with its items as block mappings (``- condition: x``)."""
    if isinstance(v, Mapping):
        m = CommentedMap((str(k), to_node(x)) for k, x in v.items())
        if not block and not _has_rule_list(v):
            m.fa.set_flow_style()
        return m
    if isinstance(v, (list, tuple)):
        s = CommentedSeq(to_node(x, block=True) for x in v)
        if not any(isinstance(x, (Mapping, list, tuple)) for x in v):
            s.fa.set_flow_style()
        return s
    if isinstance(v, str) and v.startswith("@"):
        return DoubleQuotedScalarString(v)
    return v


def _has_rule_list(v: Any) -> bool:
    """A list of mappings inside (``any: [...]``, ``all: [...]``): written in block style."""
    if isinstance(v, Mapping):
        return any(_has_rule_list(x) for x in v.values())
    if isinstance(v, (list, tuple)):
        return any(isinstance(x, (Mapping, list, tuple)) for x in v)
    return False


def _is_block(v: Any) -> bool:
    return isinstance(v, (CommentedMap, CommentedSeq)) and len(v) > 0 and not v.fa.flow_style()


def _take_trailing(m: CommentedMap, key: Any) -> list:
    """Detach the comment lines (blank lines included) written after the value of ``m[key]``."""
    v = m[key]
    if isinstance(v, CommentedMap) and _is_block(v):
        got = _take_trailing(v, list(v)[-1])
        if got:
            return got
    if isinstance(v, CommentedSeq) and _is_block(v):
        got = list(v.ca.end or [])
        v.ca.end = []
        last = v[-1]
        if isinstance(last, CommentedMap) and _is_block(last):
            got = _take_trailing(last, list(last)[-1]) + got
        else:
            item = v.ca.items.get(len(v) - 1)
            if item and item[0] is not None:
                got = [item[0]] + got
                item[0] = None
        return got
    item = m.ca.items.get(key)
    if item and len(item) > 2 and item[2] is not None:
        tok = item[2]
        item[2] = None
        return [tok]
    return []


def _attach_trailing(m: CommentedMap, key: Any, toks: list) -> None:
    """Put comment lines taken by ``_take_trailing`` after the value of ``m[key]``."""
    if not toks:
        return
    v = m[key]
    if isinstance(v, CommentedMap) and _is_block(v):
        return _attach_trailing(v, list(v)[-1], toks)
    if isinstance(v, CommentedSeq) and _is_block(v):
        v.ca.end = list(v.ca.end or []) + toks
        return
    text = "".join(t.value for t in toks)
    item = m.ca.items.setdefault(key, [None, None, None, None])
    if item[2] is not None:
        text = item[2].value + text
    item[2] = CommentToken(text, toks[0].start_mark, None)


def append_key(m: CommentedMap, key: str, value: Any) -> None:
    """Add ``key`` at the end of ``m``, moving the comment lines that closed ``m`` after it."""
    toks = _take_trailing(m, list(m)[-1]) if len(m) else []
    m[key] = value
    _attach_trailing(m, key, toks)


def insert_ordered(m: CommentedMap, key: str, value: Any, order: tuple) -> None:
    """Insert ``key`` before the first key of ``m`` that comes after it in ``order``."""
    rank = {k: i for i, k in enumerate(order)}
    mine = rank.get(key, len(order))
    keys = list(m)
    pos = next((i for i, k in enumerate(keys) if rank.get(k, -1) > mine), None)
    if pos is None:
        append_key(m, key, value)
    else:
        m.insert(pos, key, value)


def replace_value(m: CommentedMap, key: str, value: Any) -> None:
    """Set ``m[key]`` to ``value``, keeping the comment lines written after the old value."""
    toks = _take_trailing(m, key)
    m[key] = value
    _attach_trailing(m, key, toks)


def delete_key(m: CommentedMap, key: str) -> None:
    """Delete ``key``; comment lines written before or after it stay where they were."""
    keys = list(m)
    toks = _take_trailing(m, key)
    i = keys.index(key)
    item = m.ca.items.get(key)
    before = item[1] if item and len(item) > 1 and isinstance(item[1], list) else []
    del m[key]
    if before and i + 1 < len(keys):
        nxt = m.ca.items.setdefault(keys[i + 1], [None, None, None, None])
        nxt[1] = before + list(nxt[1] or [])
    if toks and i > 0:
        _attach_trailing(m, keys[i - 1], toks)




def section(data: CommentedMap, key: str, order: tuple) -> CommentedMap:
    """The mapping under ``key`` in ``data``; made when there is none (placed by ``order``, or in place
    of a value that is no mapping)."""
    sec = data.get(key)
    if isinstance(sec, CommentedMap):
        return sec
    new = CommentedMap()
    if key in data:
        replace_value(data, key, new)
    else:
        insert_ordered(data, key, new, order)
    return new
