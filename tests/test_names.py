"""The customer's name learnt from lower-case, unpunctuated transcripts (ASR output), with real
spaCy lookups: a self-introduction gives the name up to the first ordinary word; hesitations,
yes/no/ok and the word before a greeting are no names."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.model import Segment, Transcript
from qa.rubric import find_customer_name

DEVSET = Path(__file__).resolve().parent / "data" / "devset"


def call(lang: str, *turns: tuple[str, str]) -> Transcript:
    return Transcript("names", [Segment(sp, i * 3.0, i * 3.0 + 2.5, tx) for i, (sp, tx) in enumerate(turns)],
                      language=lang)


@pytest.mark.parametrize("lang,agent,customer,name", [
    ("fr", "bonjour je vous écoute", "bonjour bernard keller écoutez je suis très mécontent", "bernard keller"),
    ("it", "buonasera mi dica", "buonasera sono carla marchetti ero vostra cliente", "carla marchetti"),
    ("de", "grüezi wie kann ich helfen", "grüezi hier ist jonas wälchli ich habe eine frage", "jonas wälchli"),
    ("en", "how can i help", "hello this is priya ramaswamy i'm calling about my bill", "priya ramaswamy"),
])
def test_self_introduction_in_lower_case_ends_at_the_first_ordinary_word(lang, agent, customer, name):
    assert find_customer_name(call(lang, ("agent", agent), ("customer", customer))) == name


@pytest.mark.parametrize("lang,customer", [
    ("fr", "oui bonjour euh j'ai plus internet depuis trois jours"),  # "oui", "euh": no names
    ("fr", "bonjour ouais alors ma box ne marche plus"),
    ("it", "buongiorno sì volevo sapere della fattura"),
    ("it", "buongiorno ehm volevo sapere della fattura"),
    ("de", "grüezi ähm ich habe eine frage zur rechnung"),
    ("en", "hello um i'm calling about my bill"),
    ("fr", "bonjour je suis très mécontente"),
])
def test_hesitations_and_interjections_are_not_names(lang, customer):
    assert find_customer_name(call(lang, ("agent", "bonjour"), ("customer", customer))) is None


def test_lower_case_dev_call_with_a_hesitation_has_no_customer_name():
    """dev-fr-007 is lower case throughout ("oui bonjour euh j'ai plus internet …"); the customer
    never says her name, so nome_cliente is not applicable (as labelled)."""
    from qa.rubric import score_transcript

    t = Transcript.load(DEVSET / "dev-fr-007.json")
    assert find_customer_name(t) is None
    assert score_transcript(t).result("nome_cliente").result == "na"


def test_capitalised_names_are_unchanged():
    t = call("fr", ("agent", "Bonjour, je vous écoute."),
             ("customer", "Bonjour, Bernard Keller. Écoutez, je suis très mécontent."))
    assert find_customer_name(t) == "Bernard Keller"


# --- round 2026-12-07.5: a name given as a bare answer, then used after an honorific ---------------
@pytest.mark.parametrize("lang,question,answer,address,name", [
    ("it", "mi dice il suo nome", "colombo anna", "grazie signora colombo", "colombo"),
    ("fr", "vous pouvez me rappeler votre nom", "martin sophie le douze mars", "merci madame martin", "martin"),
    ("de", "wie ist ihr name", "vogel peter", "danke herr vogel", "vogel"),
    ("en", "can i take your name", "baker john", "thanks mr baker", "baker"),
])
def test_a_name_given_as_an_answer_and_used_after_an_honorific_is_known(lang, question, answer, address, name):
    t = call(lang, ("agent", "buongiorno"), ("customer", "buongiorno"), ("agent", question),
             ("customer", answer), ("agent", address), ("customer", "ok"), ("agent", "ok"), ("customer", "ok"))
    assert find_customer_name(t) == name


def test_an_answer_the_agent_never_uses_after_an_honorific_gives_no_name():
    t = call("it", ("agent", "buongiorno mi dica"), ("customer", "colombo anna"), ("agent", "bene vediamo"),
             ("customer", "ok"), ("agent", "ok"), ("customer", "ok"))
    assert find_customer_name(t) is None


def test_masks_do_not_make_an_asr_transcript_look_capitalised():
    t = call("it", ("agent", "energia <PER> buongiorno sono <PER>"), ("customer", "buongiorno"),
             ("agent", "mi dice il suo nome"), ("customer", "colombo anna"), ("agent", "signora colombo mi dica"),
             ("customer", "ok"), ("agent", "ok"), ("customer", "ok"))
    assert find_customer_name(t) == "colombo"


def test_a_masked_company_name_before_the_opening_greeting_is_not_the_callers():
    t = call("it", ("agent", "energia <PER> buongiorno"), ("customer", "buongiorno ho un problema"),
             ("agent", "mi dica"), ("customer", "la bolletta è sbagliata"))
    assert find_customer_name(t) is None


# --- speech: a self-introduction cut in two segments by the recogniser ------------------------------
@pytest.mark.parametrize("lang,greet,cue,rest,used", [
    ("it", "Buongiorno, Telecom Ticino, sono Sara, come posso aiutarla?", "Buongiorno, mi chiamo",
     "Paolo Ferri, internet non va.", "Mi dispiace, signor Ferri, controllo subito."),
    ("en", "Good morning, Northbank, this is Emma.", "Hi, my name is", "David Clarke, my card was charged twice.",
     "Sorry about that, Mr Clarke, let me check."),
])
def test_a_name_after_its_cue_in_the_next_segment_of_the_turn_is_known(lang, greet, cue, rest, used):
    from qa.rubric import score_transcripts

    def nome(*agent_lines):
        t = Transcript("names", [Segment(sp, i * 3.0, i * 3.0 + 2.5, tx) for i, (sp, tx) in enumerate(
            [("agent", greet), ("customer", cue), ("customer", rest)] + [("agent", a) for a in agent_lines])],
            language=lang, metadata={"call_type": "assistenza"})
        ev = list(score_transcripts([t]))[0]
        return next(r.result for r in ev.criteria if r.id == "nome_cliente")

    assert nome(used, used) == "pass"
    assert nome("OK.", "Goodbye.") == "fail"  # known, but never used: not "na"


# ------------------------------------------------------------------ the agent's own name, introduced in the call
AGENT_INTRODUCED = [
    ("en", [("agent", "Good morning, IT Service Desk, this is Priya speaking."),
            ("customer", "Hi Priya, it's Tom Hughes from Finance. Outlook isn't getting any new emails."),
            ("agent", "Okay, Tom. So nothing new has come in since yesterday, is that right?"),
            ("customer", "Yes."), ("agent", "Thanks Tom, have a good day. Bye.")], "Tom Hughes"),
    ("it", [("agent", "Buongiorno, sono Marco del servizio clienti."),
            ("customer", "Buongiorno Marco, sono Giulia Conti, ho un problema con la bolletta."),
            ("agent", "Certo signora Conti, vediamo."), ("customer", "Grazie."),
            ("agent", "Grazie a lei signora Conti, arrivederci.")], "Conti"),
    ("de", [("customer", "Brunner."),
            ("agent", "Guten Tag, Herr Brunner, hier ist Marco Steiner von Limmatnet."),
            ("customer", "Was wollen Sie?"), ("agent", "Ein Angebot, Herr Brunner."),
            ("customer", "Nein danke."), ("agent", "Schade, auf Wiederhören Herr Brunner.")], "Brunner"),
]


@pytest.mark.parametrize("lang,turns,name", AGENT_INTRODUCED, ids=[c[0] for c in AGENT_INTRODUCED])
def test_a_caller_greeting_the_agent_by_name_does_not_make_it_the_callers(lang, turns, name):
    """The agent's own name from their self-introduction ("this is Priya speaking") is not the caller's
    when the caller greets back ("Hi Priya, it's Tom Hughes"); a name the agent addresses with an
    honorific ("Guten Tag, Herr Brunner, hier ist…") stays the caller's. Both the standalone finder
    and the scoring path, and `nome_cliente` passes on the caller's own name."""
    from qa.pipeline import score_transcript

    segs, t = [], 0.0
    for speaker, text in turns:
        segs.append(Segment(speaker, t, t + 3.0, text))
        t += 3.5
    call = Transcript(f"agent-own-{lang}", segs, language=lang, metadata={"call_type": "assistenza"})
    assert find_customer_name(call) == name
    ev = score_transcript(call)
    assert ev.result("nome_cliente").result == "pass"


@pytest.mark.parametrize("lang,turns,name", [
    # the caller gave the name before the recording began; the agent addresses them by it twice
    ("de", [("agent", "so frau meier ich hab jetzt ihren vertrag offen"), ("customer", "ja genau"),
            ("agent", "gut dann danke ihnen frau meier und einen schönen abend")], "meier"),
    # an outbound call: the agent asks for the caller by name and keeps using it
    ("it", [("agent", "buongiorno sono chiara di spesa veloce parlo con il signor bassi"), ("customer", "eh sì sono io"),
            ("agent", "eh capisco signor bassi mi dispiace davvero")], "bassi"),
    # the answer to a name question opens with "ja": no pattern reads it, the repeated address does
    ("de", [("agent", "darf ich ihren namen haben"), ("customer", "ja sandra weber achter august"),
            ("agent", "danke frau weber die karte ist gesperrt"), ("agent", "gern geschehen frau weber auf wiederhören")],
     "weber"),
])
def test_a_surname_the_agent_addresses_the_caller_by_twice_is_known(lang, turns, name):
    assert find_customer_name(call(lang, *turns)) == name


def test_one_address_or_an_ordinary_word_after_the_honorific_gives_no_name():
    assert find_customer_name(call("de", ("agent", "so frau meier ich hab jetzt ihren vertrag offen"),
                                   ("customer", "ja genau"), ("agent", "gut dann auf wiederhören"))) is None
    assert find_customer_name(call("it", ("agent", "ma signora mia che le devo dire"), ("customer", "eh"),
                                   ("agent", "signora mia purtroppo è così"))) is None


def test_the_repeated_address_makes_nome_cliente_pass_when_scored():
    from .dialogue import criterion_result

    r = criterion_result("de", [("agent", "so frau meier ich hab jetzt ihren vertrag offen"), ("customer", "ja genau"),
                                ("agent", "der zählerstand ist eingetragen"), ("customer", "super"),
                                ("agent", "gut dann danke ihnen frau meier und einen schönen abend")], "nome_cliente")
    assert r.result == "pass" and len(r.evidence) == 2


def test_parlo_con_il_signor_masked_is_said_to_the_caller_but_per_il_signor_is_not():
    from .dialogue import criterion_result

    outbound = [("agent", "buongiorno sono <PER> di linkanet parlo con la signora <PER>"), ("customer", "sì buonasera"),
                ("agent", "la chiamo per la fibra nuova"), ("customer", "no grazie"),
                ("agent", "grazie a lei signora <PER> buona serata")]
    r = criterion_result("it", outbound, "nome_cliente")
    assert r.result == "pass" and len(r.evidence) == 2
    about = [("agent", "buongiorno sono <PER> di linkanet"), ("customer", "buonasera sono <PER>"),
             ("agent", "ho una pratica aperta per la signora <PER>"), ("customer", "sì è mia madre"),
             ("agent", "grazie a lei signora <PER> buona serata")]
    assert criterion_result("it", about, "nome_cliente").result == "fail"
