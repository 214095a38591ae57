"""Issue 12, `comprensione`: a restatement closed by a confirmation tag ("quindi … giusto") checks
understanding even when the restated need holds a negation ("quindi non ti fa nemmeno cambiarla,
giusto": the "non" belongs to what is restated, not to the tag); "korrekt", "c'est bien ça", "is that
correct" are such tags. A restatement without any tag or question is not. Real engine, real spaCy,
short dialogues written for the test (no mocks)."""

from __future__ import annotations

from functools import partial

import pytest

from .dialogue import criterion_result, framed

_res = partial(criterion_result, prefix="comptag")
A, C = "agent", "customer"
CASES = [
    ("it", "allora quindi ti blocca al login e non ti fa nemmeno cambiarla giusto",
     "allora ti blocca al login e non ti fa nemmeno cambiarla"),
    ("de", "also Sie kommen seit heute nicht mehr ins VPN, korrekt",
     "ich schaue mir das VPN an"),
    ("fr", "donc vous n'avez plus d'image depuis hier, c'est bien ça",
     "je regarde votre box"),
    ("en", "so you can't log in since the password change, is that correct",
     "let me look at the password"),
]
OPEN = {"it": ("helpdesk buongiorno", "ciao la password è scaduta e non riesco a entrare"),
        "de": ("Servicedesk, guten Tag", "guten Tag, das VPN geht nicht mehr"),
        "fr": ("bonjour, service clients", "bonjour, je n'ai plus d'image sur la télé"),
        "en": ("service desk, hello", "hi, I can't log in any more")}
CLOSE = {"it": ("sì esatto", "ok ti sistemo io, ciao"), "de": ("ja genau", "gut, ich richte das, auf Wiederhören"),
         "fr": ("oui c'est ça", "d'accord, je m'en occupe, au revoir"), "en": ("yes exactly", "okay, I'll sort it, bye")}


@pytest.mark.parametrize("lang,tagged,untagged", CASES, ids=[c[0] for c in CASES])
def test_a_tagged_restatement_checks_understanding_even_with_a_negation_inside(lang, tagged, untagged):
    r = _res(lang, framed(OPEN[lang], [(A, tagged)], CLOSE[lang]), "comprensione")
    assert r.result == "pass", r
    assert any(tagged in e.text for e in r.evidence)
    assert _res(lang, framed(OPEN[lang], [(A, untagged)], CLOSE[lang]), "comprensione").result == "fail"
