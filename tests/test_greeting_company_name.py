"""Issue 12, `saluto` on a recogniser's lower-case transcript: a company or service name the language's
lemma table does not know, said next to the opening greeting ("swisslink guten tag", "energiewerk
störungsdienst guten abend", "good afternoon homeware direct"), is the presentation, as a capitalised
name is in a written transcript. Interjections and greetings ("ja grüezi", "ouais bonjour") present
nobody. Real engine, real spaCy, short dialogues written for the test (no mocks)."""

from __future__ import annotations

from functools import partial

import pytest

from .dialogue import criterion_result

_res = partial(criterion_result, prefix="greetco")
A, C = "agent", "customer"
NEED = {"de": "grüezi ich möchte mein handyabo kündigen", "en": "hi i bought a kettle and it's leaking",
        "fr": "bonjour je voudrais résilier mon contrat", "it": "buongiorno vorrei disdire il contratto"}
PRESENTS = [("de", "swisslink guten tag was kann ich für sie tun"),
            ("de", "einwohnerkontrolle guten tag"),
            ("en", "good afternoon homeware direct how can i help"),
            ("fr", "bonjour telvalis que puis-je faire pour vous"),
            ("it", "buongiorno fibranet mi dica")]
BARE = [("de", "ja grüezi was kann ich für sie tun"), ("fr", "ouais bonjour"), ("en", "yeah hello how can i help"),
        ("it", "sì buongiorno mi dica")]


@pytest.mark.parametrize("lang,opening", PRESENTS, ids=[f"{c[0]}-{i}" for i, c in enumerate(PRESENTS)])
def test_an_unknown_company_name_next_to_the_greeting_presents_the_service(lang, opening):
    r = _res(lang, [(A, opening), (C, NEED[lang]), (A, "ok")], "saluto")
    assert r.result == "pass", r
    assert r.evidence and r.evidence[0].text == opening


@pytest.mark.parametrize("lang,opening", BARE, ids=[c[0] for c in BARE])
def test_a_greeting_with_only_an_interjection_presents_nobody(lang, opening):
    assert _res(lang, [(A, opening), (C, NEED[lang]), (A, "ok")], "saluto").result == "fail"


def test_only_the_opening_segment_and_no_rubric_word_is_taken_for_a_company_name():
    # the fairness check's ASR-style variant of two dev calls: "buonasera" (a greeting the lemma table
    # lacks) and "je suis vraiment désolé" later in the call (an adverb it lacks) present nobody
    assert _res("it", [(A, "buonasera mi dica"), (C, NEED["it"]), (A, "ah ok che macchina ha")], "saluto").result == "fail"
    assert _res("fr", [(A, "bonjour je vous écoute"), (C, NEED["fr"]),
                       (A, "je suis vraiment désolé monsieur c'est inacceptable")], "saluto").result == "fail"
