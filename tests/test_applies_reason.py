"""Why a failed conditional criterion applied (docs/FORMATS.md, docs/RUBRIC_LANGUAGE.md `applies`): a
`fail` of `empatia`, `identificazione`, `proposta_disdetta`, `protezione_dati` or `nome_cliente`
carries a `reason` that says what made the criterion apply and quotes the first turn that did, with
its time, so that an operator sees what a critical failure rests on. Scored by the production path."""

from __future__ import annotations

import pytest

from qa.rubric.loader import load_rubric
from tests.dialogue import criterion_result

COMPLAINT = {
    "it": [("agent", "Buongiorno, servizio clienti, sono Marco."),
           ("customer", "Buongiorno. È la terza volta che chiamo, sono stufo, la linea cade ogni sera."),
           ("agent", "Allora faccio un reset della linea adesso."),
           ("customer", "Va bene."), ("agent", "Fatto. Arrivederci.")],
    "de": [("agent", "Guten Tag, Kundendienst, Sie sprechen mit Marco."),
           ("customer", "Guten Tag. Das ist jetzt das dritte Mal, dass ich anrufe, ich habe die Nase voll."),
           ("agent", "Ich setze die Leitung jetzt zurück."), ("customer", "Gut."), ("agent", "Erledigt. Auf Wiederhören.")],
    "fr": [("agent", "Bonjour, service clients, Marc à l'appareil."),
           ("customer", "Bonjour. C'est la troisième fois que j'appelle, j'en ai marre, la ligne coupe tous les soirs."),
           ("agent", "Je relance la ligne maintenant."), ("customer", "D'accord."), ("agent", "C'est fait. Au revoir.")],
    "en": [("agent", "Good morning, customer service, Mark speaking."),
           ("customer", "Morning. This is the third time I've called, I'm fed up, the line drops every evening."),
           ("agent", "I'll reset the line now."), ("customer", "Okay."), ("agent", "Done. Goodbye.")],
}
COMPLAINT_WORDS = {"it": "terza volta", "de": "dritte Mal", "fr": "troisième fois", "en": "third time"}


@pytest.mark.parametrize("lang", sorted(COMPLAINT))
def test_a_failed_empathy_says_which_complaint_made_it_apply(lang):
    res = criterion_result(lang, COMPLAINT[lang], "empatia")
    assert res.result == "fail"
    applies = load_rubric("assistenza").criterion("empatia").feedback["applies"][lang]
    assert res.reason.startswith(applies), res.reason
    assert COMPLAINT_WORDS[lang] in res.reason, res.reason  # the customer's turn, quoted
    assert "0:0" in res.reason  # its time in the call (m:ss)


def test_a_failed_identification_quotes_the_turn_about_the_callers_account():
    turns = [("agent", "Buongiorno, assistenza clienti, sono Laura."),
             ("customer", "Buongiorno, vorrei cambiare l'indirizzo di fatturazione."),
             ("agent", "Certo, modifico subito il suo indirizzo di fatturazione. Qual è il nuovo?"),
             ("customer", "Via Roma 3, Lugano."), ("agent", "Fatto. Grazie, arrivederci.")]
    res = criterion_result("it", turns, "identificazione")
    assert res.result == "fail"
    assert "indirizzo di fatturazione" in res.reason and "Si tratta" in res.reason, res.reason


def test_the_same_criterion_passed_or_not_applicable_has_no_applies_reason():
    calm = [("agent", "Buongiorno, servizio clienti, sono Marco."),
            ("customer", "Buongiorno, vorrei sapere gli orari dei vostri negozi."),
            ("agent", "Dalle nove alle diciotto, dal lunedì al sabato."), ("customer", "Grazie."),
            ("agent", "Grazie a lei, arrivederci.")]
    na = criterion_result("it", calm, "empatia")
    assert na.result == "na"
    assert "insoddisfazione espressa:" in na.reason  # the na text, not the applies one
    heard = COMPLAINT["it"][:2] + [("agent", "Mi dispiace davvero per il disagio, capisco la sua frustrazione.")] \
        + COMPLAINT["it"][2:]
    ok = criterion_result("it", heard, "empatia")
    assert ok.result == "pass"
    applies = load_rubric("assistenza").criterion("empatia").feedback["applies"]["it"]
    assert not (ok.reason or "").startswith(applies)


def test_a_criterion_that_always_applies_has_no_reason_when_it_fails():
    res = criterion_result("it", COMPLAINT["it"][:4], "congedo")
    assert res.result == "fail"
    assert res.reason is None


@pytest.mark.parametrize("name", ["assistenza", "acquisizione", "fidelizzazione", "riacquisizione"])
def test_every_conditional_criterion_of_the_shipped_rubrics_explains_why_it_applies(name):
    from qa.rubric.rules import Always, Not

    rub = load_rubric(name)
    for crit in rub.criteria:
        if isinstance(crit.when, (Always, Not)):
            continue  # always applies, or (saluto) only its na needs a reason
        assert set(crit.feedback.get("applies", {})) == {"it", "de", "fr", "en"}, crit.id


def test_an_applies_text_in_a_rubric_is_validated_like_the_other_feedback(tmp_path):
    from qa.errors import RubricError

    src = (tmp_path / "r.yaml")
    base = """rubric: prova
version: "1"
criteria:
  empatia:
    title: Empatia
    competence: ["4.3"]
    weight: 1
    when: {said: {by: customer, any_of: {it: ["stufo"], de: ["satt"], fr: ["marre"], en: ["fed up"]}}}
    rule: {said: {by: agent, any_of: {it: ["mi dispiace"], de: ["tut mir leid"], fr: ["désolé"], en: ["sorry"]}}}
    feedback:
      pass: {it: "ok", de: "ok", fr: "ok", en: "ok"}
      fail: {it: "no", de: "no", fr: "no", en: "no"}
"""
    src.write_text(base + '      applies: {it: "stufo", de: "satt", fr: "marre", en: "fed up"}\n', encoding="utf-8")
    rub = load_rubric(str(src))
    assert rub.criterion("empatia").feedback["applies"]["fr"] == "marre"
    src.write_text(base + '      applies: {it: "stufo", de: "satt", fr: "marre"}\n', encoding="utf-8")
    with pytest.raises(RubricError, match="en"):
        load_rubric(str(src))
