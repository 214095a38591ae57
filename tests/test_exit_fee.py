"""Issue 12, `proposta_disdetta`: telling a caller who cancels that leaving costs nothing ("you're out
of contract so there's no fee to leave", "non ci sono costi per disdire") is information about the
cancellation, not an offer to stay; a real offer in the same call still passes. Real engine, real
spaCy, short dialogues written for the test (no mocks)."""

from __future__ import annotations

from functools import partial

import pytest

from .dialogue import criterion_result

_res = partial(criterion_result, prefix="exitfee", call_type="fidelizzazione")
A, C = "agent", "customer"
CASES = [
    ("en", "hello, broadband, Sam speaking", "hi, I want to cancel my broadband, I'm moving in with my partner",
     "right, you're out of contract so there's no fee to leave",
     "I can offer you three months free on a smaller plan", "okay bye then"),
    ("it", "buongiorno, servizio clienti, sono Anna", "buongiorno, vorrei disdire il contratto internet",
     "allora il contratto è scaduto, non ci sono costi per disdire",
     "le posso proporre tre mesi gratis con un piano più piccolo", "va bene arrivederci"),
    ("de", "guten Tag, Kundendienst, Meier", "guten Tag, ich möchte mein Internet-Abo kündigen",
     "Sie sind aus der Mindestlaufzeit, es fallen keine Gebühren an, um auszusteigen",
     "ich kann Ihnen drei Monate Rabatt auf ein kleineres Abo anbieten", "gut, auf Wiederhören"),
    ("fr", "bonjour, service clients, Julie", "bonjour, je veux résilier mon abonnement internet",
     "vous êtes hors engagement, c'est sans frais pour résilier",
     "je peux vous proposer trois mois offerts sur un forfait plus petit", "d'accord au revoir"),
]


@pytest.mark.parametrize("lang,hello,cancel,no_fee,offer,bye", CASES, ids=[c[0] for c in CASES])
def test_no_fee_to_leave_is_no_retention_offer(lang, hello, cancel, no_fee, offer, bye):
    r = _res(lang, [(A, hello), (C, cancel), (A, no_fee), (C, bye)], "proposta_disdetta")
    assert r.result == "fail", r
    r = _res(lang, [(A, hello), (C, cancel), (A, no_fee), (A, offer), (C, bye)], "proposta_disdetta")
    assert r.result == "pass", r
    assert any(offer in e.text for e in r.evidence)
