"""Form-level editing of a rubric YAML file, with its comments, key order and formatting kept.

The model layer of the dashboard's form view beside the raw YAML editor (issue 13, item 5): per
criterion its title, weight, critical flag, applicability (``when``) and the phrase lists it uses,
per language, as plain Python values; setters that change exactly those lines; ``validate()``
through the project's own validation; ``diff_summary()`` in words for the confirmation before
publishing. The YAML stays the source of truth: ``to_text()`` gives the same file back, byte for
byte when nothing was edited (ruamel.yaml round trip).

    doc = RubricDocument.from_file("rubriche/assistenza.yaml")
    doc.criterion("saluto")            # CriterionForm: title, weight, critical, applicability, where each lives
    doc.phrase_lists("saluto")         # {"saluto_apertura": {"it": [...], "de": [...], ...}, "presentazione": ...}
    doc.remove_phrase("saluto_apertura", "it", "buongiorno")
    doc.set_weight("saluto", 2)
    doc.validate()                     # [] or [RubricError(file:line: reason), ...]
    doc.diff_summary()                 # ["saluto (Saluto e presentazione): peso 1 → 2 (in assistenza.yaml, ...)", ...]
    doc.to_text()                      # the YAML to publish (qa.learning.publish.publish_rubric / preview)

Where an edit goes when the file ``extends:`` another
------------------------------------------------------
Every edit is written into the file this document is, never into the file it extends: the
dashboard edits and publishes one rubric at a time (``publish_rubric(store, name, text)`` writes
that file only) and ``comune.yaml`` is an abstract base it does not offer. So:

* a criterion field defined in this file is changed where it stands;
* a criterion field inherited through ``extends:`` becomes a partial override in this file's
  ``criteria:`` (``criteria: {saluto: {weight: 2}}``), which the loader merges key by key with the
  parent's criterion; setting the field back to the inherited value removes that override again;
* a phrase collection inherited through ``extends:`` is replaced *whole* by the loader (there is
  no per-phrase merge), so the first phrase edit copies the whole collection, all four languages,
  into this file's ``collections:`` and edits the copy. From then on it applies to every criterion
  and condition of this rubric that uses it (``CollectionForm.used_by``) and no longer follows
  changes of the parent's list (``diff_summary`` says so); if the edits make it equal to the
  parent's list again the copy is dropped.

To change the shared base for every rubric, open the base itself
(``RubricDocument.from_file("rubriche/comune.yaml")``): its edits land in place, and
``inherited_by()`` names the rubrics they reach. Each form record says where each value lives
(``CriterionForm.defined_in``, ``CollectionForm.defined_in``: a file name, or None for a default).
"""

from __future__ import annotations

import difflib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

from ..config import LANGUAGES, rubrics_dir
from ..errors import RubricError
from .yamlsrc import check_size
from .loader import (MAX_EXTENDS, allowed_rubric_dirs, confine_extends, load_rubric_text, read_rubric_text,
                     resolve_path, validate_rubric_text)
from .patterns import PatternError, parse_phrase
from .schema import RULE_KEYS, Rubric

__all__ = ["RubricDocument", "CriterionForm", "CollectionForm", "FIELDS", "describe_applicability"]

FIELDS = ("title", "weight", "critical", "applicability")  # the criterion fields the form edits
_YAML_KEY = {"title": "title", "weight": "weight", "critical": "critical", "applicability": "when"}
_KEY_ORDER = ("title", "competence", "weight", "critical", "when", "rule", "feedback", "description")
_DEFAULTS = {"critical": False, "when": "always"}  # what an absent key means (docs/RUBRIC_LANGUAGE.md)
_SECTION_ORDER = ("negation", "negation_window", "names", "collections", "conditions", "criteria")
_MISSING = object()


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
    label: str          # file name shown to people ("comune.yaml")
    path: Path | None
    data: CommentedMap


@dataclass
class _View:
    criteria: dict[str, dict[str, tuple[Any, str]]]   # cid -> YAML key -> (value, file label)
    collections: dict[str, tuple[Any, str]]
    conditions: dict[str, tuple[Any, str]]


class RubricDocument:
    """One rubric YAML file, editable through form fields; see the module docstring."""

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
        self._yaml, self._data = _parse(text.replace("\r\n", "\n") if self._crlf else text, self.source_name)
        self._anc_view: _View | None = None
        self._ancestors = self._load_ancestors()

    # ---- construction and output -------------------------------------------------------------

    @classmethod
    def from_text(cls, text: str, source_name: str = "<rubric>") -> "RubricDocument":
        """YAML text as the dashboard's editor holds it; ``extends:`` is looked up in the rubric
        directory (``qa.config.rubrics_dir()``), as ``validate_rubric_text`` does."""
        return cls(text, source_name)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> "RubricDocument":
        """A rubric file; ``extends:`` is looked up beside it first, as ``validate_rubric`` does."""
        p = Path(path)
        text = read_rubric_text(p)
        return cls(text, str(p), path=p, base_dir=p.parent)

    def to_text(self) -> str:
        """The YAML, with comments, key order, quoting and indentation as they were."""
        buf = io.StringIO()
        self._yaml.dump(self._data, buf)
        out = buf.getvalue()
        if not self._original_text.endswith("\n") and out.endswith("\n"):
            out = out[:-1]
        return out.replace("\n", "\r\n") if self._crlf else out

    @property
    def original_text(self) -> str:
        """The text as loaded (or as last saved): what ``diff_summary()`` compares with."""
        return self._original_text

    def text_diff(self) -> str:
        """Unified diff of the YAML since it was loaded (for power users)."""
        name = Path(self.source_name).name
        return "".join(difflib.unified_diff(self._original_text.splitlines(True), self.to_text().splitlines(True),
                                            f"{name} (before)", f"{name} (edited)"))

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Validate, then write the YAML (atomically) to ``path`` or to the file it was read from."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise RubricError("no file to save to: give a path", self.source_name)
        errors = self.validate()
        if errors:
            more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
            raise RubricError(f"not saved: {errors[0]}{more}", self.source_name)
        text = self.to_text()
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(text, encoding="utf-8", newline="")
        tmp.replace(target)
        self._original_text = text
        return target

    # ---- what the file is ----------------------------------------------------------------------

    @property
    def file_label(self) -> str:
        return Path(self.source_name).name

    @property
    def name(self) -> str | None:
        v = self._data.get("rubric")
        return str(v) if v is not None else None

    @property
    def extends(self) -> list[str]:
        """The files this one inherits from, nearest first (["comune.yaml"])."""
        return [layer.label for layer in reversed(self._ancestors)]

    @property
    def version(self) -> str | None:
        for layer in reversed(self._layers()):
            if "version" in layer.data:
                return str(layer.data["version"])
        return None

    def set_version(self, version: str) -> None:
        """The new version to publish under (publish refuses a version already used)."""
        v = " ".join(str(version).split()) if isinstance(version, (str, int, float)) else ""
        if not v or isinstance(version, bool):
            raise RubricError("the version must be a non-empty text such as 2026-12-01.1", self.source_name)
        if self.version == v:
            return
        if "version" in self._data:
            self._data["version"] = _styled_like(self._data["version"], v)
        else:
            pos = list(self._data).index("rubric") + 1 if "rubric" in self._data else 0
            self._data.insert(pos, "version", v)

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
        return list(self._view().criteria)

    def criteria(self) -> list[CriterionForm]:
        view = self._view()
        return [self._form(cid, view) for cid in view.criteria]

    def criterion(self, cid: str) -> CriterionForm:
        view = self._view()
        self._need_criterion(cid, view)
        return self._form(cid, view)

    def collection_names(self) -> list[str]:
        return list(self._view().collections)

    def collection(self, name: str) -> CollectionForm:
        view = self._view()
        body, label = self._need_collection(name, view)
        used_by = tuple(cid for cid in view.criteria if name in self._collections_of(cid, view))
        return CollectionForm(name, {lang: _lang_phrases(body, lang) for lang in LANGUAGES}, label, used_by)

    def phrases(self, collection: str, lang: str | None = None) -> list[str] | dict[str, list[str]]:
        """The phrases of ``@collection`` in ``lang`` (a list), or in every language (a dict)."""
        body, _ = self._need_collection(collection, self._view())
        if lang is None:
            return {lg: _lang_phrases(body, lg) for lg in LANGUAGES}
        _need_lang(lang, self.source_name)
        return _lang_phrases(body, lang)

    def phrase_lists(self, cid: str) -> dict[str, dict[str, list[str]]]:
        """The phrase lists criterion ``cid`` uses: {collection: {lang: [phrase, ...]}}."""
        view = self._view()
        self._need_criterion(cid, view)
        return {name: {lang: _lang_phrases(view.collections[name][0], lang) for lang in LANGUAGES}
                for name in self._collections_of(cid, view)}

    def condition_names(self) -> list[str]:
        return list(self._view().conditions)

    def applicability_choices(self, cid: str, lang: str = "it") -> list[tuple[str, Any]]:
        """(label, value) pairs for the applicability field: always, when the customer's name is
        known, each named condition, and the criterion's current rule when it is none of those."""
        _need_lang(lang, self.source_name)
        current = self.criterion(cid).applicability
        choices: list[Any] = ["always", {"name_known": True}] + [{"condition": c} for c in self.condition_names()]
        out = [(describe_applicability(v, lang), v) for v in choices]
        if not any(_same(v, current) for v in choices):
            out.append((_t("as_now", lang).format(rule=_one_line(current)), current))
        return out

    # ---- editing: criterion fields -------------------------------------------------------------

    def set_title(self, cid: str, title: str) -> None:
        if isinstance(title, Mapping):
            raise RubricError(f"criterion {cid!r}: a title is one text (the rubric language has no per-language "
                              "titles; the feedback texts are per language)", self.source_name)
        if not isinstance(title, str) or not title.strip():
            raise RubricError(f"criterion {cid!r}: the title must be a non-empty text", self.source_name)
        self._set_field(cid, "title", " ".join(title.split()))

    def set_weight(self, cid: str, weight: int | float) -> None:
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0 \
                or weight != weight or weight == float("inf"):
            raise RubricError(f"criterion {cid!r}: weight must be a number > 0, got {weight!r}", self.source_name)
        self._set_field(cid, "weight", weight)

    def set_critical(self, cid: str, critical: bool) -> None:
        if not isinstance(critical, bool):
            raise RubricError(f"criterion {cid!r}: 'critical' must be true or false, got {critical!r}",
                              self.source_name)
        self._set_field(cid, "critical", critical)

    def set_applicability(self, cid: str, when: Any) -> None:
        """``"always"``, ``{"condition": name}``, ``{"name_known": True}``, or any rule as plain
        Python values (``{"any": [{"condition": "a"}, {"condition": "b"}]}``); see applicability_choices."""
        view = self._view()
        self._need_criterion(cid, view)
        when = _plain(when)
        if when != "always":
            if not isinstance(when, dict) or len(when) != 1:
                raise RubricError(f"criterion {cid!r}: applicability is 'always' or a rule with exactly one of "
                                  f"{', '.join(RULE_KEYS)}, got {_one_line(when)}", self.source_name)
            (key, body), = when.items()
            if key not in RULE_KEYS:
                raise RubricError(f"criterion {cid!r}: unknown rule {key!r} (known: {', '.join(RULE_KEYS)})",
                                  self.source_name)
            if key == "condition" and body not in view.conditions:
                raise RubricError(f"unknown condition {body!r} (known: {', '.join(view.conditions)})",
                                  self.source_name)
            if key == "criterion":
                ref = body.get("id") if isinstance(body, dict) else body
                if ref not in view.criteria or ref == cid:
                    raise RubricError(f"criterion {cid!r}: applicability refers to criterion {ref!r}, which is "
                                      "unknown or itself", self.source_name)
            if key == "name_known" and not isinstance(body, bool):
                raise RubricError("'name_known' must be true or false", self.source_name)
        self._set_field(cid, "applicability", when)

    # ---- editing: phrase lists -----------------------------------------------------------------

    def add_phrase(self, collection: str, lang: str, phrase: str) -> None:
        current = self._current_phrases(collection, lang)
        p = self._check_phrase(collection, lang, phrase)
        if p in current:
            raise RubricError(f"{p!r} is already in @{collection} ({lang})", self.source_name)
        self._write_phrases(collection, lang, current + [p])

    def remove_phrase(self, collection: str, lang: str, phrase: str) -> None:
        current = self._current_phrases(collection, lang)
        p = " ".join(str(phrase).split())
        if p not in current:
            raise RubricError(f"{p!r} is not in @{collection} ({lang})", self.source_name)
        self._write_phrases(collection, lang, [x for x in current if x != p])

    def replace_phrase(self, collection: str, lang: str, old: str, new: str) -> None:
        current = self._current_phrases(collection, lang)
        o = " ".join(str(old).split())
        if o not in current:
            raise RubricError(f"{o!r} is not in @{collection} ({lang})", self.source_name)
        n = self._check_phrase(collection, lang, new)
        if n != o and n in current:
            raise RubricError(f"{n!r} is already in @{collection} ({lang})", self.source_name)
        self._write_phrases(collection, lang, [n if x == o else x for x in current])

    def set_phrases(self, collection: str, lang: str, phrases: Iterable[str]) -> None:
        """Replace the whole list of ``@collection`` in ``lang`` (order kept, as the form lists it)."""
        self._current_phrases(collection, lang)
        if isinstance(phrases, str):
            raise RubricError("give the phrases as a list", self.source_name)
        new = [self._check_phrase(collection, lang, p) for p in phrases]
        dup = next((p for i, p in enumerate(new) if p in new[:i]), None)
        if dup is not None:
            raise RubricError(f"{dup!r} is twice in the list for @{collection} ({lang})", self.source_name)
        self._write_phrases(collection, lang, new)

    # ---- the project's validation and compilation ----------------------------------------------

    def validate(self) -> list[RubricError]:
        """Every problem of the edited text, as ``qa rubric validate`` reports it (FILE:LINE: reason)."""
        return validate_rubric_text(self._validation_text(), self.source_name, base_dir=self.base_dir)

    def rubric(self) -> Rubric:
        """The edited rubric, validated and compiled (for ``score_transcript``); RubricError if invalid."""
        return load_rubric_text(self._validation_text(), self.source_name, base_dir=self.base_dir)

    # ---- what changed ----------------------------------------------------------------------------

    def diff_summary(self, other: "RubricDocument | None" = None, lang: str = "it") -> list[str]:
        """What changed from ``other`` (default: this document as loaded or last saved) to this one,
        one line per change, in the QA lead's language: criterion, field, old → new; phrases added
        and removed per collection and language; collections copied from the base. Empty: nothing."""
        _need_lang(lang, self.source_name)
        before = other if other is not None else RubricDocument(
            self._original_text, self.source_name, path=self.path, base_dir=self.base_dir)
        old_v, new_v = before._view(), self._view()
        lines: list[str] = []
        if before.version != self.version:
            lines.append(_t("version", lang).format(old=before.version, new=self.version))
        for cid in old_v.criteria:
            if cid not in new_v.criteria:
                lines.append(_t("crit_removed", lang).format(cid=cid))
        for cid in new_v.criteria:
            if cid not in old_v.criteria:
                lines.append(_t("crit_added", lang).format(cid=cid))
                continue
            a, b = before._form(cid, old_v), self._form(cid, new_v)
            label = f"{cid} ({b.title})" if isinstance(b.title, str) and b.title else cid
            for f in FIELDS:
                va, vb = getattr(a, f), getattr(b, f)
                if _same(va, vb):
                    continue
                where = ""
                la, lb = a.defined_in[f], b.defined_in[f]
                if lb != la and lb == self.file_label and self._ancestors:
                    where = _t("where_override", lang).format(file=lb, parent=la) if la else \
                        _t("where_in", lang).format(file=lb)
                elif lb != la and lb and lb != self.file_label:
                    where = _t("where_back", lang).format(parent=lb)
                lines.append(f"{label}: {_t(f, lang)} {_show(f, va, lang)} → {_show(f, vb, lang)}{where}")
        for name in old_v.collections:
            if name not in new_v.collections:
                lines.append(_t("coll_removed", lang).format(name=name))
        for name in new_v.collections:
            if name not in old_v.collections:
                lines.append(_t("coll_added", lang).format(name=name))
                continue
            (ba, la), (bb, lb) = old_v.collections[name], new_v.collections[name]
            if la != lb and lb == self.file_label:
                lines.append(_t("coll_copied", lang).format(name=name, file=lb, parent=la))
            elif la != lb:
                lines.append(_t("coll_inherited", lang).format(name=name, parent=lb))
            used = [cid for cid in new_v.criteria if name in self._collections_of(cid, new_v)]
            used_txt = _t("used_by", lang).format(ids=", ".join(used)) if used else ""
            for lg in LANGUAGES:
                pa, pb = _lang_phrases(ba, lg), _lang_phrases(bb, lg)
                removed = [p for p in pa if p not in pb]
                added = [p for p in pb if p not in pa]
                parts = []
                if removed:
                    parts.append(f"{_t('removed', lang)} " + ", ".join(f"«{p}»" for p in removed))
                if added:
                    parts.append(f"{_t('added', lang)} " + ", ".join(f"«{p}»" for p in added))
                if parts:
                    lines.append(f"@{name} [{lg}]: " + "; ".join(parts) + used_txt)
        if _rest(before._data) != _rest(self._data):
            lines.append(_t("other", lang))
        return lines

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
            _, pdata = _parse(ptext, str(p))
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
                return _plain(fields[key][0]), fields[key][1]
            return _DEFAULTS.get(key), None

        title, lt = get("title")
        weight, lw = get("weight")
        critical, lc = get("critical")
        when, lwh = get("when")
        comp = fields.get("competence", (None,))[0]
        comp = comp if isinstance(comp, list) else ([] if comp is None else [comp])
        inherited = cid in self._view(ancestors_only=True).criteria
        return CriterionForm(
            id=cid, title=title, weight=weight, critical=bool(critical), applicability=when,
            applicability_text=_one_line(when), competence=tuple(str(c) for c in comp),
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

    def _current_phrases(self, collection: str, lang: str) -> list[str]:
        body, label = self._need_collection(collection, self._view())
        _need_lang(lang, self.source_name)
        if not isinstance(body, Mapping):
            raise RubricError(f"collection '@{collection.lstrip('@')}' in {label} is not a list of phrases per "
                              "language: edit it in the YAML", self.source_name)
        return _lang_phrases(body, lang)

    def _check_phrase(self, collection: str, lang: str, phrase: Any) -> str:
        name = str(collection).lstrip("@")
        if not isinstance(phrase, str) or not phrase.strip():
            raise RubricError(f"@{name} ({lang}): a phrase must be a non-empty text", self.source_name)
        p = " ".join(phrase.split())
        if p.startswith("@"):
            view = self._view()
            if p[1:] == name:
                raise RubricError(f"@{name} ({lang}): a collection cannot include itself", self.source_name)
            self._need_collection(p[1:], view)
            return p
        try:
            parse_phrase(p)
        except PatternError as e:
            raise RubricError(f"invalid phrase {p!r} in @{name} ({lang}): {e} (phrase syntax: "
                              "docs/RUBRIC_LANGUAGE.md)", self.source_name) from None
        return p

    def _write_phrases(self, collection: str, lang: str, new: list[str]) -> None:
        name = str(collection).lstrip("@")
        if not new:
            raise RubricError(f"@{name} ({lang}): a phrase list cannot be empty (every language needs at least "
                              "one phrase)", self.source_name)
        if new == self._current_phrases(name, lang):
            return
        body = self._own_collection(name)
        seq = body.get(lang)
        if isinstance(seq, CommentedSeq):
            _edit_seq(seq, new)
        else:
            fresh = CommentedSeq(_styled_like(seq if isinstance(seq, str) else None, p) for p in new)
            fresh.fa.set_flow_style()
            if lang in body:
                _replace_value(body, lang, fresh)
            else:
                _insert_ordered(body, lang, fresh, LANGUAGES)
        self._drop_if_inherited_again(name)

    def _own_collection(self, name: str) -> CommentedMap:
        own = self._data.get("collections")
        if isinstance(own, CommentedMap) and name in own:
            return own[name]
        body, label = self._need_collection(name, self._view(ancestors_only=True))
        copy = CommentedMap()
        for lang in body:
            items = body[lang]
            if isinstance(items, CommentedSeq):
                seq = CommentedSeq(items)  # the same (immutable, quoted) strings; no comments
                if items.fa.flow_style():
                    seq.fa.set_flow_style()
            else:
                seq = items
            copy[lang] = seq
        _append(self._section("collections"), name, copy)
        return copy

    def _section(self, key: str) -> CommentedMap:
        sec = self._data.get(key)
        if isinstance(sec, CommentedMap):
            return sec
        new = CommentedMap()
        if key in self._data:
            _replace_value(self._data, key, new)
        else:
            _insert_ordered(self._data, key, new, _SECTION_ORDER)
        return new

    def _drop_if_inherited_again(self, name: str) -> None:
        """Remove this file's copy of collection ``name`` when it says exactly what the files it
        extends say."""
        inherited = self._view(ancestors_only=True).collections
        own = self._data.get("collections")
        if not isinstance(own, CommentedMap) or name not in own or name not in inherited \
                or not _same(own[name], inherited[name][0]):
            return
        _delete_key(own, name)
        if not own:
            _delete_key(self._data, "collections")

    def _set_field(self, cid: str, field: str, value: Any) -> None:
        key = _YAML_KEY[field]
        view = self._view()
        self._need_criterion(cid, view)
        fields = view.criteria[cid]
        current = _plain(fields[key][0]) if key in fields else _DEFAULTS.get(key, _MISSING)
        if _same(current, value):
            return
        anc = self._view(ancestors_only=True).criteria.get(cid)
        if anc is not None:
            inherited = _plain(anc[key][0]) if key in anc else _DEFAULTS.get(key, _MISSING)
        else:
            inherited = _DEFAULTS.get(key, _MISSING)
        crits = self._data.get("criteria")
        own = crits.get(cid) if isinstance(crits, CommentedMap) else None
        if isinstance(own, CommentedMap) and key in own and _same(value, inherited):
            _delete_key(own, key)  # back to the inherited (or default) value: no override needed
            if not own and anc is not None:
                _delete_key(crits, cid)
                if not crits:
                    _delete_key(self._data, "criteria")
            return
        if not isinstance(own, CommentedMap):
            own = CommentedMap()
            _append(self._section("criteria"), cid, own)
        node = _to_node(value)
        if key in own:
            _replace_value(own, key, _styled_like(own[key], node) if isinstance(node, str) else node)
        else:
            _insert_ordered(own, key, node, _KEY_ORDER)

    def _validation_text(self) -> str:
        """The text to validate. ``validate_rubric_text`` looks ``extends:`` up in the rubric
        directory; when this document's parent is another file (a rubric folder other than
        qa.config.rubrics_dir()), the parent's absolute path is written on the same line instead,
        so that line numbers and the parent the form shows stay those of the validation."""
        text = self.to_text()
        if not self._ancestors:
            return text
        ext = str(self._data.get("extends"))
        parent = self._ancestors[-1].path
        if resolve_path(ext, rubrics_dir()).resolve() == parent.resolve():
            return text
        return re.sub(r"^extends:.*$", lambda m: "extends: " + _dq(str(parent.resolve())), text, count=1,
                      flags=re.M)


# ---- YAML helpers --------------------------------------------------------------------------------

def _parse(text: str, source: str) -> tuple[YAML, CommentedMap]:
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


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v)
    return str(v)


def _same(a: Any, b: Any) -> bool:
    a, b = _plain(a), _plain(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _one_line(v: Any) -> str:
    v = _plain(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_one_line(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_one_line(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str) and (not v or v.startswith("@") or any(ch in v for ch in ":{}[],#&*!|>'\"%`")):
        return _dq(v)
    return str(v)


def _dq(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lang_phrases(body: Any, lang: str) -> list[str]:
    if not isinstance(body, Mapping):
        return []
    items = body.get(lang)
    if isinstance(items, str):
        return [" ".join(items.split())]
    if isinstance(items, list):
        return [" ".join(str(p).split()) for p in items]
    return []


def _need_lang(lang: Any, source: str) -> None:
    if lang not in LANGUAGES:
        raise RubricError(f"unknown language {lang!r} (languages: {', '.join(LANGUAGES)})", source)


def _styled_like(old: Any, new: Any) -> Any:
    """``new`` quoted the way its neighbour ``old`` is (new phrases are double-quoted by default:
    '[a|b]', '<NUM>', '=word' and '@name' need quotes in YAML)."""
    if not isinstance(new, str):
        return new
    if isinstance(old, SingleQuotedScalarString):
        return SingleQuotedScalarString(new)
    if isinstance(old, DoubleQuotedScalarString) or old is None:
        return DoubleQuotedScalarString(new)
    return new


def _edit_seq(seq: CommentedSeq, new: list[str]) -> None:
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
            seq.insert(i1 + k, _styled_like(template, p))


def _to_node(v: Any, block: bool = False) -> Any:
    """Plain Python -> YAML node in the rubrics' style: a mapping in flow style ({condition: x},
    {by: customer, any_of: ["@a", "@b"]}) unless it holds a list of rules, which is written in
    block style with its items as block mappings (``- condition: x``)."""
    if isinstance(v, Mapping):
        m = CommentedMap((str(k), _to_node(x)) for k, x in v.items())
        if not block and not _has_rule_list(v):
            m.fa.set_flow_style()
        return m
    if isinstance(v, (list, tuple)):
        s = CommentedSeq(_to_node(x, block=True) for x in v)
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


def _append(m: CommentedMap, key: str, value: Any) -> None:
    """Add ``key`` at the end of ``m``, moving the comment lines that closed ``m`` after it."""
    toks = _take_trailing(m, list(m)[-1]) if len(m) else []
    m[key] = value
    _attach_trailing(m, key, toks)


def _insert_ordered(m: CommentedMap, key: str, value: Any, order: tuple) -> None:
    """Insert ``key`` before the first key of ``m`` that comes after it in ``order``."""
    rank = {k: i for i, k in enumerate(order)}
    mine = rank.get(key, len(order))
    keys = list(m)
    pos = next((i for i, k in enumerate(keys) if rank.get(k, -1) > mine), None)
    if pos is None:
        _append(m, key, value)
    else:
        m.insert(pos, key, value)


def _replace_value(m: CommentedMap, key: str, value: Any) -> None:
    toks = _take_trailing(m, key)
    m[key] = value
    _attach_trailing(m, key, toks)


def _delete_key(m: CommentedMap, key: str) -> None:
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


def _rest(data: CommentedMap) -> Any:
    """The document less what diff_summary already describes (to notice other changes)."""
    d = _plain(data)
    d.pop("version", None)
    d.pop("collections", None)
    crits = d.get("criteria")
    if isinstance(crits, dict):
        for cid in list(crits):
            if isinstance(crits[cid], dict):
                for k in ("title", "weight", "critical", "when"):
                    crits[cid].pop(k, None)
                if not crits[cid]:
                    del crits[cid]
        if not crits:
            del d["criteria"]
    return d


# ---- words for people (UI texts: Italian first, German, French, English) --------------------------

_TEXTS: dict[str, dict[str, str]] = {
    "title": {"it": "titolo", "de": "Titel", "fr": "titre", "en": "title"},
    "weight": {"it": "peso", "de": "Gewicht", "fr": "poids", "en": "weight"},
    "critical": {"it": "critico", "de": "kritisch", "fr": "critique", "en": "critical"},
    "applicability": {"it": "applicabilità", "de": "Anwendbarkeit", "fr": "applicabilité", "en": "applicability"},
    "yes": {"it": "sì", "de": "ja", "fr": "oui", "en": "yes"},
    "no": {"it": "no", "de": "nein", "fr": "non", "en": "no"},
    "always": {"it": "sempre", "de": "immer", "fr": "toujours", "en": "always"},
    "name_known": {"it": "se il nome del cliente è noto", "de": "wenn der Name des Kunden bekannt ist",
                   "fr": "si le nom du client est connu", "en": "when the customer's name is known"},
    "condition": {"it": "se: {name}", "de": "wenn: {name}", "fr": "si : {name}", "en": "when: {name}"},
    "rule": {"it": "se: {rule}", "de": "wenn: {rule}", "fr": "si : {rule}", "en": "when: {rule}"},
    "as_now": {"it": "come ora: {rule}", "de": "wie bisher: {rule}", "fr": "comme maintenant : {rule}",
               "en": "as now: {rule}"},
    "version": {"it": "versione: {old} → {new}", "de": "Version: {old} → {new}", "fr": "version : {old} → {new}",
                "en": "version: {old} → {new}"},
    "crit_added": {"it": "criterio {cid} aggiunto", "de": "Kriterium {cid} hinzugefügt",
                   "fr": "critère {cid} ajouté", "en": "criterion {cid} added"},
    "crit_removed": {"it": "criterio {cid} tolto", "de": "Kriterium {cid} entfernt", "fr": "critère {cid} retiré",
                     "en": "criterion {cid} removed"},
    "where_override": {"it": " (in {file}, al posto del valore di {parent})",
                       "de": " (in {file}, statt des Werts aus {parent})",
                       "fr": " (dans {file}, au lieu de la valeur de {parent})",
                       "en": " (in {file}, instead of the value from {parent})"},
    "where_in": {"it": " (in {file})", "de": " (in {file})", "fr": " (dans {file})", "en": " (in {file})"},
    "where_back": {"it": " (di nuovo il valore di {parent})", "de": " (wieder der Wert aus {parent})",
                   "fr": " (de nouveau la valeur de {parent})", "en": " (back to the value from {parent})"},
    "coll_added": {"it": "lista @{name} aggiunta", "de": "Liste @{name} hinzugefügt", "fr": "liste @{name} ajoutée",
                   "en": "list @{name} added"},
    "coll_removed": {"it": "lista @{name} tolta", "de": "Liste @{name} entfernt", "fr": "liste @{name} retirée",
                     "en": "list @{name} removed"},
    "coll_copied": {"it": "@{name}: copiata da {parent} in {file}; questa rubrica non seguirà più le modifiche "
                          "di {parent} a questa lista",
                    "de": "@{name}: aus {parent} nach {file} kopiert; diese Rubrik folgt Änderungen dieser Liste in "
                          "{parent} nicht mehr",
                    "fr": "@{name} : copiée de {parent} dans {file} ; cette grille ne suivra plus les changements de "
                          "cette liste dans {parent}",
                    "en": "@{name}: copied from {parent} into {file}; this rubric will no longer follow changes to "
                          "this list in {parent}"},
    "coll_inherited": {"it": "@{name}: di nuovo quella di {parent}", "de": "@{name}: wieder die aus {parent}",
                       "fr": "@{name} : de nouveau celle de {parent}", "en": "@{name}: back to the one in {parent}"},
    "added": {"it": "aggiunte", "de": "hinzugefügt", "fr": "ajoutées", "en": "added"},
    "removed": {"it": "tolte", "de": "entfernt", "fr": "retirées", "en": "removed"},
    "used_by": {"it": " (usata da: {ids})", "de": " (verwendet von: {ids})", "fr": " (utilisée par : {ids})",
                "en": " (used by: {ids})"},
    "other": {"it": "altre modifiche nel YAML (regole, feedback o impostazioni): vedi il testo",
              "de": "weitere Änderungen im YAML (Regeln, Feedback oder Einstellungen): siehe Text",
              "fr": "autres changements dans le YAML (règles, feedback ou réglages) : voir le texte",
              "en": "other changes in the YAML (rules, feedback or settings): see the text"},
}


def _t(key: str, lang: str) -> str:
    return _TEXTS[key].get(lang) or _TEXTS[key]["it"]


def describe_applicability(value: Any, lang: str = "it") -> str:
    """Applicability in words: "sempre", "se il nome del cliente è noto", "se: cliente_insoddisfatto"."""
    v = _plain(value)
    if v == "always" or v is None:
        return _t("always", lang)
    if v == {"name_known": True}:
        return _t("name_known", lang)
    if isinstance(v, dict) and list(v) == ["condition"]:
        return _t("condition", lang).format(name=v["condition"])
    return _t("rule", lang).format(rule=_one_line(v))


def _show(field: str, value: Any, lang: str) -> str:
    if field == "critical":
        return _t("yes" if value else "no", lang)
    if field == "applicability":
        return describe_applicability(value, lang)
    if field == "weight" and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if not isinstance(value, dict) else _one_line(value)
