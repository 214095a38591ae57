"""Rubric engine: competence rubrics (YAML in rubriche/) -> evaluations with evidence and feedback.

Public API::

    load_rubric(name_or_path) -> Rubric        # validated, compiled, cached per process
    list_rubrics() -> list[str]
    validate_rubric(path) -> list[RubricError]  # empty: valid
    validate_rubric_text(text, source_name) -> list[RubricError]
    score_transcript(transcript, rubric=None) -> Evaluation
    score_transcripts(transcripts, rubric=None) -> Iterator[Evaluation]
    infer_call_type(transcript) -> (call_type, confidence)
    infer_language(transcript) -> str
    find_customer_name(transcript) -> str | None

The engine itself (``qa.rubric.engine``) only scores prepared calls; ``score_transcript(s)`` are
the short way from transcripts, through the pipeline's stages (``qa.pipeline``: roles, language,
call type, rubric, then the engine). The rule language is documented in docs/RUBRIC_LANGUAGE.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator

from .infer import infer_call_type, infer_language
from .loader import list_rubrics, load_rubric, load_rubric_text, validate_rubric, validate_rubric_text
from .names import find_customer_name
from .schema import Criterion, Rubric

if TYPE_CHECKING:
    from ..model import Evaluation, Transcript


def score_transcript(transcript: "Transcript", rubric: str | Rubric | None = None) -> "Evaluation":
    """Evaluate one call (``qa.pipeline.score_transcript``). ``rubric`` None: the rubric of
    metadata.call_type (inferred when absent)."""
    from ..pipeline import score_transcript as score

    return score(transcript, rubric)


def score_transcripts(transcripts: Iterable["Transcript"], rubric: str | Rubric | None = None,
                      batch_size: int = 256) -> Iterator["Evaluation"]:
    """Evaluate many calls in batches (``qa.pipeline.score_transcripts``); order kept, the results
    of ``score_transcript``."""
    from ..pipeline import score_transcripts as score

    return score(transcripts, rubric, batch_size)


__all__ = ["load_rubric", "load_rubric_text", "list_rubrics", "validate_rubric", "validate_rubric_text",
           "score_transcript", "score_transcripts", "infer_call_type", "infer_language", "find_customer_name",
           "Rubric", "Criterion"]
