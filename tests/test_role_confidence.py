"""A speaker the role model only guessed (``extra["role_confidence"]`` under
``qa.rubric.context.SCORING_ROLE_CONFIDENCE``) counts for either party in the rules, as an ``unknown``
one does; a confident one counts for its role only (docs/RUBRIC_LANGUAGE.md, `by`)."""

from __future__ import annotations

from qa.pipeline import score_transcript
from qa.rubric.context import SCORING_ROLE_CONFIDENCE
from tests.dialogue import dialogue

TURNS = [("agent", "helpdesk buongiorno sono Marco"), ("customer", "buongiorno ho la stampante bloccata"),
         ("agent", "la sblocco da remoto ecco fatto provi adesso"), ("customer", "sì adesso stampa"),
         ("customer", "grazie a lei arrivederci")]


def _congedo(confidence: float | None) -> str:
    t = dialogue("it", TURNS)
    last = t.segments[-1]
    if confidence is not None:
        last.extra["role_confidence"] = confidence
    return score_transcript(t).result("congedo").result


def test_the_agents_thanks_needs_the_agent():
    assert _congedo(None) == "fail"  # said by the customer (a known speaker): not the agent's thanks


def test_a_guessed_speaker_counts_for_either_party():
    assert _congedo(SCORING_ROLE_CONFIDENCE - 0.05) == "pass"  # the role model was unsure who said it


def test_a_confident_role_counts_for_that_role_only():
    assert _congedo(SCORING_ROLE_CONFIDENCE + 0.1) == "fail"
