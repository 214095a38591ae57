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

The parts: ``qa.rubric.formview`` (the form records, read after ``extends:``),
``qa.rubric.phraseedit`` (phrase-list edits), ``qa.rubric.editdiff`` (the changes in words),
``qa.rubric.yamlrt`` (the YAML round trip); this module adds the criterion fields, validation, saving
and the document as a whole.
"""

from __future__ import annotations

import difflib
import io
import os
import re
from pathlib import Path
from typing import Any, Mapping

from ruamel.yaml.comments import CommentedMap

from ..config import rubrics_dir
from ..errors import RubricError
from .editdiff import describe_applicability, summarise_changes, text_for
from .formview import DEFAULTS, FIELDS, CollectionForm, CriterionForm, need_lang
from .loader import load_rubric_text, resolve_path, validate_rubric_text
from .phraseedit import SECTION_ORDER, PhraseEdits
from .schema import RULE_KEYS, Rubric
from .yamlrt import append_key, delete_key, dq, insert_ordered, one_line, plain, replace_value, same, section, \
    styled_like, to_node

__all__ = ["RubricDocument", "CriterionForm", "CollectionForm", "FIELDS", "describe_applicability"]

_YAML_KEY = {"title": "title", "weight": "weight", "critical": "critical", "applicability": "when"}
_KEY_ORDER = ("title", "competence", "weight", "critical", "when", "rule", "feedback", "description")
_MISSING = object()


class RubricDocument(PhraseEdits):
    """One rubric YAML file, editable through form fields; see the module docstring."""

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

    def set_version(self, version: str) -> None:
        """The new version to publish under (publish refuses a version already used)."""
        v = " ".join(str(version).split()) if isinstance(version, (str, int, float)) else ""
        if not v or isinstance(version, bool):
            raise RubricError("the version must be a non-empty text such as 2026-12-01.1", self.source_name)
        if self.version == v:
            return
        if "version" in self._data:
            self._data["version"] = styled_like(self._data["version"], v)
        else:
            pos = list(self._data).index("rubric") + 1 if "rubric" in self._data else 0
            self._data.insert(pos, "version", v)

    def applicability_choices(self, cid: str, lang: str = "it") -> list[tuple[str, Any]]:
        """(label, value) pairs for the applicability field: always, when the customer's name is
        known, each named condition, and the criterion's current rule when it is none of those."""
        need_lang(lang, self.source_name)
        current = self.criterion(cid).applicability
        choices: list[Any] = ["always", {"name_known": True}] + [{"condition": c} for c in self.condition_names()]
        out = [(describe_applicability(v, lang), v) for v in choices]
        if not any(same(v, current) for v in choices):
            out.append((text_for("as_now", lang).format(rule=one_line(current)), current))
        return out

    # ---- editing: criterion fields -------------------------------------------------------------

    def set_title(self, cid: str, title: str) -> None:
        """Set the criterion's title (one text, whitespace collapsed)."""
        if isinstance(title, Mapping):
            raise RubricError(f"criterion {cid!r}: a title is one text (the rubric language has no per-language "
                              "titles; the feedback texts are per language)", self.source_name)
        if not isinstance(title, str) or not title.strip():
            raise RubricError(f"criterion {cid!r}: the title must be a non-empty text", self.source_name)
        self._set_field(cid, "title", " ".join(title.split()))

    def set_weight(self, cid: str, weight: int | float) -> None:
        """Set the criterion's weight (a finite number > 0)."""
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0 \
                or weight != weight or weight == float("inf"):
            raise RubricError(f"criterion {cid!r}: weight must be a number > 0, got {weight!r}", self.source_name)
        self._set_field(cid, "weight", weight)

    def set_critical(self, cid: str, critical: bool) -> None:
        """Set whether failing the criterion fails the whole call."""
        if not isinstance(critical, bool):
            raise RubricError(f"criterion {cid!r}: 'critical' must be true or false, got {critical!r}",
                              self.source_name)
        self._set_field(cid, "critical", critical)

    def set_applicability(self, cid: str, when: Any) -> None:
        """``"always"``, ``{"condition": name}``, ``{"name_known": True}``, or any rule as plain
        Python values (``{"any": [{"condition": "a"}, {"condition": "b"}]}``); see applicability_choices."""
        view = self._view()
        self._need_criterion(cid, view)
        when = plain(when)
        if when != "always":
            if not isinstance(when, dict) or len(when) != 1:
                raise RubricError(f"criterion {cid!r}: applicability is 'always' or a rule with exactly one of "
                                  f"{', '.join(RULE_KEYS)}, got {one_line(when)}", self.source_name)
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
        need_lang(lang, self.source_name)
        before = other if other is not None else RubricDocument(
            self._original_text, self.source_name, path=self.path, base_dir=self.base_dir)
        return summarise_changes(before, self, lang)

    # ---- internals -------------------------------------------------------------------------------

    def _set_field(self, cid: str, field: str, value: Any) -> None:
        key = _YAML_KEY[field]
        view = self._view()
        self._need_criterion(cid, view)
        fields = view.criteria[cid]
        current = plain(fields[key][0]) if key in fields else DEFAULTS.get(key, _MISSING)
        if same(current, value):
            return
        anc = self._view(ancestors_only=True).criteria.get(cid)
        if anc is not None:
            inherited = plain(anc[key][0]) if key in anc else DEFAULTS.get(key, _MISSING)
        else:
            inherited = DEFAULTS.get(key, _MISSING)
        crits = self._data.get("criteria")
        own = crits.get(cid) if isinstance(crits, CommentedMap) else None
        if isinstance(own, CommentedMap) and key in own and same(value, inherited):
            delete_key(own, key)  # back to the inherited (or default) value: no override needed
            if not own and anc is not None:
                delete_key(crits, cid)
                if not crits:
                    delete_key(self._data, "criteria")
            return
        if not isinstance(own, CommentedMap):
            own = CommentedMap()
            append_key(section(self._data, "criteria", SECTION_ORDER), cid, own)
        node = to_node(value)
        if key in own:
            replace_value(own, key, styled_like(own[key], node) if isinstance(node, str) else node)
        else:
            insert_ordered(own, key, node, _KEY_ORDER)

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
        return re.sub(r"^extends:.*$", lambda m: "extends: " + dq(str(parent.resolve())), text, count=1,
                      flags=re.M)
