"""Issue 12, `identificazione` as CRITERIA.md states it: the agent verifies the caller's identity
*before* discussing or changing the account. A check asked only after the agent opened the record from
the number the caller rings from (caller ID), or after a change already made ("I've unlocked it"), comes
too late and the criterion fails; the same check before acting passes. Opening the record by caller ID
is itself something of the caller's own looked at (the criterion applies). A sale to a caller who says
they already are a customer applies when the agent checks or reads their record; win-back calls that
name the closing of the former account in other verbs ("aufgelöst", "was closed") apply too. A refund
explained in general (a strike, a delayed train) names nothing of the caller's own.
Real engine, real spaCy, short dialogues written for the test (no mocks)."""

from __future__ import annotations

from functools import partial

import pytest

from .dialogue import criterion_result

_res = partial(criterion_result, prefix="idord")
A, C = "agent", "customer"

# (language, caller-ID opening, the check, a reply to it, a discussion of the account)
CALLER_ID = [
    ("it", "allora lei chiama dal numero che abbiamo in anagrafica, ecco la vedo",
     "mi dice la sua data di nascita per favore", "dodici marzo millenovecentosettanta",
     "la sua polizza auto costa ottocento franchi all'anno"),
    ("de", "ich sehe, Sie rufen von der Nummer an, die bei uns hinterlegt ist",
     "wie ist Ihr Geburtsdatum bitte", "zwölfter März neunzehnhundertsiebzig",
     "Ihr Vertrag kostet achtzig Franken im Monat"),
    ("fr", "avec votre numéro de téléphone je vois votre contrat",
     "vous pouvez me donner votre date de naissance", "le douze mars mille neuf cent soixante-dix",
     "votre contrat coûte quatre-vingts francs par mois"),
    ("en", "I've pulled you up from the number you're calling from",
     "can you confirm your date of birth please", "twelfth of March nineteen seventy",
     "your plan costs forty pounds a month"),
]
HELLO = {"it": ("buongiorno, sono Anna del servizio clienti", "buongiorno, chiamo per il mio contratto"),
         "de": ("guten Tag, Kundendienst, Anna am Apparat", "guten Tag, ich rufe wegen meinem Vertrag an"),
         "fr": ("bonjour, service clients, Anna à l'appareil", "bonjour, j'appelle pour mon contrat"),
         "en": ("hello, customer service, Anna speaking", "hello, I'm calling about my contract")}
BYE = {"it": ("va bene grazie", "grazie a lei, arrivederci"), "de": ("gut danke", "danke Ihnen, auf Wiederhören"),
       "fr": ("d'accord merci", "merci à vous, au revoir"), "en": ("okay thanks", "thank you, goodbye")}


@pytest.mark.parametrize("lang,opened,check,reply,discuss", CALLER_ID, ids=[c[0] for c in CALLER_ID])
def test_a_check_after_the_record_was_opened_by_caller_id_and_discussed_fails(lang, opened, check, reply, discuss):
    hello, why = HELLO[lang]
    ok, bye = BYE[lang]
    turns = [(A, hello), (C, why), (A, opened), (A, discuss), (C, ok), (A, check), (C, reply), (C, ok), (A, bye)]
    r = _res(lang, turns, "identificazione")
    assert r.result == "fail", r


@pytest.mark.parametrize("lang,opened,check,reply,discuss", CALLER_ID, ids=[c[0] for c in CALLER_ID])
def test_the_same_check_before_the_account_is_opened_passes(lang, opened, check, reply, discuss):
    hello, why = HELLO[lang]
    ok, bye = BYE[lang]
    turns = [(A, hello), (C, why), (A, check), (C, reply), (A, discuss), (C, ok), (A, bye)]
    r = _res(lang, turns, "identificazione")
    assert r.result == "pass", r
    assert any(check in e.text for e in r.evidence)


@pytest.mark.parametrize("lang,opened,check,reply,discuss", CALLER_ID, ids=[c[0] for c in CALLER_ID])
def test_opening_the_record_by_caller_id_without_any_check_makes_it_apply_and_fail(lang, opened, check, reply, discuss):
    hello, _ = HELLO[lang]
    neutral = {"it": "buongiorno, volevo un'informazione", "de": "guten Tag, ich hätte eine Frage",
               "fr": "bonjour, j'ai une question", "en": "hello, I have a question"}[lang]
    ok, bye = BYE[lang]
    r = _res(lang, [(A, hello), (C, neutral), (A, opened), (C, ok), (A, bye)], "identificazione")
    assert r.result == "fail", r


ACTED_FIRST = [
    ("it", "ecco l'ho sbloccata, provi adesso", "mi dà la sua matricola per il ticket"),
    ("de", "so, ich habe es entsperrt, versuchen Sie es jetzt", "geben Sie mir noch Ihre Personalnummer für das Ticket"),
    ("fr", "voilà, je l'ai débloqué, essayez maintenant", "vous pouvez me donner votre identifiant pour le ticket"),
    ("en", "right, I've unlocked it, try logging in now", "can I just grab your employee number for the ticket"),
]
LOCKED = {"it": "buongiorno, il mio utente è bloccato", "de": "guten Tag, mein Benutzerkonto ist gesperrt",
          "fr": "bonjour, mon compte est bloqué", "en": "hi, my account is locked"}


@pytest.mark.parametrize("lang,acted,check", ACTED_FIRST, ids=[c[0] for c in ACTED_FIRST])
def test_a_check_after_the_change_was_made_fails_and_before_it_passes(lang, acted, check):
    hello, _ = HELLO[lang]
    ok, bye = BYE[lang]
    late = [(A, hello), (C, LOCKED[lang]), (A, acted), (C, ok), (A, check), (C, "123456"), (A, bye)]
    assert _res(lang, late, "identificazione").result == "fail"
    early = [(A, hello), (C, LOCKED[lang]), (A, check), (C, "123456"), (A, acted), (C, ok), (A, bye)]
    assert _res(lang, early, "identificazione").result == "pass"


EXISTING_SALE = [
    ("it", "buongiorno, sono già cliente da voi e vorrei una carta di credito",
     "certo, per sicurezza mi dice la sua data di nascita"),
    ("de", "guten Tag, ich bin schon Kundin bei Ihnen und möchte ein Sparkonto eröffnen",
     "gerne, zur Sicherheit: wie ist Ihr Geburtsdatum"),
    ("fr", "bonjour, je suis déjà cliente et je voudrais une carte de crédit",
     "bien sûr, pour votre sécurité, quelle est votre date de naissance"),
    ("en", "hello, I'm already a customer and I'd like a credit card",
     "of course, for security can you confirm your date of birth"),
]


@pytest.mark.parametrize("lang,caller,check", EXISTING_SALE, ids=[c[0] for c in EXISTING_SALE])
def test_a_sale_to_an_existing_customer_whose_record_is_checked_applies(lang, caller, check):
    hello, _ = HELLO[lang]
    ok, bye = BYE[lang]
    turns = [(A, hello), (C, caller), (A, check), (C, "12.03.1970"), (C, ok), (A, bye)]
    assert _res(lang, turns, "identificazione", call_type="acquisizione").result == "pass"
    # a new customer buying: nothing of theirs to check
    new = {"it": "buongiorno, vorrei una carta di credito", "de": "guten Tag, ich möchte ein Sparkonto eröffnen",
           "fr": "bonjour, je voudrais une carte de crédit", "en": "hello, I'd like a credit card"}[lang]
    assert _res(lang, [(A, hello), (C, new), (C, ok), (A, bye)], "identificazione",
                call_type="acquisizione").result == "na"


@pytest.mark.parametrize("lang,said", [
    ("de", "ich rufe an, weil Sie ja im März Ihr Privatkonto bei uns aufgelöst haben"),
    ("en", "I'm calling because your company's business account with us was closed in the spring"),
    ("en", "I'm calling because your car insurance with us ended in March"),
    ("de", "Ihr Leasingvertrag für den Golf ist im August ausgelaufen"),
    ("en", "your gym membership expired last spring"),
])
def test_a_win_back_naming_the_closed_former_account_applies(lang, said):
    hello = {"de": "grüezi Frau Meier, hier ist die Bank am See", "en": "good afternoon, this is Sarah from SwiftParcel"}[lang]
    ok, bye = BYE[lang]
    turns = [(A, hello), (C, ok), (A, said), (C, ok), (A, bye)]
    assert _res(lang, turns, "identificazione", call_type="riacquisizione").result == "fail"


@pytest.mark.parametrize("lang,info", [
    ("it", "se il treno fosse soppresso può chiedere il rimborso del biglietto sul sito"),
    ("de", "bei einem Ausfall bekommen Sie eine Rückerstattung über die Webseite"),
    ("fr", "en cas de suppression vous pouvez demander le remboursement sur le site"),
    ("en", "if the train is cancelled you can claim a refund on the website"),
])
def test_a_refund_explained_in_general_names_nothing_of_the_callers_own(lang, info):
    hello, _ = HELLO[lang]
    q = {"it": "buongiorno, domani c'è sciopero?", "de": "guten Tag, fährt morgen der Zug wegen dem Streik?",
         "fr": "bonjour, il y a grève demain ?", "en": "hello, is there a strike tomorrow?"}[lang]
    ok, bye = BYE[lang]
    assert _res(lang, [(A, hello), (C, q), (A, info), (C, ok), (A, bye)], "identificazione").result == "na"


ABANDONED = [
    ("it", "mi dice la sua data di nascita", "eh non me la ricordo", "va be' va bene lo stesso andiamo avanti"),
    ("de", "haben Sie die Kundennummer da", "nein, die habe ich jetzt nicht", "egal, ich finde Sie auch so"),
    ("fr", "vous avez votre numéro de client", "non, je ne l'ai pas sous la main", "bon, ce n'est pas grave"),
    ("en", "can I have your account number", "sorry, I don't have it on me", "never mind, let's carry on"),
]


@pytest.mark.parametrize("lang,ask,cannot,letgo", ABANDONED, ids=[c[0] for c in ABANDONED])
def test_a_check_let_go_when_the_caller_cannot_answer_is_no_check(lang, ask, cannot, letgo):
    hello, why = HELLO[lang]
    ok, bye = BYE[lang]
    discuss = CALLER_ID[[c[0] for c in CALLER_ID].index(lang)][4]
    dropped = [(A, hello), (C, why), (A, ask), (C, cannot), (A, letgo), (A, discuss), (C, ok), (A, bye)]
    assert _res(lang, dropped, "identificazione").result == "fail"
    answered = [(A, hello), (C, why), (A, ask), (C, "12 03 1970, 4471"), (A, discuss), (C, ok), (A, bye)]
    assert _res(lang, answered, "identificazione").result == "pass"


@pytest.mark.parametrize("lang,caller,ask", [
    ("it", "ho anche la vostra tessera fedeltà, vale?", "sì, mi dà il numero della tessera"),
    ("de", "ich habe übrigens Ihre Kundenkarte, gilt die?", "ja, geben Sie mir die Kartennummer"),
    ("fr", "j'ai votre carte de fidélité, elle compte ?", "oui, vous pouvez me donner le numéro de carte"),
    ("en", "I've got your loyalty card, does it count?", "yes, can I have the card number"),
])
def test_a_sale_to_a_loyalty_card_holder_whose_card_is_looked_up_applies(lang, caller, ask):
    hello, _ = HELLO[lang]
    ok, bye = BYE[lang]
    want = {"it": "buongiorno, vorrei noleggiare un furgone per sabato", "de": "guten Tag, ich möchte einen Lieferwagen mieten",
            "fr": "bonjour, je voudrais louer une camionnette", "en": "hello, I'd like to hire a van for Saturday"}[lang]
    turns = [(A, hello), (C, want), (C, caller), (A, ask), (C, "4472 1033"), (C, ok), (A, bye)]
    assert _res(lang, turns, "identificazione", call_type="acquisizione").result == "pass"
