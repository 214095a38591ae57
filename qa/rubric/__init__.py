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

import sys
from typing import TYPE_CHECKING, Iterable, Iterator


def _import_thinc_without_torch() -> None:
    """Import spaCy's thinc with PyTorch hidden from it.

    thinc imports PyTorch at start whenever it is installed (the test extra installs it for the
    openai-whisper engine): about 4 s of CPU in every process that scores a call (each CLI command,
    each worker of an ingest pool), for nothing, since the blank spaCy pipelines never use it.
    Hidden only while thinc.compat is imported: a later ``import torch`` works as usual."""
    if "thinc.compat" in sys.modules or "torch" in sys.modules:
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` raises ImportError
    try:
        import thinc.compat  # noqa: F401
    finally:
        del sys.modules["torch"]


_import_thinc_without_torch()

from .infer import infer_call_type, infer_language  # noqa: E402
from .loader import list_rubrics, load_rubric, load_rubric_text, validate_rubric, validate_rubric_text  # noqa: E402
from .names import find_customer_name  # noqa: E402
from .schema import Criterion, Rubric  # noqa: E402

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
