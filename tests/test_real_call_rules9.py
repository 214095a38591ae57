"""Rubric round 2026-12-07.37 (issue 12), learnt from the independent batches 22, 24 and 25 after
they were scored once untouched: how real agents and callers say what the criteria look for, in
words no list had. Each case below is the shape of a miss there, written anew for the test.
Real engine, real spaCy, short dialogues (no mocks)."""

from __future__ import annotations

from functools import partial

import pytest

from .dialogue import criterion_result

_res = partial(criterion_result, prefix="r9")
A, C = "agent", "customer"


# ---------------------------------------------------------------- identificazione: a check after acting
def test_a_date_of_birth_asked_after_the_change_is_done_is_no_check():
    turns = [(A, "grüezi Versicherung Nord, Meier am Apparat"),
             (C, "grüezi, ich ziehe am ersten Juni um und möchte das bei der Hausratversicherung ändern"),
             (A, "ja gerne, die Hausrat soll an die neue Wohnung mit, richtig?"), (C, "ja genau, die ganze Police"),
             (A, "okay erledigt"),
             (A, "ach so, und zu Ihrer Sicherheit brauche ich noch Ihr Geburtsdatum"), (C, "<NUM>"),
             (A, "danke, die neue Police kommt per Post"), (C, "danke"), (A, "gern, auf Wiederhören")]
    assert _res("de", turns, "identificazione").result == "fail"
    turns[4], turns[5] = turns[5], turns[4]  # the check first, then the change
    assert _res("de", turns, "identificazione").result == "pass"


def test_the_account_balance_read_out_before_the_check_makes_the_check_late():
    turns = [(A, "Buongiorno, Banca Valmaggia, sono Elena, come posso aiutarla?"),
             (C, "Buongiorno, sono Paolo Galli, voglio chiudere il mio conto."),
             (A, "Vedo qui il suo conto privato: il saldo è di 2340 franchi."),
             (C, "Sì, esatto."),
             (A, "Per motivi di sicurezza, mi conferma la sua data di nascita?"), (C, "3 marzo 1971."),
             (A, "Grazie, le preparo la chiusura."), (C, "Grazie."), (A, "Arrivederci.")]
    assert _res("it", turns, "identificazione", call_type="fidelizzazione").result == "fail"


@pytest.mark.parametrize("lang,turns", [
    ("de", [(A, "guten Tag Swissmobil Kundendienst"), (C, "guten Tag, ich will mein Handyabo kündigen"),
            (A, "damit ich an Ihren Vertrag komme, brauche ich Ihre Handynummer und Ihr Kundenkennwort"),
            (C, "<NUM>, und das Kennwort ist Sonnenblume"), (A, "danke, stimmt"),
            (A, "ich kündige Ihnen das Abo auf Ende Monat"), (C, "gut"), (A, "danke, auf Wiederhören")]),
    ("it", [(A, "Cassa malati Salus, buongiorno"),
            (C, "buongiorno, ero assicurata da voi e vorrei tornare"),
            (A, "mi dà il suo vecchio numero d'assicurata, così vedo la sua pratica?"), (C, "è 88 41207"),
            (A, "trovata, la riattiviamo dal primo gennaio"), (C, "grazie"), (A, "grazie a lei, arrivederci")]),
    ("it", [(A, "rieccomi, mi scusi l'attesa, allora mi ripete il numero della postazione?"), (C, "sì è pc <NUM>"),
            (A, "ok lo vedo, la password è scaduta ieri"), (A, "gliel'ho resettata, provi ad accedere"),
            (C, "sì funziona"), (A, "perfetto, buon lavoro")]),
    ("fr", [(A, "alors vous me disiez que vous voulez résilier votre contrat d'électricité"), (C, "oui voilà"),
            (A, "d'accord, vous pouvez me redonner l'adresse de livraison ?"), (C, "12 avenue des Alpes à Sion"),
            (A, "oui je vois le contrat, je lance la résiliation"), (C, "ok"), (A, "bonne journée, au revoir")]),
])
def test_a_customer_password_an_insured_number_a_workstation_or_the_address_asked_is_a_check(lang, turns):
    ctype = "fidelizzazione" if "kündig" in turns[1][1] or "résilier" in turns[0][1] else "assistenza"
    assert _res(lang, turns, "identificazione", call_type=ctype).result == "pass"


def test_confirming_the_callers_name_after_finding_the_record_from_their_number_is_a_check():
    turns = [(A, "Good morning, Harlow's customer line, this is Priya speaking."),
             (C, "Hi, I'd like to upgrade my loyalty membership to the Gold tier."),
             (A, "Of course. I can see you're calling from the number on one of our accounts. "
                 "Am I speaking with Mrs Dawson?"),
             (C, "Yes, that's me."), (A, "Thank you, Mrs Dawson. I've got your account open."),
             (A, "Gold is 59 pounds a year. Done, you'll get an email."), (C, "Lovely."),
             (A, "Thanks for calling, goodbye.")]
    assert _res("en", turns, "identificazione", call_type="acquisizione").result == "pass"


def test_a_former_customer_told_they_switched_away_is_an_old_contract_discussed():
    turns = [(A, "Good afternoon, this is Emma from BrightVolt Energy. Am I speaking to Mr Patel?"),
             (C, "Yes, speaking."),
             (A, "Thank you. Could you confirm the first line of your address, so I know I'm speaking to the right person?"),
             (C, "27 Elm Grove."),
             (A, "Thank you. You switched your electricity away from us in August."),
             (C, "I did."), (A, "I'll email you our fixed tariff today."), (C, "Fine."), (A, "Thank you, goodbye.")]
    assert _res("en", turns, "identificazione", call_type="riacquisizione").result == "pass"


# ------------------------------------------------------------------ riepilogo: everyday recap openers
@pytest.mark.parametrize("lang,recap", [
    ("en", "Done. So, to wrap up: you're on the 18:40 to Heathrow on Wednesday, same seat class, no extra cost."),
    ("fr", "bon alors en gros la carte est bloquée, rien n'a été débité et on vous en refait une nouvelle"),
    ("fr", "donc voilà le colis était juste bloqué au dépôt, il repart demain"),
    ("it", "perfetto allora era proprio la password scaduta che il telefono teneva ancora"),
])
def test_everyday_recap_openers_count(lang, recap):
    opening = {"en": [(A, "Good morning, travel desk, Sam speaking."), (C, "Hi, my flight was cancelled.")],
               "fr": [(A, "Bonjour, service clients, Julie à l'appareil."), (C, "Bonjour, j'ai un souci.")],
               "it": [(A, "Buongiorno, helpdesk, sono Luca."), (C, "Buongiorno, ho un problema.")]}[lang]
    middle = {"en": [(A, "Let me look."), (C, "Thanks."), (A, "I've rebooked you.")],
              "fr": [(A, "Je regarde."), (C, "Merci."), (A, "C'est réglé.")],
              "it": [(A, "Guardo subito."), (C, "Grazie."), (A, "Ho sistemato.")]}[lang]
    close = {"en": [(A, "The e-ticket comes by email within the hour."), (C, "Thanks."), (A, "Goodbye.")],
             "fr": [(A, "Vous recevrez la confirmation demain par e-mail."), (C, "Merci."), (A, "Au revoir.")],
             "it": [(A, "Le mando la conferma per email domani."), (C, "Grazie."), (A, "Arrivederci.")]}[lang]
    assert _res(lang, opening + middle + [(A, recap)] + close, "riepilogo").result == "pass"


# ----------------------------------------------------------------- empatia: dissatisfaction, everyday words
@pytest.mark.parametrize("lang,complaint", [
    ("fr", "oui voilà c'est la galère depuis que j'ai perdu mon boulot"),
    ("it", "guardi è la quarta chiamata questa settimana per i pannelli basta davvero"),
    ("en", "you put my direct debit up twice in six months without a word of warning"),
    ("it", "mi avevate fatto arrabbiare con quella fattura da duecento franchi"),
])
def test_dissatisfaction_in_everyday_words_makes_empathy_apply(lang, complaint):
    turns = [(A, {"fr": "Bonjour, service clients.", "it": "Buongiorno, servizio clienti.",
                  "en": "Good morning, customer service."}[lang]),
             (C, complaint),
             (A, {"fr": "Je regarde votre dossier.", "it": "Guardo la sua pratica.", "en": "Let me look at your account."}[lang]),
             (C, {"fr": "D'accord.", "it": "Va bene.", "en": "Okay."}[lang])]
    assert _res(lang, turns, "empatia").result == "fail"  # applies, and nobody acknowledged it


# ----------------------------------------------------------- protezione_dati: why the data is needed
@pytest.mark.parametrize("lang,ask", [
    ("fr", "alors votre nom et votre adresse postale pour que je retrouve l'abonnement"),
    ("de", "dann brauche ich Ihre Kundennummer und die Adresse, damit ich den richtigen Zähler finde"),
    ("en", "just so I know I'm speaking to the account holder, can I have the first line of the address and the postcode"),
])
def test_the_reason_for_a_data_request_in_everyday_words_counts(lang, ask):
    turns = [(A, {"fr": "Bonjour, service clients.", "de": "Guten Tag, Kundendienst.", "en": "Good morning, customer service."}[lang]),
             (C, {"fr": "Bonjour, je voudrais résilier.", "de": "Guten Tag, ich habe eine Frage zum Vertrag.",
                  "en": "Hi, I'd like to cancel my broadband."}[lang]),
             (A, ask), (C, "12"), (A, {"fr": "Merci.", "de": "Danke.", "en": "Thanks."}[lang])]
    assert _res(lang, turns, "protezione_dati").result == "pass"


# ------------------------------------------------------ nome_cliente: the agent's own name with a title
@pytest.mark.parametrize("lang,intro,caller,uses", [
    ("de", "Guten Tag, Kundendienst, Sie sprechen mit Frau Aebi.", "Guten Tag, hier ist Peter Steiner.",
     ("Gerne, Herr Steiner, worum geht es?", "Ist sonst alles klar, Herr Steiner?")),
    ("en", "Good morning, customer service, you're speaking with Mrs Lane.", "Hi, my name is Peter Steiner.",
     ("Sure, Mr Steiner, what is it about?", "Anything else, Mr Steiner?")),
])
def test_an_agent_introducing_themselves_with_a_title_is_not_the_callers_name(lang, intro, caller, uses):
    from qa.pipeline import score_transcript

    from .dialogue import dialogue

    turns = [(A, intro), (C, caller), (A, uses[0]), (C, "-"), (A, uses[1]), (C, "-"), (A, "bye")]
    ev = score_transcript(dialogue(lang, turns, prefix="r9"))
    assert "Steiner" in ev.extra["customer_name"] and "Aebi" not in ev.extra["customer_name"] \
        and "Lane" not in ev.extra["customer_name"]
    assert ev.result("nome_cliente").result == "pass"
