"""Issue 12, `prossimi_passi` (CRITERIA.md "Next steps", a conditional channel included): what happens
next said in everyday words: a scheduled time ("il ripristino è previsto verso le sedici"), a
delivery on its way ("das geht morgen raus, Sie kriegen vorher eine SMS"), the customer taken off a
list ("ich trage Sie aus der Liste aus, Sie werden nicht mehr angerufen"), a door left open ("wenn Sie
es sich anders überlegen, können Sie jederzeit…", "if you change your mind you can always…"). A call
that ends on a plain answer with nothing about what comes next fails. Real engine, real spaCy, short
dialogues written for the test (no mocks)."""

from __future__ import annotations

from functools import partial

import pytest

from .dialogue import criterion_result, framed

_res = partial(criterion_result, prefix="nextday")
A, C = "agent", "customer"
CASES = [
    ("it", "la squadra è sul posto e il ripristino è previsto verso le sedici", "la squadra è sul posto"),
    ("de", "das geht morgen raus, Sie kriegen vorher eine SMS", "die Adresse ist geändert"),
    ("de", "ich trage Sie aus der Liste aus, Sie werden nicht mehr angerufen", "das ist notiert"),
    ("de", "wenn Sie es sich anders überlegen, können Sie jederzeit online ein Abo abschließen", "das ist notiert"),
    ("fr", "la réparation est prévue pour jeudi matin", "le technicien a regardé"),
    ("en", "the pause starts from the first of February", "that's the pause set up"),
    ("en", "if you change your mind you can always rejoin online", "that's the account closed"),
]
OPEN = {"it": ("buongiorno, servizio clienti", "buongiorno, non ho più acqua"),
        "de": ("guten Tag, Kundendienst", "guten Tag, es geht um meine Lieferung"),
        "fr": ("bonjour, service clients", "bonjour, mon chauffage est en panne"),
        "en": ("hello, customer service", "hi, I'd like to pause my membership")}
BYE = {"it": ("va bene", "arrivederci"), "de": ("gut", "auf Wiederhören"), "fr": ("d'accord", "au revoir"),
       "en": ("okay", "bye then")}


@pytest.mark.parametrize("lang,next_step,plain", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_what_happens_next_in_everyday_words_is_a_next_step(lang, next_step, plain):
    r = _res(lang, framed(OPEN[lang], [(A, next_step)], BYE[lang]), "prossimi_passi")
    assert r.result == "pass", r
    assert any(next_step in e.text for e in r.evidence)
    assert _res(lang, framed(OPEN[lang], [(A, plain)], BYE[lang]), "prossimi_passi").result == "fail"


def test_handing_over_a_password_now_is_no_next_step():
    r = _res("de", [(A, "Servicedesk, guten Tag"), (C, "mein Konto ist gesperrt"),
                    (A, "so jetzt ist es entsperrt, Sie kriegen das temporäre Passwort sommer zwei null"), (C, "gut"),
                    (A, "auf Wiederhören")], "prossimi_passi")
    assert r.result == "fail"
