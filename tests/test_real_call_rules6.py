"""Rubric round 2026-12-07.6 (CRITERIA.md, "Identification is domain-wide"): a call without any check was
judged only when the caller's account was named in words the lists knew, so it came out `na` instead of
`fail`. Now the agent acting on or reading something of the caller's own (an appointment, order, parcel,
booking, line, card...) or the caller asking the agent to act on theirs makes `identificazione` apply, in
four languages; general information, an outage or a price list stays `na`. Real engine, real spaCy, short
dialogues written for the test (no mocks)."""

from __future__ import annotations

from functools import partial

import pytest

from .dialogue import criterion_result


_res = partial(criterion_result, prefix="r6")  # a criterion's result on a short dialogue


A, C = "agent", "customer"

# ------------------------------------------------------------------ the agent acts on or reads the caller's things
AGENT_ACTS = [
    ("it", "fatto, le ho spostato l'appuntamento a giovedì mattina"),
    ("it", "aspetti che faccio un reset della linea, ecco fatto"),
    ("it", "allora vedo che l'ultima fattura è stata pagata due volte"),
    ("it", "ok le rispedisco il pacco domani"),
    ("de", "so, ich habe Ihren Termin auf Donnerstag verschoben"),
    ("de", "ich storniere Ihnen die Lieferung von gestern"),
    ("fr", "voilà je vous ai renvoyé le colis ce matin"),
    ("fr", "alors je vois que votre dernier paiement n'est pas passé"),
    ("en", "right, I've moved your delivery to Thursday"),
    ("en", "okay I can see your last payment bounced, I'll resend it"),
]


@pytest.mark.parametrize("lang,line", AGENT_ACTS)
def test_the_agent_acting_on_the_callers_things_without_a_check_fails(lang, line):
    turns = [(A, "buongiorno / guten Tag / bonjour / hello"), (C, "sì / ja / oui / yes"),
             (A, line), (C, "ok"), (A, "ok, buona giornata")]
    res = _res(lang, turns, "identificazione")
    assert res.result == "fail"


CALLER_ASKS = [
    ("it", "senta mi può spostare la consegna a lunedì?"),
    ("it", "vorrei annullare il mio appuntamento di domani"),
    ("de", "können Sie meine Lieferung auf Montag verschieben?"),
    ("fr", "est-ce que vous pouvez changer ma livraison pour lundi"),
    ("en", "could you reschedule my appointment to Monday please"),
]


@pytest.mark.parametrize("lang,line", CALLER_ASKS)
def test_the_caller_asking_the_agent_to_act_on_theirs_makes_it_apply(lang, line):
    turns = [(A, "buongiorno / guten Tag / bonjour / hello"), (C, line), (A, "sì, fatto"), (C, "grazie")]
    assert _res(lang, turns, "identificazione").result == "fail"


CHECKS = [
    ("it", "mi dice il suo nome e cognome?", "le ho spostato l'appuntamento a giovedì"),
    ("de", "darf ich Ihre Kundennummer haben?", "ich habe Ihren Termin auf Donnerstag verschoben"),
    ("fr", "vous me donnez votre numéro de commande?", "je vous ai renvoyé le colis ce matin"),
    ("en", "can I take your name please?", "I've moved your delivery to Thursday"),
]


@pytest.mark.parametrize("lang,check,line", CHECKS)
def test_the_same_action_after_a_check_passes(lang, check, line):
    turns = [(A, "buongiorno / guten Tag / bonjour / hello"), (C, "sì / ja / oui / yes"),
             (A, check), (C, "Rossi / 12345"), (A, line), (C, "ok")]
    assert _res(lang, turns, "identificazione").result == "pass"


# ------------------------------------------------------------------ no false applicability
GENERAL = [
    ("it", "c'è un guasto generale in tutta la zona, vedo che i tecnici sono già sul posto"),
    ("it", "l'abbonamento mensile costa sessanta franchi, si compra allo sportello"),
    ("de", "ich sehe hier, dass wir in der ganzen Region eine Störung haben"),
    ("fr", "il y a une panne du chauffage à distance sur tout le quartier"),
    ("fr", "vous pouvez faire une demande sur notre site avec votre billet"),
    ("en", "there's a network outage in your area, engineers are on site"),
]


@pytest.mark.parametrize("lang,line", GENERAL)
def test_general_information_or_an_outage_stays_na(lang, line):
    turns = [(A, "buongiorno / guten Tag / bonjour / hello"), (C, "sì / ja / oui / yes"),
             (A, line), (C, "ok grazie"), (A, "arrivederci")]
    assert _res(lang, turns, "identificazione").result == "na"


def test_a_sale_to_a_new_customer_stays_na():
    turns = [(A, "buongiorno, energia ticino"), (C, "vorrei un contratto luce per il nuovo appartamento"),
             (A, "certo, le propongo la tariffa fissa, le mando il contratto domani"), (C, "va bene")]
    assert _res("it", turns, "identificazione", "acquisizione").result == "na"


# ------------------------------------------------------------------ a win-back call: the former contract in everyday words
FORMER = [
    ("it", "la chiamo perché vedo qui che lei aveva da noi la polizza casa fino a marzo"),
    ("fr", "je vous appelle parce que vous avez arrêté votre abonnement en juin"),
    ("en", "I'm calling because you stopped your subscription in June"),
]


@pytest.mark.parametrize("lang,line", FORMER)
def test_a_win_back_call_on_the_stopped_contract_applies(lang, line):
    turns = [(A, "buongiorno / bonjour / hello"), (A, line), (C, "ah sì / ah oui / oh yes"),
             (A, "abbiamo un'offerta / on a une offre / we have an offer"), (C, "ok")]
    assert _res(lang, turns, "identificazione", "riacquisizione").result == "fail"


def test_a_generic_win_back_offer_without_the_old_contract_stays_na():
    turns = [(A, "buongiorno, abbiamo una nuova offerta per chi torna con noi"), (C, "mi dica"),
             (A, "il venti per cento di sconto il primo anno"), (C, "ci penso")]
    assert _res("it", turns, "identificazione", "riacquisizione").result == "na"


# ------------------------------------------------------------------ a card read on the caller's record; a bare "nome cognome" check
CARD = [
    ("it", "allora vedo che la carta è stata bloccata ieri sera"),
    ("fr", "d'accord je vois que la carte est revenue chez nous"),
    ("en", "okay I can see the card was blocked last night"),
]


@pytest.mark.parametrize("lang,line", CARD)
def test_reading_the_callers_card_without_a_check_fails(lang, line):
    turns = [(A, "buongiorno / bonjour / hello"), (C, "la carta non va / ma carte ne marche pas / my card doesn't work"),
             (A, line), (C, "ok"), (A, "ok")]
    assert _res(lang, turns, "identificazione").result == "fail"


def test_a_bare_name_and_surname_check_before_reading_the_card_passes():
    turns = [(A, "banca buongiorno"), (C, "la carta non funziona più"),
             (A, "mi conferma nome cognome"), (C, "paolo neri"),
             (A, "vedo che la carta è stata bloccata, gliene mando una nuova"), (C, "ok")]
    assert _res("it", turns, "identificazione").result == "pass"


OUTAGE_WITH_NAME = [
    ("it", "il mio internet non va da stamattina", "mi dice il suo nome?", "c'è un guasto in tutta la zona, torna entro le quattro"),
    ("en", "my internet's been down since this morning", "can I take your name?", "there's an outage in the whole area, it should be back by four"),
]


@pytest.mark.parametrize("lang,report,name,outage", OUTAGE_WITH_NAME)
def test_an_outage_report_with_the_callers_name_stays_na(lang, report, name, outage):
    turns = [(A, "buongiorno / hello"), (C, report), (A, name), (C, "Rossi"), (A, outage), (C, "ok")]
    assert _res(lang, turns, "identificazione").result == "na"


# ------------------------------------------------------------------ a check alone does not make a general fault the caller's
FLOOR_OUTAGE = [
    ("it", "in che stanza è lei?", "vedo più segnalazioni, è guasto tutto il piano, mando il tecnico"),
    ("de", "in welchem Stockwerk sind Sie?", "das ist eine allgemeine Störung im ganzen Stockwerk, der Techniker kommt"),
    ("fr", "vous êtes à quel étage?", "c'est une panne générale sur tout l'étage, le technicien arrive"),
    ("en", "which floor are you on?", "it's a general outage on the whole floor, an engineer is on the way"),
]


@pytest.mark.parametrize("lang,ask,outage", FLOOR_OUTAGE)
def test_a_room_asked_in_a_floor_wide_outage_stays_na(lang, ask, outage):
    turns = [(A, "helpdesk"), (C, "la rete non va / das Netz geht nicht / le réseau ne marche pas / the network is down"),
             (A, ask), (C, "<NUM>"), (A, outage), (C, "ok")]
    assert _res(lang, turns, "identificazione").result == "na"


def test_the_same_room_asked_for_the_callers_own_pc_still_applies():
    turns = [(A, "helpdesk"), (C, "il mio pc non si accende"), (A, "in che stanza è lei?"), (C, "<NUM>"),
             (A, "mando il tecnico"), (C, "ok")]
    assert _res("it", turns, "identificazione").result == "pass"


def test_the_contract_holder_asked_before_an_area_outage_is_a_lookup_and_passes():
    turns = [(A, "telefonia buongiorno"), (C, "internet non va"),
             (A, "mi dice a chi è intestato il contratto?"), (C, "a mio marito"),
             (A, "ecco c'è un guasto nella zona, torna entro sera"), (C, "ok")]
    assert _res("it", turns, "identificazione").result == "pass"


# ------------------------------------------------------------------ prossimi_passi: a conditional channel or what the caller does next
NEXT = [
    ("it", "fatto, se non basta il tecnico passa giovedì"),
    ("de", "so, falls das nicht reicht, kommt der Techniker am Donnerstag"),
    ("fr", "si ce soir il fait toujours froid vous pouvez nous rappeler"),
    ("fr", "ensuite il suffit de passer en agence avec la pièce d'identité"),
    ("en", "no worries, I'll take you off our call list"),
]


@pytest.mark.parametrize("lang,line", NEXT)
def test_a_conditional_channel_or_the_callers_next_step_passes_prossimi_passi(lang, line):
    turns = [(A, "buongiorno / guten Tag / bonjour / hello"), (C, "sì / ja / oui / yes"), (A, line), (C, "ok")]
    assert _res(lang, turns, "prossimi_passi").result == "pass"


def test_solved_with_nothing_said_about_what_happens_next_still_fails_prossimi_passi():
    turns = [(A, "helpdesk buongiorno"), (C, "la stampante non stampa"), (A, "ecco fatto, ora stampa"),
             (C, "sì va"), (A, "perfetto, arrivederci")]
    assert _res("it", turns, "prossimi_passi").result == "fail"


# ------------------------------------------------------------------ protezione_dati: German compounds and "to be sure I speak with the holder"
def test_a_delivery_address_asked_without_a_reason_fails_protezione_dati():
    turns = [(A, "Paketdienst, guten Tag"), (C, "mein Paket ist nicht da"),
             (A, "geben Sie mir Ihre Lieferadresse"), (C, "Seestrasse 8"), (A, "danke")]
    assert _res("de", turns, "protezione_dati").result == "fail"


def test_a_customer_number_asked_to_be_sure_of_the_holder_passes_protezione_dati():
    turns = [(A, "Energie, guten Morgen"), (C, "ich möchte kündigen"),
             (A, "damit ich sicher mit der Vertragsinhaberin spreche, bräuchte ich Ihre Kundennummer"),
             (C, "448812"), (A, "danke")]
    assert _res("de", turns, "protezione_dati").result == "pass"


# ------------------------------------------------------------------ empatia: dissatisfaction in everyday words
FED_UP = [
    ("it", "sono tre settimane che aspetto, non ne posso più"),
    ("de", "ich warte drei Wochen, ich habe die Nase voll"),
    ("fr", "ça fait trois semaines, je commence vraiment à en avoir assez"),
    ("en", "three weeks now, I've honestly had enough"),
]


@pytest.mark.parametrize("lang,line", FED_UP)
def test_being_fed_up_makes_empatia_apply(lang, line):
    turns = [(A, "buongiorno / guten Tag / bonjour / hello"), (C, line), (A, "ok"), (C, "ok")]
    assert _res(lang, turns, "empatia").result == "fail"


def test_a_plain_fault_report_leaves_empatia_na():
    turns = [(A, "bonjour"), (C, "ma carte ne marche plus depuis ce matin"), (A, "d'accord je regarde"), (C, "merci")]
    assert _res("fr", turns, "empatia").result == "na"


# ------------------------------------------------------------------ proposta_disdetta: waiving a fee is an offer
WAIVE = [
    ("it", "prima di chiudere le abbuono la quota annuale di quest'anno"),
    ("de", "bevor ich kündige, kann ich Ihnen die Jahresgebühr für dieses Jahr erlassen"),
    ("en", "before I cancel it, I can waive this year's annual fee"),
]


@pytest.mark.parametrize("lang,line", WAIVE)
def test_waiving_a_fee_before_cancelling_passes_proposta_disdetta(lang, line):
    turns = [(A, "buongiorno / guten Tag / hello"),
             (C, "vorrei disdire la carta / ich möchte meine Kreditkarte kündigen / I want to cancel my credit card"),
             (A, line), (C, "ok")]
    assert _res(lang, turns, "proposta_disdetta", "fidelizzazione").result == "pass"


def test_a_cancellation_simply_accepted_still_fails_proposta_disdetta():
    turns = [(A, "guten Tag"), (C, "ich möchte meine Kreditkarte kündigen"),
             (A, "in Ordnung, ich trage die Kündigung ein"), (C, "danke")]
    assert _res("de", turns, "proposta_disdetta", "fidelizzazione").result == "fail"
