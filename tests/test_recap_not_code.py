"""Issue 12, `riepilogo` (CRITERIA.md "Summary": a bare next action or a number read out is no recap):
a code read out ("right so your PAC code is …", "le code RIO est …") and a closing formula that only
introduces what to do next ("Pour conclure, il faudra passer en agence…") are no summary; a recap of
what was agreed in the same place still is. Real engine, real spaCy, short dialogues written for the
test (no mocks)."""

from __future__ import annotations

from functools import partial

import pytest

from .dialogue import criterion_result

_res = partial(criterion_result, prefix="recapcode")
A, C = "agent", "customer"
CASES = [
    ("en", "right so your PAC code is 4471 220, it's valid for thirty days and you'll get it by text as well",
     "so to recap, we close the line on the thirtieth and your PAC code comes by text"),
    ("fr", "Pour conclure, il faudra passer en agence avec vos deux pièces d'identité, jeudi à 17 h.",
     "Pour résumer : le compte est ouvert jeudi en agence, vous apportez vos deux pièces d'identité."),
]
OPEN = {"en": ("hello, mobile services, Sam speaking", "hi, I want to leave and keep my number"),
        "fr": ("bonjour, banque du Lac, Julie à l'appareil", "bonjour, je voudrais ouvrir un compte")}
MID = {"en": [("agent", "okay, I can do that for you"), ("customer", "great")],
       "fr": [("agent", "d'accord, je regarde les disponibilités"), ("customer", "merci")]}
BYE = {"en": ("okay thanks", "thank you, bye"), "fr": ("d'accord merci", "merci à vous, au revoir")}


@pytest.mark.parametrize("lang,bare,recap", CASES, ids=[c[0] for c in CASES])
def test_a_code_read_out_or_a_closing_formula_is_no_recap(lang, bare, recap):
    hello, need = OPEN[lang]
    ok, bye = BYE[lang]
    base = [(A, hello), (C, need)] + [(A if w == "agent" else C, t) for w, t in MID[lang]]
    assert _res(lang, base + [(A, bare), (C, ok), (A, bye)], "riepilogo").result == "fail"
    r = _res(lang, base + [(A, recap), (C, ok), (A, bye)], "riepilogo")
    assert r.result == "pass", r
