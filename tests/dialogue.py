"""Short dialogues written for a test, as transcripts (imported by tests/test_real_call_rules*.py)."""

from __future__ import annotations

from qa.model import Segment, Transcript


def dialogue(lang: str, turns: list[tuple[str, str]], call_type: str = "assistenza", prefix: str = "dlg",
             **meta) -> Transcript:
    """A transcript of ``turns`` ((speaker, text) pairs) in ``lang``: timing from word counts (0.35 s a
    word, at least 1.5 s a turn, 0.4 s between turns), ``call_type`` and ``meta`` as its metadata, an id
    from ``prefix`` and the turns."""
    segs, t = [], 0.0
    for speaker, text in turns:
        d = max(1.5, 0.35 * len(text.split()))
        segs.append(Segment(speaker, t, t + d, text))
        t += d + 0.4
    return Transcript(f"{prefix}-{lang}-{abs(hash(tuple(turns))) % 10**6}", segs, language=lang,
                      metadata={"call_type": call_type, **meta})


def framed(opening: tuple[str, str], middle: list[tuple[str, str]], closing: tuple[str, str]) -> list[tuple[str, str]]:
    """A short call around ``middle``: the agent's opening and the caller's need (``opening``), the
    turns under test, the caller's answer and the agent's farewell (``closing``)."""
    return [("agent", opening[0]), ("customer", opening[1]), *middle, ("customer", closing[0]), ("agent", closing[1])]


def criterion_result(lang: str, turns: list[tuple[str, str]], crit: str, call_type: str = "assistenza",
                     prefix: str = "dlg", **meta):
    """The result of criterion ``crit`` when the dialogue is scored by the production path."""
    from qa.pipeline import score_transcript

    return score_transcript(dialogue(lang, turns, call_type, prefix, **meta)).result(crit)
