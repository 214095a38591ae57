"""Rubric round 2026-12-07.5 (CRITERIA.md, "Applying the criteria to real recordings"): the engine was
too narrow on informal speech. Presentations, restatements, recaps of the agreed state, acting on
the caller's things (identificazione applies), dissatisfaction, next steps and resolution checks in
everyday words, in four languages; a name given as a bare answer. Real engine, real spaCy, short
dialogues written for the test (no mocks)."""

from __future__ import annotations

from functools import partial

import pytest

from .dialogue import criterion_result


_res = partial(criterion_result, prefix="r5")  # a criterion's result on a short dialogue


A, C = "agent", "customer"
FILL = [(C, "ok"), (A, "ok"), (C, "ok"), (A, "ok"), (C, "ok"), (A, "ok")]

# ------------------------------------------------------------------ saluto: presentations in everyday words
OPENINGS = [
    ("it", "Buongiorno, parlo con il signor Neri? Sono Paola Ferretti della Cassa Malati Ticinese."),
    ("it", "autolinee vallemaggia buongiorno"),
    ("de", "Guten Morgen, Sie sind hier bei der Seeland Energie AG verbunden, was kann ich tun?"),
    ("fr", "allô bonjour monsieur <PER> c'est amélie de fromagerie du jura"),
    ("fr", "helpdesk bonjour c'est <PER>"),
    ("en", "morning, you've reached Parkside Garage, how can I help?"),
]


@pytest.mark.parametrize("lang,opening", OPENINGS)
def test_a_greeting_with_a_presentation_in_everyday_words_passes(lang, opening):
    res = _res(lang, [(A, opening), (C, "sì / ja / oui / yes")] + FILL, "saluto")
    assert res.result == "pass"
    assert any(e.text == opening for e in res.evidence)


@pytest.mark.parametrize("lang,opening", [
    ("it", "pronto mi dica"),
    ("fr", "bonjour je vous écoute"),
    ("de", "ja hallo"),
    ("en", "hello yeah"),
])
def test_a_greeting_without_any_presentation_still_fails(lang, opening):
    assert _res(lang, [(A, opening), (C, "ok")] + FILL, "saluto").result == "fail"


def test_a_comment_with_c_est_after_the_greeting_is_no_presentation():
    turns = [(A, "Bonjour, je vous écoute."), (C, "Je suis très mécontent, personne n'est venu."),
             (A, "Je suis désolé, c'est inacceptable de vous avoir fait attendre.")] + FILL
    assert _res("fr", turns, "saluto").result == "fail"


@pytest.mark.parametrize("lang,first", [
    ("it", "sì signora allora mi ripete il codice che legge sotto la stampante"),
    ("de", "ja genau können Sie die Nummer nochmals wiederholen"),
    ("fr", "oui alors vous me répétez le numéro sur l'étiquette"),
    ("en", "okay so can you repeat the number on the sticker"),
])
def test_a_recording_that_starts_with_a_request_to_repeat_is_a_late_start(lang, first):
    assert _res(lang, [(A, first), (C, "cinque / fünf / cinq / five")] + FILL, "saluto").result == "na"


# ------------------------------------------------------------------ comprensione: everyday restatements
RESTATEMENTS = [
    ("it", "ah ecco quindi lo vuole spostare al mese prossimo"),
    ("it", "non importa quindi tutto l'ufficio senza stampante da stamattina"),
    ("de", "Sie haben also seit gestern kein Netz auf dem Handy, verstehe ich das richtig?"),
    ("fr", "d'accord donc depuis lundi l'imprimante ne sort plus rien"),
    ("en", "okay so if I understand right you want the delivery moved to Friday"),
    ("en", "right so since the update the laptop won't start, yeah?"),
]


@pytest.mark.parametrize("lang,line", RESTATEMENTS)
def test_an_everyday_restatement_of_the_need_passes_comprensione(lang, line):
    turns = [(A, "buongiorno / guten Tag / bonjour / hello"), (C, "ho un problema / ich habe ein Problem"),
             (A, line), (C, "sì / ja / oui / yes")] + FILL
    res = _res(lang, turns, "comprensione")
    assert res.result == "pass"
    assert any(e.text == line for e in res.evidence)


# ------------------------------------------------------------------ riepilogo: the agreed state said again
RECAPS = [
    ("it", "quindi lei resta con la tariffa base e l'opzione estero viene tolta", "le arriva la conferma per e-mail"),
    ("de", "also Sie bleiben beim Basisabo ab März und die Zusatzoption fällt weg", "Sie bekommen eine Bestätigung per Post"),
    ("fr", "donc vous gardez la carte et les frais annuels tombent", "vous recevrez la confirmation par e-mail"),
    ("en", "so that's the two tickets for Saturday and the parking pass", "you'll get the e-tickets by email"),
]


@pytest.mark.parametrize("lang,recap,nxt", RECAPS)
def test_the_agreed_state_said_again_before_a_next_step_is_a_recap(lang, recap, nxt):
    turns = FILL + [(A, recap), (C, "ok"), (A, nxt), (C, "grazie / danke / merci / thanks"), (A, "arrivederci")]
    res = _res(lang, turns, "riepilogo")
    assert res.result == "pass"
    assert any(e.text == recap for e in res.evidence)


@pytest.mark.parametrize("lang,recap", [(lang, recap) for lang, recap, _ in RECAPS])
def test_the_same_words_without_any_next_step_are_no_recap(lang, recap):
    turns = FILL + [(A, recap), (C, "ok"), (A, "ok"), (C, "grazie / danke / merci / thanks"), (A, "arrivederci")]
    assert _res(lang, turns, "riepilogo").result == "fail"


def test_a_bare_next_action_followed_by_a_next_step_is_still_no_recap():
    turns = FILL + [(A, "perfetto allora apro la richiesta"), (C, "ok"),
                    (A, "passa un tecnico domani mattina"), (C, "grazie"), (A, "arrivederci")]
    assert _res("it", turns, "riepilogo").result == "fail"


# ------------------------------------------------------------------ identificazione: acting on the caller's things
ACTIONS = [
    ("it", "va bene le resetto la password adesso, la password temporanea è estate due sei"),
    ("de", "okay ich setz Ihnen das Token zurück, so jetzt ist es entsperrt"),
    ("fr", "je réinitialise le mot de passe, voilà c'est débloqué"),
    ("en", "looking at the account it was over the limit, I've raised it now"),
]


@pytest.mark.parametrize("lang,action", ACTIONS)
def test_acting_on_the_callers_things_without_a_check_fails_identificazione(lang, action):
    turns = [(A, "helpdesk buongiorno / grüezi / bonjour / hello"), (C, "non riesco ad entrare / ich komme nicht rein"),
             (A, action), (C, "ok"), (A, "ok")]
    res = _res(lang, turns, "identificazione")
    assert res.result == "fail" and not res.evidence


def test_the_same_action_after_asking_for_the_user_name_passes():
    turns = [(A, "helpdesk buongiorno"), (C, "non riesco ad entrare nel pc"),
             (A, "mi dice il suo nome utente"), (C, "mrossi"),
             (A, "va bene le resetto la password adesso"), (C, "ok")]
    res = _res("it", turns, "identificazione")
    assert res.result == "pass"
    assert any("nome utente" in e.text for e in res.evidence)


def test_a_general_outage_question_still_leaves_identificazione_na():
    turns = [(A, "buongiorno servizio clienti"), (C, "c'è un guasto in zona?"),
             (A, "sì c'è un guasto generale in centrale, lo sistemano entro sera"), (C, "ok grazie")]
    assert _res("it", turns, "identificazione").result == "na"


# ------------------------------------------------------------------ empatia: dissatisfaction in everyday words
COMPLAINTS = [
    ("it", "è una settimana che aspetto e nessuno mi fa sapere niente"),
    ("de", "ehrlich gesagt, das letzte Mal war ein Witz"),
    ("fr", "franchement le service c'était nul cet hiver"),
    ("en", "I've been waiting since Monday and nobody tells me anything"),
]


@pytest.mark.parametrize("lang,complaint", COMPLAINTS)
def test_dissatisfaction_in_everyday_words_makes_empatia_apply(lang, complaint):
    turns = [(A, "buongiorno / guten Tag / bonjour / hello"), (C, complaint), (A, "ok mi dica il numero"), (C, "cinque")]
    assert _res(lang, turns, "empatia").result == "fail"


def test_a_calm_fault_report_leaves_empatia_na():
    turns = [(A, "buongiorno"), (C, "la stampante del secondo piano non stampa più"), (A, "ok guardo subito"), (C, "grazie")]
    assert _res("it", turns, "empatia").result == "na"


# ------------------------------------------------------------------ prossimi_passi and conferma_risoluzione
NEXT_STEPS = [
    ("it", "mando il tecnico, entro mezz'ora è da lei"),
    ("it", "lei passa in segreteria a ritirare la tessera domani dalle dieci"),
    ("de", "wenn's nicht geht rufen Sie einfach nochmal an"),
    ("fr", "le montant arrive sur votre compte dans trois à cinq jours ouvrables"),
    ("en", "if it doesn't work just give us a call back"),
]


@pytest.mark.parametrize("lang,line", NEXT_STEPS)
def test_a_next_step_in_everyday_words_passes(lang, line):
    res = _res(lang, FILL + [(A, line), (C, "ok")], "prossimi_passi")
    assert res.result == "pass"
    assert any(e.text == line for e in res.evidence)


def test_raising_a_limit_is_no_next_step():
    turns = [(A, "hello"), (C, "my payment bounced"), (A, "it was over the daily limit, I've raised it and it's gone through"),
             (C, "fine thanks"), (A, "no worries bye")]
    assert _res("en", turns, "prossimi_passi").result == "fail"


CHECKS = [
    ("de", "drucken Sie mal eine Testseite, geht's?"),
    ("en", "can you open the app again, is it working?"),
    ("fr", "vous pouvez relancer, ça marche?"),
]


@pytest.mark.parametrize("lang,line", CHECKS)
def test_asking_the_caller_to_try_passes_conferma_risoluzione(lang, line):
    res = _res(lang, FILL + [(A, line), (C, "ja / yes / oui")], "conferma_risoluzione")
    assert res.result == "pass"
    assert any(e.text == line for e in res.evidence)


def test_as_soon_as_it_is_resolved_is_no_resolution_question():
    turns = FILL + [(A, "il guasto è in centrale, appena è risolto le arriva un sms"), (C, "va bene"),
                    (A, "grazie buona serata")]
    assert _res("it", turns, "conferma_risoluzione").result == "fail"


# ------------------------------------------------------------------ nome_cliente: a name given as a bare answer
def test_a_surname_that_is_a_common_word_given_as_an_answer_and_used_twice_passes():
    turns = [(A, "energia <PER> buongiorno sono <PER>"), (C, "buongiorno ho un problema con la bolletta"),
             (A, "vediamo subito mi dice il suo nome"), (C, "colombo anna"),
             (A, "signora colombo mi dà il numero cliente"), (C, "<NUM>"),
             (A, "ecco fatto signora colombo arriva la nuova fattura"), (C, "grazie")]
    res = _res("it", turns, "nome_cliente")
    assert res.result == "pass"
    assert sum("colombo" in e.text for e in res.evidence) == 2


def test_the_same_answer_used_once_fails():
    turns = [(A, "bonjour service clients"), (C, "bonjour"), (A, "vous pouvez me rappeler votre nom"),
             (C, "martin sophie"), (A, "merci madame martin je regarde"), (C, "d'accord"), (A, "voilà c'est fait")]
    assert _res("fr", turns, "nome_cliente").result == "fail"


# ------------------------------------------------------------------ protezione_dati: health data, everyday reasons, work ids
@pytest.mark.parametrize("lang,question", [
    ("it", "mi dica una cosa, ha delle malattie in corso?"),
    ("de", "haben Sie Vorerkrankungen oder Medikamente?"),
    ("fr", "avez-vous des maladies ou un traitement en cours?"),
    ("en", "do you have any pre-existing conditions?"),
])
def test_a_health_question_without_a_reason_fails_protezione_dati(lang, question):
    turns = [(A, "buongiorno / guten Tag / bonjour / hello"), (C, "vorrei un'offerta / ich möchte eine Offerte"),
             (A, question), (C, "no / nein / non / no"), (A, "ok")]
    assert _res(lang, turns, "protezione_dati", "acquisizione").result == "fail"


def test_a_reason_given_when_the_caller_hesitates_passes():
    turns = [(A, "mi dà nome, indirizzo e numero di telefono?"),
             (C, "ma scusi, perché vi serve il mio numero di cellulare?"),
             (A, "serve solo al corriere per avvisarla, non lo usiamo per altro"), (C, "va bene")]
    res = _res("it", turns, "protezione_dati", "acquisizione")
    assert res.result == "pass"
    assert any("serve solo" in e.text for e in res.evidence)


@pytest.mark.parametrize("lang,line", [
    ("it", "mi legge l'indirizzo IP che vede sul pc"),
    ("en", "can you read me the IP address on the screen"),
])
def test_an_ip_address_is_no_personal_data(lang, line):
    turns = [(A, "helpdesk buongiorno"), (C, "non va la rete"), (A, line), (C, "dieci punto uno")]
    assert _res(lang, turns, "protezione_dati").result == "na"


# ------------------------------------------------------------------ congedo, proposta_disdetta, win-back identification
@pytest.mark.parametrize("lang,closing", [
    ("it", "grazie a lei signora, si goda la serata"),
    ("de", "vielen Dank, geniessen Sie den Abend"),
    ("fr", "merci beaucoup, profitez bien de votre soirée"),
    ("en", "thanks for your time, enjoy your evening"),
])
def test_thanks_with_an_enjoy_your_evening_farewell_pass_congedo(lang, closing):
    res = _res(lang, FILL + [(A, closing)], "congedo")
    assert res.result == "pass"
    assert any(e.text == closing for e in res.evidence)


@pytest.mark.parametrize("lang,offer", [
    ("it", "posso passarla alla fibra allo stesso prezzo di adesso"),
    ("de", "ich kann Ihnen die ersten drei Monate zum halben Preis geben"),
    ("fr", "je peux vous mettre la fibre au même prix qu'aujourd'hui"),
    ("en", "I can give you three months at half price"),
])
def test_an_everyday_retention_offer_passes_proposta_disdetta(lang, offer):
    turns = [(A, "buongiorno"), (C, "vorrei disdire / ich will kündigen / je veux résilier / I want to cancel"),
             (A, offer), (C, "ok")]
    res = _res(lang, turns, "proposta_disdetta", "fidelizzazione")
    assert res.result == "pass"
    assert any(e.text == offer for e in res.evidence)


@pytest.mark.parametrize("lang,line", [
    ("it", "prima di parlare della sua vecchia polizza, le faccio una proposta"),
    ("it", "le mando l'offerta all'indirizzo che ci aveva lasciato"),
    ("en", "I'll send the offer to the address we have on file"),
])
def test_a_win_back_call_using_the_callers_old_file_makes_identificazione_apply(lang, line):
    turns = [(A, "buongiorno / good afternoon"), (C, "sì / yes"), (A, line), (C, "ok")]
    assert _res(lang, turns, "identificazione", "riacquisizione").result == "fail"


# ------------------------------------------------------------------ more everyday recaps and next steps
def test_the_outcome_said_again_with_quindi_before_a_next_step_is_a_recap():
    turns = FILL + [(A, "quindi la vecchia carta è chiusa e la nuova arriva a casa tra una settimana"), (C, "ok"),
                    (A, "le serve altro"), (C, "no grazie"), (A, "grazie a lei buona giornata")]
    assert _res("it", turns, "riepilogo").result == "pass"


def test_a_status_with_allora_and_a_next_action_is_no_recap():
    turns = FILL + [(A, "allora la pratica è aperta il perito la chiama nei prossimi giorni"), (C, "ok"),
                    (A, "altro"), (C, "no"), (A, "grazie arrivederci")]
    assert _res("it", turns, "riepilogo").result == "fail"


@pytest.mark.parametrize("lang,line", [
    ("it", "ecco quindi il guaio è sulla centralina del palazzo"),
    ("en", "so the fault was on the street cabinet"),
])
def test_the_cause_said_again_near_the_end_is_a_recap(lang, line):
    turns = FILL + [(A, line), (C, "ok"), (A, "ok"), (C, "ok")]
    assert _res(lang, turns, "riepilogo").result == "pass"


@pytest.mark.parametrize("lang,line", [
    ("it", "il corriere glielo porta domani tra le otto e le dieci"),
    ("de", "Sie kriegen gleich ein SMS mit dem Code"),
    ("fr", "vous l'aurez en début de semaine prochaine"),
])
def test_a_delivery_announced_in_everyday_words_is_a_next_step(lang, line):
    assert _res(lang, FILL + [(A, line), (C, "ok")], "prossimi_passi").result == "pass"


def test_a_password_handed_over_now_is_no_next_step():
    turns = [(A, "informatik support grüezi"), (C, "ich bin ausgesperrt"),
             (A, "ich setz es zurück, Sie kriegen das temporäre Passwort sommer zwei null"), (C, "ok danke")]
    assert _res("de", turns, "prossimi_passi").result == "fail"


@pytest.mark.parametrize("lang,line", [
    ("it", "allora lei mi chiamava per la fattura del gas che le sembra troppo alta"),
    ("de", "so Frau Huber, Sie wollten mir den Zählerstand durchgeben"),
    ("fr", "alors vous appeliez pour la carte qui n'est jamais arrivée"),
    ("en", "okay so you were calling about the leak in the bathroom"),
])
def test_the_callers_reason_said_back_after_a_hold_passes_comprensione(lang, line):
    res = _res(lang, [(A, line), (C, "sì / ja / oui / yes")] + FILL, "comprensione")
    assert res.result == "pass"
    assert any(e.text == line for e in res.evidence)


@pytest.mark.parametrize("lang,line", [
    ("en", "ok so do you want to come back to us"),
    ("fr", "alors euh vous voulez revenir chez nous"),
])
def test_an_offer_question_is_no_restatement(lang, line):
    turns = [(A, "hello / bonjour"), (C, "hi / salut"), (A, line), (C, "no / non")] + FILL
    assert _res(lang, turns, "comprensione").result == "fail"


@pytest.mark.parametrize("lang,terms,nxt", [
    ("it", "allora: frigorifero Miele, 899 franchi, consegna sabato mattina, pagamento alla consegna", "il corriere la chiama un'ora prima"),
    ("de", "also: Halbtax für ein Jahr, 190 Franken, gültig ab 1. Juni, Bezahlung per Rechnung", "Sie bekommen die Karte per Post"),
    ("fr", "alors: forfait famille, deux lignes, 80 francs au total, paiement par facture", "vous recevrez les cartes SIM par courrier"),
    ("en", "so: home cover plus contents, about 60 pounds a month in total", "I'll email the quote today"),
])
def test_the_terms_of_an_order_listed_again_before_the_next_step_are_a_recap(lang, terms, nxt):
    turns = FILL + [(A, terms), (C, "ok"), (A, nxt), (C, "ok"), (A, "arrivederci / tschüss / au revoir / bye")]
    res = _res(lang, turns, "riepilogo", "acquisizione")
    assert res.result == "pass"
    assert any(e.text == terms for e in res.evidence)


@pytest.mark.parametrize("lang,line", [
    ("fr", "ça marche, je note tout ça"),
    ("de", "gut, dann geht's los mit der Bestellung"),
])
def test_an_ok_said_by_the_agent_is_no_resolution_question(lang, line):
    turns = FILL + [(A, line), (C, "ok"), (A, "au revoir / auf Wiederhören")]
    assert _res(lang, turns, "conferma_risoluzione").result == "fail"


def test_looking_at_the_callers_user_account_is_no_check_asking_for_it_is():
    seen = [(A, "helpdesk buonasera"), (C, "la vpn non mi prende"),
            (A, "allora vedo il suo utente qui ha la password scaduta da ieri"), (C, "ah"),
            (A, "gliela resetto adesso provi a collegarsi"), (C, "ok va")]
    assert _res("it", seen, "identificazione").result == "fail"
    asked = [(A, "helpdesk buonasera"), (C, "la vpn non mi prende"), (A, "mi dice il suo utente"), (C, "mrossi"),
             (A, "ha la password scaduta, gliela resetto adesso"), (C, "ok va")]
    res = _res("it", asked, "identificazione")
    assert res.result == "pass"
    assert any("mi dice il suo utente" in e.text for e in res.evidence)
