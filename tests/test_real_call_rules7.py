"""Rubric round 2026-12-07.7 (issue 12, CRITERIA.md "Summary"): real agents recap in their own words,
which no phrase list foresees. The `restates` rule (docs/RUBRIC_LANGUAGE.md) passes when a turn near the
end names again what the caller said (content words compared by lemma; stop words, fillers, masks and
names left out) and mostly says it again; `riepilogo` uses it beside its phrases. A long new
explanation, a bare next action, a ticket number or "ok perfetto" stays silent. A broken `restates`
is refused with file, line and reason. Real engine, real spaCy, short dialogues written for the test
(no mocks)."""

from __future__ import annotations

import textwrap
from functools import partial

import pytest

from qa.errors import RubricError
from qa.rubric import load_rubric_text, score_transcript, validate_rubric_text

from .dialogue import criterion_result, dialogue

_res = partial(criterion_result, prefix="r7")  # a criterion's result on a short dialogue

A, C = "agent", "customer"

# ------------------------------------------------------------------ recaps in the agent's own words
# the caller states the problem; the agent diagnoses and acts; near the end the agent says it again
RECAPS = {
    "it": [(C, "buongiorno, la stampante dell'ufficio non stampa più a colori"),
           (A, "buongiorno, mi dice il modello?"),
           (C, "è la Canon al secondo piano"),
           (A, "vedo che la cartuccia ciano è vuota, ne ordino una"),
           (C, "va bene"),
           (A, "quindi la stampante dell'ufficio non stampava a colori per la cartuccia"),
           (C, "grazie"), (A, "arrivederci")],
    "de": [(C, "Guten Tag, mein Drucker im Büro druckt keine Farben mehr"),
           (A, "Guten Tag, welches Modell ist es?"),
           (C, "Ein Canon im zweiten Stock"),
           (A, "Ich sehe, die Patrone ist leer, ich bestelle eine neue"),
           (C, "Gut"),
           (A, "Also, der Drucker im Büro druckte keine Farben wegen der leeren Patrone"),
           (C, "Danke"), (A, "Auf Wiederhören")],
    "fr": [(C, "Bonjour, mon imprimante au bureau n'imprime plus en couleur"),
           (A, "Bonjour, quel modèle ?"),
           (C, "Une Canon au deuxième étage"),
           (A, "Je vois, la cartouche cyan est vide, j'en commande une"),
           (C, "D'accord"),
           (A, "Alors l'imprimante du bureau n'imprimait plus en couleur à cause de la cartouche"),
           (C, "Merci"), (A, "Au revoir")],
    "en": [(C, "Hi, the printer in my office has stopped printing in colour"),
           (A, "Hello, which model is it?"),
           (C, "A Canon on the second floor"),
           (A, "I can see the cyan cartridge is empty, I'm ordering one"),
           (C, "Okay"),
           (A, "So the office printer wasn't printing colour because of the empty cartridge"),
           (C, "Thanks"), (A, "Goodbye")],
}


@pytest.mark.parametrize("lang", sorted(RECAPS))
def test_a_recap_in_the_agents_own_words_passes_riepilogo(lang):
    res = _res(lang, RECAPS[lang], "riepilogo")
    assert res.result == "pass"
    assert [e.text for e in res.evidence] == [RECAPS[lang][5][1]]
    # the reason names the words said again and quotes the caller's turn that said them first
    assert res.reason and "←" in res.reason and RECAPS[lang][0][1][:20] in res.reason


def test_the_reason_lists_the_shared_words_as_the_turn_says_them():
    res = _res("it", RECAPS["it"], "riepilogo")
    words = res.reason.split(" ← ")[0].split(", ")
    assert set(words) == {"stampante", "ufficio", "colori"}


# ------------------------------------------------------------------ hard negatives
def _closing(lang):
    return {"it": [(C, "grazie"), (A, "arrivederci")], "de": [(C, "Danke"), (A, "Auf Wiederhören")],
            "fr": [(C, "Merci"), (A, "Au revoir")], "en": [(C, "Thanks"), (A, "Goodbye")]}[lang]


# a long explanation at the end repeats the question's words but says mostly new things
EXPLANATIONS = [
    ("it", "buongiorno, volevo sapere quanto costa l'abbonamento mensile per il telefono",
     "allora l'abbonamento mensile per il telefono costa trenta franchi, con chiamate illimitate in Svizzera, "
     "dieci giga di dati, roaming in Europa incluso e il telefono nuovo a rate in ventiquattro mesi"),
    ("de", "Guten Tag, ich wollte wissen, was das Monatsabo für das Handy kostet",
     "also das Monatsabo für das Handy kostet dreissig Franken, mit unbegrenzten Anrufen in der Schweiz, "
     "zehn Gigabyte Daten, Roaming in Europa inklusive und das neue Gerät in vierundzwanzig Raten"),
    ("fr", "Bonjour, je voulais savoir combien coûte l'abonnement mensuel pour le portable",
     "alors l'abonnement mensuel pour le portable coûte trente francs, avec appels illimités en Suisse, "
     "dix gigas de données, roaming en Europe compris et l'appareil neuf en vingt-quatre mensualités"),
    ("en", "Hi, I wanted to know how much the monthly plan for the phone costs",
     "so the monthly plan for the phone costs thirty francs, with unlimited calls in Switzerland, ten "
     "gigabytes of data, roaming in Europe included and the new handset in twenty-four instalments"),
]


@pytest.mark.parametrize("lang,question,answer", EXPLANATIONS)
def test_a_long_explanation_at_the_end_is_no_recap(lang, question, answer):
    turns = [(C, question), (A, {"it": "certo", "de": "gerne", "fr": "bien sûr", "en": "sure"}[lang]),
             (C, {"it": "sì", "de": "ja", "fr": "oui", "en": "yes"}[lang]), (A, answer)] + _closing(lang)
    assert _res(lang, turns, "riepilogo").result == "fail"


BARE = [
    ("it", "le mando un tecnico domani mattina"),
    ("it", "allora il numero del ticket è quattro cinque sette otto"),
    ("it", "ok perfetto"),
    ("de", "also die Ticketnummer ist vier fünf sieben acht"),
    ("fr", "alors le numéro de ticket est quatre cinq sept huit"),
    ("en", "so your ticket number is four five seven eight"),
    ("en", "okay perfect"),
]


@pytest.mark.parametrize("lang,line", BARE)
def test_a_bare_next_action_a_ticket_number_or_ok_perfetto_is_no_recap(lang, line):
    turns = RECAPS[lang][:5] + [(A, line)] + _closing(lang)
    assert _res(lang, turns, "riepilogo").result == "fail"


def test_echoing_the_turn_right_before_is_no_recap():
    turns = [(A, "buongiorno, mi dica"), (C, "sì"), (A, "prego"),
             (C, "la stampante dell'ufficio non stampa a colori"),
             (A, "quindi la stampante dell'ufficio non stampa a colori"), (C, "sì"), (A, "arrivederci")]
    assert _res("it", turns, "riepilogo").result == "fail"


# ------------------------------------------------------------------ the node on its own
FB = """\
    feedback:
      pass: {it: "3.5 — bene", de: "3.5 — gut", fr: "3.5 — bien", en: "3.5 — good"}
      fail: {it: "3.5 — manca", de: "3.5 — fehlt", fr: "3.5 — manque", en: "3.5 — missing"}
"""

HEAD = """\
rubric: prova
version: t1
collections:
  vuote:
    it: ["okay", "perfetto", "grazie"]
    de: ["okay"]
    fr: ["okay"]
    en: ["okay"]
  segnale:
    it: ["quindi", "allora"]
    de: ["also"]
    fr: ["donc"]
    en: ["so"]
criteria:
  c:
    title: Prova
    competence: ["3.5"]
    weight: 1
"""


def _rubric(rule: str):
    return load_rubric_text(HEAD + f"    rule: {rule}\n" + FB, "prova.yaml")


def test_the_agents_own_earlier_diagnosis_can_be_the_source():
    turns = [(C, "il computer non parte"), (A, "vedo che l'alimentatore del computer è guasto"),
             (C, "ah"), (A, "lo sostituisco"), (C, "va bene"),
             (A, "quindi l'alimentatore era guasto")]
    t = dialogue("it", turns)
    own = _rubric('{restates: {within: {last_turns: 1}, min_shared: 2, source: {by: agent}, cue: "@segnale"}}')
    caller = _rubric('{restates: {within: {last_turns: 1}, min_shared: 2, cue: "@segnale"}}')
    assert score_transcript(t, own).result("c").result == "pass"
    assert score_transcript(t, caller).result("c").result == "fail"


def test_min_share_and_cue_and_ignore():
    turns = [(C, "la stampante dell'ufficio non stampa"), (A, "vediamo"), (C, "okay"),
             (A, "la stampante dell'ufficio ha la cartuccia vuota, il toner scaduto e il cavo rotto"), (C, "okay")]
    t = dialogue("it", turns)
    loose = _rubric("{restates: {min_shared: 2}}")
    share = _rubric("{restates: {min_shared: 2, min_share: 0.5}}")
    cue = _rubric('{restates: {min_shared: 2, cue: "@segnale"}}')
    assert score_transcript(t, loose).result("c").result == "pass"
    assert score_transcript(t, share).result("c").result == "fail"  # mostly new words: an explanation
    assert score_transcript(t, cue).result("c").result == "fail"  # no 'so'
    fillers = dialogue("it", [(C, "okay perfetto grazie"), (A, "sì"), (C, "sì"), (A, "okay perfetto grazie")])
    assert score_transcript(fillers, _rubric('{restates: {min_shared: 1, ignore: "@vuote"}}')).result("c").result \
        == "fail"


def test_masked_names_and_numbers_are_no_content():
    turns = [(C, "sono <PER> il mio numero è <DIGIT> <DIGIT>"), (A, "sì"), (C, "sì"),
             (A, "quindi <PER> <DIGIT> <DIGIT>")]
    assert score_transcript(dialogue("it", turns), _rubric("{restates: {min_shared: 1}}")).result("c").result \
        == "fail"


BROKEN = [
    ("{restates: {min_shared: 0}}", "'min_shared' must be a whole number >= 1"),
    ("{restates: {min_share: 2}}", "'min_share' must be a number"),
    ("{restates: {near: 3}}", "unknown key 'near'"),
    ('{restates: {cue: "@nessuna"}}', "unknown collection '@nessuna'"),
    ("{restates: {source: {by: nobody}}}", "'by' must be one of"),
    ("{restates: {source: {turns_back: 0}}}", "'turns_back' must be a whole number >= 1"),
    ("{restates: 3}", "'restates' needs a mapping"),
]


@pytest.mark.parametrize("rule,needle", BROKEN)
def test_a_broken_restates_is_refused_with_file_and_line(rule, needle):
    errors = validate_rubric_text(HEAD + f"    rule: {rule}\n" + FB, "prova.yaml")
    hits = [e for e in errors if needle in e.message]
    assert hits, [str(e) for e in errors]
    line = HEAD.count("\n") + 1  # the rule's line
    assert str(hits[0]).startswith(f"prova.yaml:{line}: ") and "\n" not in str(hits[0])
    with pytest.raises(RubricError):
        _rubric(rule)


@pytest.mark.parametrize("lang,recap", [
    ("it", "allora, per fare il punto: polizza auto con casco parziale, sconto del quindici per cento, decorrenza primo aprile"),
    ("it", "allora, per riprendere: apriamo un conto base con carta di debito, appuntamento giovedì alle dieci"),
    ("de", "um das kurz zusammenzufassen: der Router wird getauscht und die Gutschrift kommt mit der nächsten Rechnung"),
    ("fr", "alors, pour faire le point: on enlève l'option télé et vous passez au pack internet"),
    ("en", "so just to run through it: the excess goes up, no courtesy car, and the loyalty discount is applied"),
])
def test_idiomatic_recap_openers_count_as_a_summary(lang, recap):
    """Recap openers of everyday speech ("per fare il punto", "just to run through it"), missed by an
    untouched batch (batch13), count when they open a recap near the end."""
    hello = {"it": "buongiorno, servizio clienti", "de": "guten Tag, Kundendienst", "fr": "bonjour, service clients",
             "en": "hello, customer service"}[lang]
    ask = {"it": "buongiorno, vorrei cambiare il mio contratto", "de": "guten Tag, ich möchte meinen Vertrag ändern",
           "fr": "bonjour, je voudrais changer mon contrat", "en": "hello, I'd like to change my contract"}[lang]
    ok = {"it": "va bene", "de": "gut", "fr": "d'accord", "en": "okay"}[lang]
    bye = {"it": "grazie a lei, arrivederci", "de": "danke Ihnen, auf Wiederhören", "fr": "merci à vous, au revoir",
           "en": "thank you, goodbye"}[lang]
    turns = [("agent", hello), ("customer", ask), ("agent", ok), ("customer", ok), ("agent", recap), ("customer", ok), ("agent", bye)]
    r = criterion_result(lang, turns, "riepilogo", prefix="recap-open")
    assert r.result == "pass", r
