"""Find, read, merge (``extends``), validate and cache rubrics."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from ..errors import RubricError
from .schema import Rubric, build_rubric
from .yamlsrc import MAX_RUBRIC_BYTES, LDict, check_size, load_located

_cache: dict[tuple, Rubric] = {}
_lock = threading.RLock()
MAX_EXTENDS = 8


def _rubrics_dir() -> Path:
    from ..config import rubrics_dir

    return rubrics_dir()


def list_rubrics() -> list[str]:
    """Names of the rubrics one can score with (abstract bases such as ``comune`` excluded)."""
    out = []
    for p in sorted(_rubrics_dir().glob("*.yaml")):
        try:
            head = read_rubric_text(p)
        except RubricError:
            continue
        if "\nabstract: true" in "\n" + head:
            continue
        out.append(p.stem)
    return out


def resolve_path(name_or_path: str | os.PathLike, base: Path | None = None) -> Path:
    """The file of a rubric given by name or path. A ``.yaml``/``.yml`` name or one with a slash is a path
    (relative ones tried under ``base`` when not found as given); a bare name is ``<name>.yaml`` in
    ``base``, else in the rubric directory. The path may not exist."""
    s = str(name_or_path)
    p = Path(s)
    if p.suffix in (".yaml", ".yml") or os.sep in s or "/" in s:
        if not p.is_absolute() and base is not None and not p.exists():
            p = base / p
        return p
    for d in ([base] if base else []) + [_rubrics_dir()]:
        cand = d / f"{s}.yaml"
        if cand.exists():
            return cand
    return _rubrics_dir() / f"{s}.yaml"


def read_rubric_text(path: Path, source: str | None = None) -> str:
    """The text of a rubric file: a regular file of at most ``MAX_RUBRIC_BYTES`` (a device such as
    ``/dev/zero``, a folder or a larger file is refused with one line, without reading it whole)."""
    source = source or str(path)
    if not path.exists():
        raise RubricError("rubric file not found", source)
    if not path.is_file():
        raise RubricError("not a regular file", source)
    try:
        check_size(path.stat().st_size, source)
        with open(path, "rb") as f:
            raw = f.read(MAX_RUBRIC_BYTES + 1)
        check_size(len(raw), source)
        return raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise RubricError(f"cannot read rubric: {e}", source) from None


def allowed_rubric_dirs(base: Path | None = None) -> list[Path]:
    """Folders a rubric's ``extends:`` may reach: the rubric directory in use, the bundled and the
    published rubrics, and ``base`` (the folder of the rubric file being loaded), symbolic links
    resolved."""
    from ..config import bundled_rubrics_dir, published_rubrics_dir

    out: list[Path] = []
    for d in ([base] if base is not None else []) + [_rubrics_dir(), bundled_rubrics_dir(), published_rubrics_dir()]:
        try:
            r = Path(d).resolve()
        except (OSError, RuntimeError):
            continue
        if r not in out:
            out.append(r)
    return out


def confine_extends(ppath: Path, roots: list[Path], parent_name: str, source: str, line: int | None) -> Path:
    """``ppath`` (the file an ``extends:`` names) resolved, if it is a ``.yaml``/``.yml`` file inside
    one of ``roots``; RubricError (the extending file and line) otherwise: ``/dev/zero``,
    ``../../etc/passwd``, a symbolic link out of the rubric folders."""
    try:
        real = ppath.resolve()
    except (OSError, RuntimeError):
        raise RubricError(f"'extends': {parent_name!r} cannot be resolved", source, line) from None
    if not any(real.is_relative_to(r) for r in roots):
        raise RubricError(f"'extends': {parent_name!r} is outside the rubric folders (refused)", source, line)
    if real.suffix.lower() not in (".yaml", ".yml"):
        raise RubricError(f"'extends': {parent_name!r} is not a .yaml rubric (refused)", source, line)
    return real


def _read(path: Path, source: str) -> LDict:
    return _parse_text(read_rubric_text(path, source), source)


def _parse_text(text: str, source: str) -> LDict:
    data = load_located(text, source)
    if not isinstance(data, LDict):
        raise RubricError("a rubric must be a YAML mapping (rubric:, version:, criteria: ...)", source,
                          getattr(data, "line", 1))
    return data


def _merge(top: LDict, source: str, base_dir: Path, chain: list[str],
           roots: list[Path] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Merge a rubric document with the chain of rubrics it extends (parents first). Every file of
    the chain must lie in ``roots`` (default: ``allowed_rubric_dirs(base_dir)``, fixed by the
    first document)."""
    if roots is None:
        roots = allowed_rubric_dirs(base_dir)
    doc: dict[str, Any] = {"collections": {}, "conditions": {}, "criteria": {}, "_tops": []}
    sources = [source]
    parent_name = top.get("extends")
    if parent_name is not None:
        if not isinstance(parent_name, str) or not parent_name.strip():
            raise RubricError("'extends' must name a rubric (e.g. extends: comune)", source, top.line_of("extends"))
        ppath = resolve_path(parent_name, base_dir)
        key = str(ppath.resolve())
        if key in chain:
            raise RubricError(f"'extends' loops back to {ppath.name}", source, top.line_of("extends"))
        if len(chain) > MAX_EXTENDS:
            raise RubricError("'extends' chain too long", source, top.line_of("extends"))
        confine_extends(ppath, roots, parent_name, source, top.line_of("extends"))
        if not ppath.exists():
            raise RubricError(f"'extends': rubric {parent_name!r} not found", source, top.line_of("extends"))
        ptop = _read(ppath, str(ppath))
        doc, psources = _merge(ptop, str(ppath), ppath.parent, chain + [key], roots)
        sources = psources + sources
    doc["_tops"].append(top)
    for k, v in top.items():
        if k in ("collections", "conditions", "criteria"):
            if v is None:
                continue
            if not isinstance(v, LDict):
                raise RubricError(f"'{k}' must be a mapping of names to definitions", source, top.line_of(k))
            for name, val in v.items():
                if k == "criteria" and name in doc["criteria"] and isinstance(val, LDict):
                    # partial override of an inherited criterion: the child's keys replace the parent's
                    pval, _ = doc["criteria"][name]
                    merged = LDict(pval)
                    merged.line, merged.source = pval.line, pval.source
                    merged.lines = dict(pval.lines)
                    for ck, cv in val.items():
                        merged[ck] = cv
                        merged.lines[ck] = val.line_of(ck)
                    merged.source = val.source  # key errors point at the overriding file
                    doc["criteria"][name] = (merged, v)
                else:
                    doc[k][name] = (val, v)
        elif k not in ("extends",):
            doc[k] = v
    doc["_top"] = top
    return doc, sources


def _build(top: LDict, source: str, base_dir: Path) -> tuple[Rubric | None, list[RubricError]]:
    try:
        doc, sources = _merge(top, source, base_dir, [str(Path(source).resolve())])
    except RubricError as e:
        return None, [e]
    from .schema import TOP_KEYS, _check_keys, _Ctx

    pre = _Ctx(source)
    for t in doc["_tops"]:
        _check_keys(pre, t, TOP_KEYS, "the rubric")
    doc["_top"] = LDict(doc["_top"])
    doc["_top"].line, doc["_top"].lines, doc["_top"].source = top.line, top.lines, top.source
    doc["_top"]["abstract"] = top.get("abstract", False)
    rub, errors = build_rubric(_strip_unknown(doc), source, sources)
    errors = pre.errors + [e for e in errors if "unknown key" not in e.message or e not in pre.errors]
    # de-duplicate (same message + place)
    seen, out = set(), []
    for e in errors:
        k = (e.source, e.line, e.message)
        if k not in seen:
            seen.add(k)
            out.append(e)
    return (rub if not out else None), out


def _strip_unknown(doc: dict) -> dict:
    top = doc["_top"]
    clean = LDict({k: v for k, v in top.items() if k in ("rubric", "title", "description", "abstract",
                                                          "call_type", "version", "negation",
                                                          "negation_idioms", "negation_window", "names")})
    clean.line, clean.lines, clean.source = top.line, top.lines, top.source
    doc["_top"] = clean
    return doc


def validate_rubric(path: str | os.PathLike) -> list[RubricError]:
    """Every problem of the rubric at ``path`` (empty list: valid)."""
    p = resolve_path(path)
    try:
        top = _read(p, str(p))
    except RubricError as e:
        return [e]
    _, errors = _build(top, str(p), p.parent)
    return errors


def validate_rubric_text(text: str, source_name: str = "<rubric>", base_dir: Path | None = None) -> list[RubricError]:
    """Validate rubric YAML given as text (``extends`` is looked up in ``base_dir``, default the
    rubric directory, and must stay in the rubric folders or ``base_dir``)."""
    try:
        top = _parse_text(text, source_name)
    except RubricError as e:
        return [e]
    _, errors = _build(top, source_name, Path(base_dir) if base_dir else _rubrics_dir())
    return errors


def load_rubric_text(text: str, source_name: str = "<rubric>", base_dir: Path | None = None) -> Rubric:
    """Build a rubric from YAML text, as ``load_rubric`` does from a file but without the cache
    (``extends`` looked up in ``base_dir``, default the rubric directory). Raises ``RubricError`` on the
    first problem, the others in its ``errors``."""
    top = _parse_text(text, source_name)
    rub, errors = _build(top, source_name, Path(base_dir) if base_dir else _rubrics_dir())
    if errors:
        raise _combined(errors)
    return rub


def _combined(errors: list[RubricError]) -> RubricError:
    e = errors[0]
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''}; run 'qa rubric validate')" \
        if len(errors) > 1 else ""
    err = RubricError(e.message + more, e.source, e.line)
    err.errors = errors  # type: ignore[attr-defined]
    return err


def load_rubric(name_or_path: str | os.PathLike) -> Rubric:
    """Load, fully validate and compile a rubric by name (``assistenza``) or path; cached per process."""
    if isinstance(name_or_path, Rubric):
        return name_or_path
    p = resolve_path(name_or_path)
    if not p.exists():
        known = ", ".join(list_rubrics())
        raise RubricError(f"rubric not found (known rubrics: {known})", str(name_or_path))
    rp = p.resolve()
    with _lock:
        stamp = _stamp(rp)
        hit = _cache.get((str(rp),))
        if hit is not None and hit[0] == stamp:
            return hit[1]
        top = _read(rp, str(p))
        rub, errors = _build(top, str(p), rp.parent)
        if errors:
            raise _combined(errors)
        _cache[(str(rp),)] = (_stamp(rp), rub)
        return rub


def _stamp(path: Path) -> tuple:
    """Modification times of the file and of the rubrics it may extend (same folder)."""
    try:
        return tuple(sorted((q.name, q.stat().st_mtime_ns) for q in path.parent.glob("*.yaml")))
    except OSError:
        return ()
