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

The rule language is documented in docs/RUBRIC_LANGUAGE.md.
"""

from .engine import score_transcript, score_transcripts
from .infer import infer_call_type, infer_language
from .loader import list_rubrics, load_rubric, load_rubric_text, validate_rubric, validate_rubric_text
from .names import find_customer_name
from .schema import Criterion, Rubric

__all__ = ["load_rubric", "load_rubric_text", "list_rubrics", "validate_rubric", "validate_rubric_text",
           "score_transcript", "score_transcripts", "infer_call_type", "infer_language", "find_customer_name",
           "Rubric", "Criterion"]
