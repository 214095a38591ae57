"""The form model of a rubric file (``qa.rubric.editing``): per criterion its title, weight, critical
flag, applicability and the phrase lists it uses, and the named phrase lists per language, as plain
Python values after ``extends:``, each with the file it is written in. ``RubricForm`` reads them;
``RubricDocument`` (``qa.rubric.editing``) also edits them."""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ruamel.yaml.comments import CommentedMap

from ..config import LANGUAGES, rubrics_dir
from ..errors import RubricError
from .loader import MAX_EXTENDS, allowed_rubric_dirs, confine_extends, read_rubric_text, resolve_path
from .yamlrt import lang_phrases, one_line, parse_rubric_yaml, plain
from .yamlsrc import check_size

FIELDS = ("title", "weight", "critical", "applicability")  # the criterion fields the form edits
DEFAULTS = {"critical": False, "when": "always"}  # what an absent key means (docs/RUBRIC_LANGUAGE.md)


@dataclass(frozen=True)
class CriterionForm:
    """One criterion as the form shows it (after ``extends:``), as plain Python values."""

    id: str
    title: str | dict | None          # the YAML's title (the schema accepts one text, not one per language)
    weight: int | float | None
    critical: bool
    applicability: Any                # "always" or the ``when`` rule as written: {"condition": "x"}
    applicability_text: str           # the same as one line of YAML
    competence: tuple[str, ...]
    collections: tuple[str, ...]      # the named phrase lists its rule and applicability use ("@name"), in order
    defined_in: dict[str, str | None]  # field ("title", "weight", ...) -> file it is written in; None: the default
    inherited: bool                   # the criterion comes from a file this one extends


@dataclass(frozen=True)
class CollectionForm:
    """One named phrase list (``collections:``), per language."""

    name: str
    phrases: dict[str, list[str]]     # lang -> phrases as written ("@other" items include that collection)
    defined_in: str                   # file it is written in
    used_by: tuple[str, ...]          # criteria whose rule or applicability use it (also through conditions)


@dataclass
class _Layer:
    """One file of the ``extends:`` chain: its name, path and parsed YAML."""

    label: str          # file name shown to people ("comune.yaml")
    path: Path | None
    data: CommentedMap


@dataclass
class _View:
    """The merged rubric (criteria, collections, conditions), each value with the file it is written in."""

    criteria: dict[str, dict[str, tuple[Any, str]]]   # cid -> YAML key -> (value, file label)
    collections: dict[str, tuple[Any, str]]
    conditions: dict[str, tuple[Any, str]]


class RubricForm:
    """One rubric YAML file read as form records (after ``extends:``); ``RubricDocument`` edits it."""

    def __init__(self, text: str, source_name: str = "<rubric>", *, path: str | os.PathLike | None = None,
                 base_dir: str | os.PathLike | None = None):
        if not isinstance(text, str):
            raise RubricError("rubric text must be a string", source_name)
        check_size(len(text.encode("utf-8", "surrogatepass")), str(source_name))
        self.source_name = str(source_name)
        self.path = Path(path) if path is not None else None
        self.base_dir = Path(base_dir) if base_dir is not None else rubrics_dir()
        self._original_text = text
        self._crlf = "\r\n" in text
        self._yaml, self._data = parse_rubric_yaml(text.replace("\r\n", "\n") if self._crlf else text,
                                                   self.source_name)
        self._anc_view: _View | None = None
        self._ancestors = self._load_ancestors()

    @classmethod
    def from_text(cls, text: str, source_name: str = "<rubric>") -> "RubricForm":
        """YAML text as the dashboard's editor holds it; ``extends:`` is looked up in the rubric
        directory (``qa.config.rubrics_dir()``), as ``validate_rubric_text`` does."""
        return cls(text, source_name)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> "RubricForm":
        """A rubric file; ``extends:`` is looked up beside it first, as ``validate_rubric`` does."""
        p = Path(path)
        text = read_rubric_text(p)
        return cls(text, str(p), path=p, base_dir=p.parent)

    # ---- what the file is ----------------------------------------------------------------------

    @property
    def file_label(self) -> str:
        """The file's name ("assistenza.yaml"), as the form shows where a value lives."""
        return Path(self.source_name).name

    @property
    def name(self) -> str | None:
        """The rubric's name (its ``rubric:`` key), None when absent."""
        v = self._data.get("rubric")
        return str(v) if v is not None else None

    @property
    def extends(self) -> list[str]:
        """The files this one inherits from, nearest first (["comune.yaml"])."""
        return [layer.label for layer in reversed(self._ancestors)]

    @property
    def version(self) -> str | None:
        """The version in force: this file's, else the nearest file it extends that has one."""
        for layer in reversed(self._layers()):
            if "version" in layer.data:
                return str(layer.data["version"])
        return None

    def inherited_by(self) -> list[str]:
        """Rubric files in this file's folder that extend it (directly): what an edit here reaches."""
        if self.path is None:
            return []
        me = self.path.resolve()
        out = []
        for p in sorted(self.path.parent.glob("*.yaml")):
            if p.resolve() == me:
                continue
            try:
                m = re.search(r"^extends:[ \t]*['\"]?([^'\"#\s]+)", p.read_text(encoding="utf-8"), re.M)
            except (OSError, UnicodeDecodeError):
                continue
            if m and resolve_path(m.group(1), p.parent).resolve() == me:
                out.append(p.name)
        return out

    # ---- reading: form records -----------------------------------------------------------------

    def criterion_ids(self) -> list[str]:
        """The criteria of the merged rubric, in order."""
        return list(self._view().criteria)

    def criteria(self) -> list[CriterionForm]:
        """Every criterion as a form record, in order."""
        view = self._view()
        return [self._form(cid, view) for cid in view.criteria]

    def criterion(self, cid: str) -> CriterionForm:
        """Criterion ``cid`` as a form record; RubricError (with a close match) when unknown."""
        view = self._view()
        self._need_criterion(cid, view)
        return self._form(cid, view)

    def collection_names(self) -> list[str]:
        """The named phrase lists of the merged rubric, in order."""
        return list(self._view().collections)

    def collection(self, name: str) -> CollectionForm:
        """Phrase list ``name`` per language, the file it is written in and the criteria that use it."""
        view = self._view()
        body, label = self._need_collection(name, view)
        used_by = tuple(cid for cid in view.criteria if name in self._collections_of(cid, view))
        return CollectionForm(name, {lang: lang_phrases(body, lang) for lang in LANGUAGES}, label, used_by)

    def phrases(self, collection: str, lang: str | None = None) -> list[str] | dict[str, list[str]]:
        """The phrases of ``@collection`` in ``lang`` (a list), or in every language (a dict)."""
        body, _ = self._need_collection(collection, self._view())
        if lang is None:
            return {lg: lang_phrases(body, lg) for lg in LANGUAGES}
        need_lang(lang, self.source_name)
        return lang_phrases(body, lang)

    def phrase_lists(self, cid: str) -> dict[str, dict[str, list[str]]]:
        """The phrase lists criterion ``cid`` uses: {collection: {lang: [phrase, ...]}}."""
        view = self._view()
        self._need_criterion(cid, view)
        return {name: {lang: lang_phrases(view.collections[name][0], lang) for lang in LANGUAGES}
                for name in self._collections_of(cid, view)}

    def condition_names(self) -> list[str]:
        """The named conditions of the merged rubric, in order."""
        return list(self._view().conditions)

    # ---- internals -------------------------------------------------------------------------------

    def _load_ancestors(self) -> list[_Layer]:
        chain: list[_Layer] = []
        seen = {str(self.path.resolve())} if self.path is not None else set()
        data, base, source = self._data, self.base_dir, self.source_name
        roots = allowed_rubric_dirs(self.base_dir)
        while "extends" in data:
            ext = data.get("extends")
            line = data.lc.key("extends")[0] + 1
            if not isinstance(ext, str) or not ext.strip():
                raise RubricError("'extends' must name a rubric (e.g. extends: comune)", source, line)
            p = resolve_path(ext, base)
            confine_extends(p, roots, ext, source, line)
            if not p.exists():
                raise RubricError(f"'extends': rubric {ext!r} not found", source, line)
            key = str(p.resolve())
            if key in seen:
                raise RubricError(f"'extends' loops back to {p.name}", source, line)
            if len(chain) >= MAX_EXTENDS:
                raise RubricError("'extends' chain too long", source, line)
            seen.add(key)
            ptext = read_rubric_text(p)
            _, pdata = parse_rubric_yaml(ptext, str(p))
            chain.insert(0, _Layer(p.name, p, pdata))
            data, base, source = pdata, p.parent, str(p)
        return chain

    def _layers(self) -> list[_Layer]:
        return self._ancestors + [_Layer(self.file_label, self.path, self._data)]

    def _view(self, ancestors_only: bool = False) -> _View:
        """The merged rubric as the loader merges it (qa/rubric/loader.py ``_merge``); the files
        this one extends are never edited, so their part is computed once."""
        if ancestors_only and self._anc_view is not None:
            return self._anc_view
        v = _View({}, {}, {})
        for layer in (self._ancestors if ancestors_only else self._layers()):
            for section, target in (("collections", v.collections), ("conditions", v.conditions)):
                sec = layer.data.get(section)
                if isinstance(sec, Mapping):
                    for name, body in sec.items():
                        target[str(name)] = (body, layer.label)
            sec = layer.data.get("criteria")
            if isinstance(sec, Mapping):
                for cid, body in sec.items():
                    cid = str(cid)
                    if cid not in v.criteria or not isinstance(body, Mapping):
                        v.criteria[cid] = {}
                    if isinstance(body, Mapping):
                        for k, val in body.items():
                            v.criteria[cid][str(k)] = (val, layer.label)
        if ancestors_only:
            self._anc_view = v
        return v

    def _form(self, cid: str, view: _View) -> CriterionForm:
        fields = view.criteria[cid]

        def get(key: str):
            if key in fields:
                return plain(fields[key][0]), fields[key][1]
            return DEFAULTS.get(key), None

        title, lt = get("title")
        weight, lw = get("weight")
        critical, lc = get("critical")
        when, lwh = get("when")
        comp = fields.get("competence", (None,))[0]
        comp = comp if isinstance(comp, list) else ([] if comp is None else [comp])
        inherited = cid in self._view(ancestors_only=True).criteria
        return CriterionForm(
            id=cid, title=title, weight=weight, critical=bool(critical), applicability=when,
            applicability_text=one_line(when), competence=tuple(str(c) for c in comp),
            collections=tuple(self._collections_of(cid, view)),
            defined_in={"title": lt, "weight": lw, "critical": lc, "applicability": lwh}, inherited=inherited)

    def _collections_of(self, cid: str, view: _View) -> list[str]:
        out: list[str] = []
        seen_conds: set[str] = set()

        def phrase_refs(v: Any) -> None:
            if isinstance(v, str):
                if v.startswith("@") and v[1:] not in out:
                    out.append(v[1:])
            elif isinstance(v, list):
                for item in v:
                    phrase_refs(item)
            elif isinstance(v, Mapping):
                for items in v.values():
                    phrase_refs(items if isinstance(items, list) else [items])

        def walk(node: Any) -> None:
            if isinstance(node, Mapping):
                for k, val in node.items():
                    if k == "any_of":
                        phrase_refs(val)
                    elif k == "condition" and isinstance(val, str):
                        if val not in seen_conds and val in view.conditions:
                            seen_conds.add(val)
                            walk(view.conditions[val][0])
                    else:
                        walk(val)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        fields = view.criteria.get(cid, {})
        for key in ("rule", "when"):
            if key in fields:
                walk(fields[key][0])
        i = 0
        while i < len(out):  # collections that include other collections ("@name" items)
            body = view.collections.get(out[i], (None,))[0]
            if body is not None:
                phrase_refs(body)
            i += 1
        return [n for n in out if n in view.collections]

    def _need_criterion(self, cid: str, view: _View) -> None:
        if cid not in view.criteria:
            hint = difflib.get_close_matches(str(cid), list(view.criteria), 1)
            raise RubricError(f"unknown criterion {cid!r}" + (f" (did you mean {hint[0]!r}?)" if hint else
                              f" (criteria: {', '.join(view.criteria)})"), self.source_name)

    def _need_collection(self, name: str, view: _View) -> tuple[Any, str]:
        name = str(name)
        if name.startswith("@"):
            name = name[1:]
        if name not in view.collections:
            hint = difflib.get_close_matches(name, list(view.collections), 1)
            raise RubricError(f"unknown collection '@{name}'" + (f" (did you mean '@{hint[0]}'?)" if hint else ""),
                              self.source_name)
        return view.collections[name]


def need_lang(lang: Any, source: str) -> None:
    """RubricError unless ``lang`` is one of the project's languages."""
    if lang not in LANGUAGES:
        raise RubricError(f"unknown language {lang!r} (languages: {', '.join(LANGUAGES)})", source)
