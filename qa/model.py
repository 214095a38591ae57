"""The currency of the pipeline: Transcript and Evaluation, exactly as docs/FORMATS.md.

Every stage takes and returns these dataclasses; ``to_dict``/``from_dict`` give the public
JSON form. Unknown metadata keys are kept, not rejected.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import TranscriptFormatError

SPEAKERS = ("agent", "customer", "unknown")
RESULTS = ("pass", "fail", "na")


def _num(value: Any, what: str, source: str | None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TranscriptFormatError(f"{what} must be a finite number, got {value!r}", source)
    return float(value)


@dataclass
class Word:
    """One recognised word of a segment: ``word``, ``start``/``end`` in seconds and, from the recogniser,
    its ``probability``."""

    word: str
    start: float
    end: float
    probability: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: times rounded to milliseconds, the probability to 4 decimals and left out when
        unknown."""
        d: dict[str, Any] = {"word": self.word, "start": round(self.start, 3), "end": round(self.end, 3)}
        if self.probability is not None:
            d["probability"] = round(float(self.probability), 4)
        return d


@dataclass
class Segment:
    """One turn: ``speaker`` (agent, customer or unknown), ``start``/``end`` in seconds, ``text``, optional
    ``words`` and recogniser ``confidence``; keys of the input that the format does not name
    (role_confidence, channel …) are kept in ``extra`` and written back."""

    speaker: str
    start: float
    end: float
    text: str
    words: list[Word] | None = None
    confidence: float | None = None
    # Extra keys found in the input (e.g. role_confidence, channel) are kept here.
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (times rounded to milliseconds; ``words`` and ``confidence`` only when present),
        with ``extra``'s keys merged in."""
        d: dict[str, Any] = {
            "speaker": self.speaker,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
        }
        if self.confidence is not None:
            d["confidence"] = round(float(self.confidence), 4)
        if self.words is not None:
            d["words"] = [w.to_dict() for w in self.words]
        d.update(self.extra)
        return d


@dataclass
class Transcript:
    """A call's transcript: ``call_id``, its ``segments`` in order, ``language`` and ``duration`` (seconds)
    when known, free ``metadata`` and, in ``extra``, top-level keys the format does not name."""

    call_id: str
    segments: list[Segment]
    language: str | None = None
    duration: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    # ----- JSON -----
    def to_dict(self) -> dict[str, Any]:
        """The public JSON object of docs/FORMATS.md, with ``extra``'s keys merged in at the top level."""
        d: dict[str, Any] = {"call_id": self.call_id}
        if self.language is not None:
            d["language"] = self.language
        if self.duration is not None:
            d["duration"] = round(self.duration, 3)
        d["metadata"] = dict(self.metadata)
        d["segments"] = [s.to_dict() for s in self.segments]
        d.update(self.extra)
        return d

    def to_json(self) -> str:
        """``to_dict`` as indented JSON text, non-ASCII characters kept as they are."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1)

    def save(self, path: str | Path) -> Path:
        """Write the JSON to ``path`` through a temporary file renamed over it, so that a crash never
        leaves half a file; returns the path."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.to_json() + "\n", encoding="utf-8")
        tmp.replace(path)  # atomic: a crash never leaves half a file
        return path

    @classmethod
    def from_dict(cls, data: Any, source: str | None = None) -> "Transcript":
        """Validate a transcript's JSON object and build it. Raises ``TranscriptFormatError`` (naming
        ``source`` and the segment) for a missing call_id, segments that are not a list, an unknown
        speaker, times that are not finite numbers or not 0 <= start <= end, text that is not a string,
        malformed words. Unknown keys go to ``extra``."""
        if not isinstance(data, dict):
            raise TranscriptFormatError("a transcript must be a JSON object", source)
        if "call_id" not in data or not isinstance(data["call_id"], (str, int)) or str(data["call_id"]).strip() == "":
            raise TranscriptFormatError("missing or empty 'call_id'", source)
        segs = data.get("segments")
        if not isinstance(segs, list):
            raise TranscriptFormatError("'segments' must be a list", source)
        metadata = data.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise TranscriptFormatError("'metadata' must be an object", source)
        segments: list[Segment] = []
        known = {"speaker", "start", "end", "text", "words", "confidence"}
        for i, s in enumerate(segs):
            where = f"segment {i}"
            if not isinstance(s, dict):
                raise TranscriptFormatError(f"{where} must be an object", source)
            for key in ("speaker", "start", "end", "text"):
                if key not in s:
                    raise TranscriptFormatError(f"{where} lacks '{key}'", source)
            speaker = s["speaker"]
            if speaker not in SPEAKERS:
                raise TranscriptFormatError(
                    f"{where}: speaker must be agent, customer or unknown, got {speaker!r}", source
                )
            start = _num(s["start"], f"{where} start", source)
            end = _num(s["end"], f"{where} end", source)
            if end < start or start < 0:
                raise TranscriptFormatError(f"{where}: needs 0 <= start <= end, got {start}..{end}", source)
            if not isinstance(s["text"], str):
                raise TranscriptFormatError(f"{where}: text must be a string", source)
            words = None
            if s.get("words") is not None:
                if not isinstance(s["words"], list):
                    raise TranscriptFormatError(f"{where}: words must be a list", source)
                words = []
                for w in s["words"]:
                    if not isinstance(w, dict) or "word" not in w:
                        raise TranscriptFormatError(f"{where}: each word needs 'word', 'start', 'end'", source)
                    words.append(
                        Word(
                            str(w["word"]),
                            _num(w.get("start", start), f"{where} word start", source),
                            _num(w.get("end", end), f"{where} word end", source),
                            w.get("probability"),
                        )
                    )
            conf = s.get("confidence")
            segments.append(
                Segment(
                    speaker=speaker,
                    start=start,
                    end=end,
                    text=s["text"],
                    words=words,
                    confidence=None if conf is None else _num(conf, f"{where} confidence", source),
                    extra={k: v for k, v in s.items() if k not in known},
                )
            )
        duration = data.get("duration")
        known_top = {"call_id", "language", "duration", "metadata", "segments"}
        return cls(
            call_id=str(data["call_id"]),
            segments=segments,
            language=data.get("language"),
            duration=None if duration is None else _num(duration, "duration", source),
            metadata=dict(metadata),
            extra={k: v for k, v in data.items() if k not in known_top},
        )

    @classmethod
    def load(cls, path: str | Path) -> "Transcript":
        """Read and validate a transcript JSON file. ``TranscriptFormatError`` for a missing file, a
        folder, text that is not UTF-8, an empty file, invalid JSON (with line and column) and whatever
        ``from_dict`` refuses."""
        path = Path(path)
        if not path.exists():
            raise TranscriptFormatError("file not found", str(path))
        if path.is_dir():
            raise TranscriptFormatError("is a directory, not a transcript file", str(path))
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise TranscriptFormatError("not UTF-8 text (is this a transcript JSON?)", str(path)) from None
        if not text.strip():
            raise TranscriptFormatError("empty file", str(path))
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise TranscriptFormatError(f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}", str(path)) from None
        return cls.from_dict(data, str(path))

    # ----- helpers -----
    @property
    def end_time(self) -> float:
        """The call's end in seconds: ``duration`` when known, else the latest end of a segment (0.0
        without segments)."""
        if self.duration is not None:
            return self.duration
        return max((s.end for s in self.segments), default=0.0)


@dataclass
class Evidence:
    """A turn quoted as evidence for a criterion's result: ``speaker``, ``start``/``end`` in seconds and
    ``text``."""

    speaker: str
    start: float
    end: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, times rounded to milliseconds."""
        return {"speaker": self.speaker, "start": round(self.start, 3), "end": round(self.end, 3), "text": self.text}


@dataclass
class CriterionResult:
    """One criterion's result on a call: ``id``, ``competence``, ``result`` (pass, fail or na), ``weight``,
    the ``evidence`` turns, ``feedback`` text, ``critical``, the ``title`` and a model's ``confidence``
    when there are; other keys (``reason`` …) are kept in ``extra``."""

    id: str
    competence: str
    result: str  # pass | fail | na
    weight: float
    evidence: list[Evidence] = field(default_factory=list)
    feedback: str = ""
    critical: bool = False
    title: str | None = None
    confidence: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``title``, ``critical`` and ``confidence`` only when set, ``extra``'s keys merged
        in."""
        d: dict[str, Any] = {
            "id": self.id,
            "competence": self.competence,
            "result": self.result,
            "weight": float(self.weight),
            "evidence": [e.to_dict() for e in self.evidence],
            "feedback": self.feedback,
        }
        if self.title is not None:
            d["title"] = self.title
        if self.critical:
            d["critical"] = True
        if self.confidence is not None:
            d["confidence"] = round(float(self.confidence), 4)
        d.update(self.extra)
        return d

    @property
    def reason(self) -> str | None:
        """Why the result is what it is, in the call's language, with the turn that shows it where
        there is one: for ``na`` why the criterion does not apply ("La registrazione inizia a chiamata
        già avviata … («eccomi qua allora mi diceva…»)"), for a failed conditional criterion why it
        applied ("Il cliente ha espresso insoddisfazione («è la terza volta che chiamo»)"), for some
        passes what the rule found; None otherwise. Kept in ``extra`` (JSON key ``reason``), so that it is
        stored, exported and read back wherever the criterion's other extra keys are; evaluations
        made before it existed simply have none."""
        value = self.extra.get("reason")
        return value if isinstance(value, str) and value else None

    @reason.setter
    def reason(self, value: str | None) -> None:
        """Set the reason in ``extra['reason']``; an empty value removes it."""
        if value:
            self.extra["reason"] = str(value)
        else:
            self.extra.pop("reason", None)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CriterionResult":
        """Build a result from its JSON form: ``id`` and ``result`` required (KeyError without them), the
        other fields defaulted (weight 1.0); unknown keys go to ``extra``."""
        known = {"id", "competence", "result", "weight", "evidence", "feedback", "critical", "title", "confidence"}
        return cls(
            id=d["id"],
            competence=str(d.get("competence", "")),
            result=d["result"],
            weight=float(d.get("weight", 1.0)),
            evidence=[Evidence(**{k: e[k] for k in ("speaker", "start", "end", "text")}) for e in d.get("evidence", [])],
            feedback=d.get("feedback", ""),
            critical=bool(d.get("critical", False)),
            title=d.get("title"),
            confidence=d.get("confidence"),
            extra={k: v for k, v in d.items() if k not in known},
        )


def compute_score(results: list[CriterionResult]) -> float | None:
    """100 x (weights passed) / (weights applicable), as CRITERIA.md fixes it."""
    applicable = [r for r in results if r.result in ("pass", "fail")]
    total = sum(r.weight for r in applicable)
    if total <= 0:
        return None
    return round(100.0 * sum(r.weight for r in applicable if r.result == "pass") / total, 1)


@dataclass
class Evaluation:
    """One call scored with one rubric: ``call_id``, ``rubric`` (its name) and ``rubric_version``, one
    ``CriterionResult`` per criterion, the ``score`` (``compute_score``: 0-100, None when nothing
    applied), ``flags`` (``compliance`` when a critical criterion failed) and, in ``extra``, other
    top-level keys such as the call's facts and customer name."""

    call_id: str
    rubric: str
    rubric_version: str
    criteria: list[CriterionResult]
    score: float | None = None
    flags: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The public JSON object of docs/FORMATS.md, with ``extra``'s keys merged in at the top level."""
        d: dict[str, Any] = {
            "call_id": self.call_id,
            "rubric": self.rubric,
            "rubric_version": self.rubric_version,
            "score": self.score,
            "flags": list(self.flags),
            "criteria": [c.to_dict() for c in self.criteria],
        }
        d.update(self.extra)
        return d

    def to_json(self, indent: int | None = 1) -> str:
        """``to_dict`` as JSON text (``indent`` None: one line), non-ASCII characters kept as they are."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def save(self, path: str | Path) -> Path:
        """Write the JSON to ``path`` through a temporary file renamed over it, so that a crash never
        leaves half a file; returns the path."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.to_json() + "\n", encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Evaluation":
        """Build an evaluation from its JSON object: ``call_id``, ``rubric`` and ``rubric_version``
        required (KeyError without them), criteria read with ``CriterionResult.from_dict``; unknown keys
        go to ``extra``. No further validation."""
        known = {"call_id", "rubric", "rubric_version", "score", "flags", "criteria"}
        return cls(
            call_id=str(d["call_id"]),
            rubric=d["rubric"],
            rubric_version=str(d["rubric_version"]),
            criteria=[CriterionResult.from_dict(c) for c in d.get("criteria", [])],
            score=d.get("score"),
            flags=list(d.get("flags", [])),
            extra={k: v for k, v in d.items() if k not in known},
        )

    @classmethod
    def load(cls, path: str | Path) -> "Evaluation":
        """Read an evaluation JSON file written by ``save`` (``from_dict``; JSON and file errors are not
        converted)."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def result(self, criterion_id: str) -> CriterionResult | None:
        """The result of criterion ``criterion_id``, or None when the evaluation has none."""
        return next((c for c in self.criteria if c.id == criterion_id), None)
