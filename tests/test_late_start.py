"""A recording that begins after the opening with no cue word at all (CRITERIA.md, "Recording starts
late"): nobody greets, presents themselves, answers the phone or names the service in the first two
turns, so the greeting cannot be judged and `saluto` is `na` with its reason. Openings without a
greeting ("pronto", "allô oui", "Kundendienst ja bitte", "water services") are still judged."""

from __future__ import annotations

import pytest

from tests.dialogue import criterion_result

LATE = [
    ("it", [("agent", "allora il numero di inventario è <NUM>"), ("customer", "sì <NUM>"),
            ("agent", "okay vedo il suo pc adesso lo riavvio da remoto"), ("customer", "va bene")]),
    ("it", [("agent", "signora <PER>"), ("customer", "sì"),
            ("agent", "allora ho guardato la sua stampante è in errore carta"), ("customer", "ah ecco")]),
    ("it", [("customer", "e quindi non mi parte più il computer"), ("agent", "okay allora vediamo"),
            ("customer", "sì"), ("agent", "mi legge il codice sull'etichetta")]),
    ("de", [("agent", "also die Rechnung vom März ist doppelt verbucht"), ("customer", "ja genau"),
            ("agent", "ich storniere die zweite Buchung"), ("customer", "danke")]),
    ("fr", [("customer", "et donc depuis ce matin la box clignote en rouge"), ("agent", "d'accord je regarde"),
            ("customer", "oui"), ("agent", "je relance la ligne à distance")]),
    ("en", [("agent", "right so the parcel left the depot on Tuesday"), ("customer", "okay"),
            ("agent", "and it shows as delivered to a neighbour"), ("customer", "which one")]),
]

OPENINGS = [
    ("it", [("agent", "pronto"), ("customer", "sì ho un problema con il computer")]),
    ("it", [("agent", "assistenza mi dica"), ("customer", "il computer non parte")]),
    ("de", [("agent", "Kundendienst ja bitte"), ("customer", "mein Paket ist nicht angekommen")]),
    ("fr", [("agent", "allô oui"), ("customer", "la box ne marche plus")]),
    ("en", [("agent", "water services"), ("customer", "there's no water on our street")]),
    ("en", [("agent", "yeah go ahead"), ("customer", "it's about my bill")]),
]


@pytest.mark.parametrize("lang,turns", LATE)
def test_a_recording_without_any_opening_is_a_late_start(lang, turns):
    res = criterion_result(lang, turns, "saluto")
    assert res.result == "na", (lang, turns[0])
    assert res.reason  # the reason shown in the evaluation and the dashboard


@pytest.mark.parametrize("lang,turns", OPENINGS)
def test_an_opening_without_a_greeting_is_judged_and_fails(lang, turns):
    assert criterion_result(lang, turns, "saluto").result == "fail", (lang, turns[0])


def test_a_greeting_after_two_turns_of_talk_does_not_make_it_an_opening():
    # the first two turns decide: a "buongiorno" said later belongs to somebody joining the call
    turns = [("agent", "allora il modulo lo trova sul portale"), ("customer", "sì"),
             ("agent", "buongiorno collega ti passo la signora"), ("customer", "grazie")]
    assert criterion_result("it", turns, "saluto").result == "na"
