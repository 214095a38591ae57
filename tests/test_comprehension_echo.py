"""Issue 12, `comprensione`: the agent says the caller's last words again in their own way and closes
the turn with a request to confirm ("lei aspetta il rimborso della fattura di settembre, si tratta di
questa?", "you'd like to know why the value is lower, is that it?"): that checks understanding in any
words. The same restatement without the closing tag, or with the tag word only opening the turn
("right, ..."), is not a check. Real engine, real spaCy, short dialogues written for the test."""

from __future__ import annotations

from functools import partial

import pytest

from .dialogue import criterion_result

_res = partial(criterion_result, prefix="compecho")
A, C = "agent", "customer"
CASES = [
    ("it", "buongiorno cassa malati sono Marco",
     "ho mandato la fattura del fisioterapista a settembre e il rimborso non è mai arrivato",
     "il rimborso della fattura del fisioterapista di settembre si tratta di questa",
     "il rimborso della fattura del fisioterapista di settembre lo vedo qui",
     "sì esatto", "la pratica è ferma per la prescrizione, la mandi e partirà, arrivederci"),
    ("en", "good afternoon pension fund Karen speaking",
     "the transfer value on my annual statement looks lower than last year",
     "you'd like to know why the transfer value on this year's statement is lower is that it",
     "right the transfer value on this year's statement is lower because of interest rates",
     "yes", "it follows the market rates and your pension has not gone down, goodbye"),
    ("de", "Guten Tag, Kundendienst, Meier am Apparat",
     "die Stromrechnung vom März ist doppelt so hoch wie sonst",
     "die Stromrechnung vom März ist doppelt so hoch, stimmt",
     "stimmt, die Stromrechnung vom März ist doppelt so hoch wegen der Nachzahlung",
     "ja", "das war eine Schätzung, ich korrigiere das, auf Wiederhören"),
    ("fr", "bonjour service clients Julie à l'appareil",
     "ma carte bancaire est refusée dans tous les magasins depuis hier",
     "la carte bancaire est refusée dans les magasins depuis hier hein",
     "hein la carte bancaire est refusée dans les magasins depuis hier à cause du plafond",
     "oui", "je débloque le plafond maintenant, au revoir"),
]


@pytest.mark.parametrize("lang,hello,need,tagged,untagged,yes,bye", CASES, ids=[c[0] for c in CASES])
def test_a_restatement_closed_by_a_tag_checks_understanding(lang, hello, need, tagged, untagged, yes, bye):
    r = _res(lang, [(A, hello), (C, need), (A, tagged), (C, yes), (A, bye)], "comprensione")
    assert r.result == "pass", r
    assert any(tagged in e.text for e in r.evidence)
    assert r.reason and "←" in r.reason
    # the tag word opening the turn, or no tag at all: no check
    assert _res(lang, [(A, hello), (C, need), (A, untagged), (C, yes), (A, bye)], "comprensione").result == "fail"


def test_the_tag_needs_the_callers_words_not_just_any_question():
    r = _res("it", [(A, "buongiorno cassa malati sono Marco"),
                    (C, "ho mandato la fattura del fisioterapista a settembre e il rimborso non è mai arrivato"),
                    (A, "mi dà il numero d'assicurata si tratta di questa"), (C, "sì"),
                    (A, "la pratica è ferma, arrivederci")], "comprensione")
    assert r.result == "fail"


# (language, opening, the caller's need, a paraphrase opened by "so" in the agent's words, yes, no)
CONFIRMED = [
    ("it", "banca buongiorno sono Paola",
     "sono in vacanza e la carta non funziona più da ieri sera, mi rifiutano i pagamenti anche al bancomat",
     "allora la carta le viene rifiutata da ieri sera nei negozi e al bancomat",
     "sì dappertutto", "no, solo al bancomat"),
    ("en", "service desk, this is Sam",
     "my laptop won't connect to the wifi since the update last night",
     "so the laptop has had no wifi since last night's update",
     "yeah exactly", "no, it's the printer"),
    ("de", "Kundendienst, guten Tag",
     "das Paket ist laut Sendungsverfolgung zugestellt, aber hier ist kein Paket angekommen",
     "also das Paket steht als zugestellt, ist aber nicht angekommen",
     "genau so ist es", "nein, es ist ein Brief"),
    ("fr", "service clients bonjour",
     "ma facture d'électricité de mars est deux fois plus élevée que d'habitude",
     "donc votre facture d'électricité de mars est deux fois plus élevée",
     "oui voilà", "non, c'est celle d'avril"),
    # in the agent's own words, one word of the caller's said again
    ("en", "deliveries, hello",
     "I had a card through the door saying you tried to deliver but I was in all day",
     "so you were in but the driver left a card anyway",
     "yeah I didn't hear anything", "no, I was out"),
]
CLOSE2 = {"it": "la sblocco subito, arrivederci", "en": "I'll sort it now, bye",
          "de": "ich kläre das, auf Wiederhören", "fr": "je regarde ça, au revoir"}


@pytest.mark.parametrize("lang,hello,need,paraphrase,yes,no", CONFIRMED, ids=[c[0] for c in CONFIRMED])
def test_a_paraphrase_the_caller_confirms_checks_understanding(lang, hello, need, paraphrase, yes, no):
    r = _res(lang, [(A, hello), (C, need), (A, paraphrase), (C, yes), (A, CLOSE2[lang])], "comprensione")
    assert r.result == "pass", r
    assert any(paraphrase in e.text for e in r.evidence) and "←" in r.reason
    # the caller corrects it: the paraphrase was no shared understanding
    assert _res(lang, [(A, hello), (C, need), (A, paraphrase), (C, no), (A, CLOSE2[lang])],
                "comprensione").result == "fail"
