"""What the rubric form view (QA lead page) needs beyond ``qa.rubric.editing.RubricDocument``:
applying one form edit to the draft YAML, a version to suggest, and the live preview of which
stored calls change result under the draft, with the evidence that changed.

The draft is YAML text (the same text the YAML editor shows): every form edit reads it into a
``RubricDocument``, changes exactly the lines of that field (comments kept) and writes the text
back. Publishing goes through ``qa.learning.publish.publish_rubric`` like the YAML editor's.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from ..errors import QAError, RubricError
from ..rubric.editing import RubricDocument


@dataclass
class CallChange:
    """One stored call under the draft: old and new score, and each criterion whose result flips
    with the evidence before (the lines that made it pass) and after."""

    call_id: str
    old_score: float | None
    new_score: float | None
    flips: list[dict] = field(default_factory=list)  # criterion, title, old, new, before, after

    @property
    def delta(self) -> float | None:
        """``new_score - old_score`` rounded to one decimal, or None when either score is None."""
        if self.old_score is None or self.new_score is None:
            return None
        return round(self.new_score - self.old_score, 1)


def next_version(current: str | None, today: dt.date | None = None) -> str:
    """The version to suggest for a draft of a rubric now at ``current``: today's date with a
    counter (``2026-12-06.1``), one more than the current one's when it is from today too."""
    today = today or dt.date.today()
    stamp = today.isoformat()
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.(\d+)", str(current or ""))
    if m and m.group(1) == stamp:
        return f"{stamp}.{int(m.group(2)) + 1}"
    return f"{stamp}.1"


def apply_edit(text: str, name: str, current_version: str | None, edit: str, *args) -> str:
    """``text`` with one form edit applied (``edit`` a ``RubricDocument`` setter: set_title,
    set_weight, set_critical, set_applicability, set_phrases, set_version). A draft still carrying
    the published version gets a new one (publishing refuses a version already used).
    RubricError when the edit is refused (an invalid phrase, a weight of 0 ...)."""
    doc = RubricDocument.from_text(text, f"{name}.yaml")
    getattr(doc, edit)(*args)
    if edit != "set_version" and current_version is not None and doc.version == str(current_version):
        doc.set_version(next_version(current_version))
    return doc.to_text()


def changed_phrases(old: list[str], new: list[str]) -> list[str]:
    """The list a multiselect of phrases now holds, in the form's order: kept phrases where they
    were, new ones at the end (whitespace collapsed, empty ones dropped)."""
    clean = [" ".join(str(p).split()) for p in new]
    kept = [p for p in old if p in clean]
    return kept + [p for p in clean if p and p not in kept]


def preview_changes(store, current, draft_text: str, call_ids: list[str], name: str) -> list[CallChange]:
    """Score the stored transcripts of ``call_ids`` with the current rubric and with the draft;
    the calls and criteria whose result differs, with the evidence of each side. Nothing is
    written. RubricError when the draft is invalid."""
    from ..pipeline import score_transcript

    candidate = RubricDocument.from_text(draft_text, f"{name}.yaml").rubric()
    out = []
    for cid in call_ids:
        try:
            transcript = store.load_transcript(cid)
        except QAError:
            continue
        old = score_transcript(transcript, current) if current is not None else None
        new = score_transcript(transcript, candidate)
        before = {c.id: c for c in old.criteria} if old else {}
        flips = []
        for c in new.criteria:
            b = before.get(c.id)
            if b is not None and b.result == c.result:
                continue
            flips.append({"criterion": c.id, "title": c.title or c.id, "old": b.result if b else "-",
                          "new": c.result, "before": [e.text for e in (b.evidence if b else [])],
                          "after": [e.text for e in c.evidence]})
        out.append(CallChange(cid, old.score if old else None, new.score, flips))
    return out


def form_errors(text: str, name: str) -> list[RubricError] | None:
    """None when ``text`` cannot be read as a form at all (broken YAML), else its validation errors."""
    try:
        doc = RubricDocument.from_text(text, f"{name}.yaml")
    except RubricError:
        return None
    return doc.validate()
