"""Fairness on the team's labelled dev calls: changes that must not matter (other names, titles,
regional greetings, ASR-style lower case without punctuation) change no criterion result."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.learning.fairness import PERTURBATIONS, asr_style, fairness_check
from qa.model import Transcript
from qa.rubric import find_customer_name, load_rubric, score_transcript

DEVSET = Path(__file__).resolve().parent / "data" / "devset"


def dev(call_id: str) -> Transcript:
    return Transcript.load(DEVSET / f"{call_id}.json")


def results(t: Transcript) -> dict[str, str]:
    return {c.id: c.result for c in score_transcript(t).criteria}


def test_no_flips_on_the_labelled_devset():
    calls = [Transcript.load(f) for f in sorted(DEVSET.glob("dev-*.json"))]
    assert len(calls) == 64
    flips, compared = fairness_check(calls)
    assert compared > 64 * 11 * 2  # most calls have several perturbations that change something
    assert [f.to_dict() for f in flips] == []


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_each_perturbation_changes_some_dev_call(name):
    """The check above compares something: every perturbation rewrites at least one dev call."""
    calls = [Transcript.load(f) for f in sorted(DEVSET.glob("dev-*.json"))]
    changed = [t.call_id for t in calls
               if [s.text for s in PERTURBATIONS[name](t).segments] != [s.text for s in t.segments]]
    assert changed


def test_asr_style_self_introduction_still_names_the_customer():
    """dev-fr-011: "Bonjour, Bernard Keller. Écoutez, …" -> "bonjour bernard keller écoutez …". The
    agent only says "Monsieur": nome_cliente fails (a name is known but not used), in both forms."""
    t = dev("dev-fr-011")
    assert "customer_name" not in t.metadata  # the name comes from the call itself
    a = asr_style(t)
    assert a.segments[1].text.startswith("bonjour bernard keller écoutez je suis")
    assert a.metadata == t.metadata
    assert find_customer_name(t) == "Bernard Keller"
    assert find_customer_name(a) == "bernard keller"
    assert results(t)["nome_cliente"] == results(a)["nome_cliente"] == "fail"


def test_asr_style_text_gives_the_same_model_verdict():
    """dev-en-007: "Done. The Duo plan is active from today, and you'll see the difference … on the
    fifteenth." The next-step model saw 0.94 with punctuation and 0.95 (the threshold) without:
    model conditions now see one normal form, so both forms score alike (and as labelled: pass)."""
    from qa.rubric.context import model_text

    t = dev("dev-en-007")
    a = asr_style(t)
    for s, sa in zip(t.segments, a.segments):
        assert model_text(s.text) == model_text(sa.text)
    res, res_a = results(t), results(a)
    assert res == res_a
    assert res["prossimi_passi"] == "pass"
    ev = score_transcript(t, load_rubric("assistenza")).result("prossimi_passi")
    assert any("you'll see the difference" in e.text for e in ev.evidence)
