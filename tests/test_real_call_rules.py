"""The rubrics on real recordings (CRITERIA.md, "Applying the criteria to real recordings"): a
recording that starts late, masked names, identification of anything of the caller's own, next
steps and checks in everyday words, and scoring on the redacted text (the same at ingest and at
rescore; the masks understood). Real LUNA help-desk calls of the tuning split, real spaCy, a real
SQLite store."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from qa.model import Evaluation, Transcript
from qa.pipeline import redact, score_transcript

from .dialogue import dialogue

ROOT = Path(__file__).resolve().parents[1]
LUNA = ROOT / "tests" / "data" / "luna_dev"


def _tune(call_id: str) -> Transcript:
    """A LUNA call of the tuning split (never one of the held-out split)."""
    with (LUNA / "split.csv").open(encoding="utf-8") as fh:
        split = {r["call_id"]: r["split"] for r in csv.DictReader(fh)}
    assert split[call_id] == "tune"
    return Transcript.load(LUNA / "transcripts" / f"{call_id}.json")


def _call(lang: str, turns: list[tuple[str, str]], call_type: str = "assistenza", **meta) -> Transcript:
    return dialogue(lang, turns, call_type, prefix="rr", **meta)


# ---------------------------------------------------------------------------------- late start
def test_a_recording_that_starts_late_makes_saluto_na_with_its_reason():
    late = score_transcript(_tune("LUNA-0704000035"))  # "signora <PER>" / "eccomi qua allora dicevamo che…"
    saluto = late.result("saluto")
    assert saluto.result == "na" and not saluto.evidence
    assert "eccomi qua" in saluto.reason and "registrazione" in saluto.reason
    # the reason travels in the evaluation JSON (qa score output, the store) and is read back
    as_json = next(c for c in late.to_dict()["criteria"] if c["id"] == "saluto")
    assert as_json["reason"] == saluto.reason
    assert Evaluation.from_dict(late.to_dict()).result("saluto").reason == saluto.reason
    # an opening is judged: "helpdesk buongiorno sono <PER>" passes, and has no reason
    opening = score_transcript(_tune("LUNA-0703000001")).result("saluto")
    assert opening.result == "pass" and opening.reason is None


@pytest.mark.parametrize("lang,turns", [
    ("it", [("agent", "rieccomi, mi scusi l'attesa, allora lei mi diceva che la stampante non stampa"),
            ("customer", "sì, esce tutto bianco")]),
    ("de", [("agent", "So, da bin ich wieder, danke fürs Warten. Sie sagten, der Drucker druckt nicht?"),
            ("customer", "Ja, alles kommt weiss raus.")]),
    ("fr", [("agent", "Merci d'avoir patienté. Vous me disiez que l'imprimante n'imprime plus ?"),
            ("customer", "Oui, tout sort blanc.")]),
    ("en", [("agent", "Thanks for holding. You were saying the printer isn't printing?"),
            ("customer", "Yes, the pages come out blank.")]),
])
def test_late_start_in_four_languages(lang, turns):
    res = score_transcript(_call(lang, turns)).result("saluto")
    assert res.result == "na" and res.reason


@pytest.mark.parametrize("lang,turns", [
    # a missing greeting is a fail, not a late start
    ("it", [("agent", "servizio clienti, mi dica"), ("customer", "ho un problema con la fattura")]),
    ("it", [("agent", "pronto?"), ("customer", "sì buongiorno, chiamo per la fattura")]),
    ("en", [("agent", "Yeah, go ahead."), ("customer", "Hi, it's about my bill.")]),
])
def test_an_opening_without_greeting_is_still_judged(lang, turns):
    assert score_transcript(_call(lang, turns)).result("saluto").result == "fail"


# ---------------------------------------------------------------------------------- masked names
def test_masked_name_counts_when_addressed_not_when_typed():
    addressed = _call("it", [
        ("agent", "helpdesk buongiorno sono <PER>"),
        ("customer", "buongiorno mi chiamo <PER> ho un problema con la stampante"),
        ("agent", "allora signora <PER> mi dà il numero di inventario"),
        ("customer", "sì è <NUM>"),
        ("agent", "perfetto grazie signora <PER> le mando il tecnico domani mattina"),
    ])
    ev = score_transcript(addressed)
    assert ev.extra["customer_name"] == "<PER>"
    assert ev.result("nome_cliente").result == "pass"
    typed = _call("it", [
        ("agent", "helpdesk buongiorno sono <PER>"),
        ("customer", "buongiorno mi chiamo <PER> non riesco ad accedere"),
        ("agent", "allora <PER> spazio <PER> e poi la password solita"),
        ("agent", "okay allora <PER> <PER> giusto"),
    ])
    res = score_transcript(typed).result("nome_cliente")
    assert res.result == "fail"  # the name is known (the caller gave it) but only typed back


# ---------------------------------------------------------------------------------- identification
@pytest.mark.parametrize("lang,turns", [
    ("it", [("agent", "helpdesk buongiorno sono Marta"),
            ("customer", "buongiorno il mio computer non si accende più"),
            ("agent", "mi dà il numero di inventario della macchina?"), ("customer", "sì è il 4512")]),
    ("it", [("agent", "assistenza buongiorno"), ("customer", "ho aperto una richiesta la settimana scorsa"),
            ("agent", "mi dice il numero della richiesta così la cerco"), ("customer", "è la 3380")]),
    ("de", [("agent", "Guten Tag, IT-Support, Müller."), ("customer", "Guten Tag, mein Passwort ist gesperrt."),
            ("agent", "Wie lautet Ihr Benutzername?"), ("customer", "hmeier")]),
    ("fr", [("agent", "Bonjour, support informatique."), ("customer", "Bonjour, mon imprimante ne marche plus."),
            ("agent", "Vous pouvez me donner le numéro d'inventaire ?"), ("customer", "Oui, 7731.")]),
    ("en", [("agent", "Hello, service desk, Tom speaking."), ("customer", "Hi, my laptop won't connect."),
            ("agent", "Can I take your name and the asset tag?"), ("customer", "Sure, Jane Fox, 5521.")]),
])
def test_identification_is_domain_wide(lang, turns):
    res = score_transcript(_call(lang, turns)).result("identificazione")
    assert res.result == "pass", (lang, res.feedback)


def test_identification_not_applicable_to_a_general_question():
    t = _call("it", [("agent", "buongiorno servizio clienti sono Marta"),
                     ("customer", "buongiorno volevo sapere fino a che ora siete aperti sabato"),
                     ("agent", "sabato siamo aperti fino alle diciotto")])
    assert score_transcript(t).result("identificazione").result == "na"


# ---------------------------------------------------------------------------------- next steps
@pytest.mark.parametrize("lang,text", [
    ("it", "allora le mando lì il tecnico e le lascio il numero della chiamata"),
    ("it", "okay io la richiamo domani verso le dieci"),
    ("it", "se ci fossero problemi ci risentiamo"),
    ("de", "Ich eröffne ein Ticket und ich rufe Sie zurück."),
    ("fr", "J'ouvre un ticket et un technicien passera chez vous."),
    ("en", "I'm opening a ticket and I'll call you back."),
])
def test_next_steps_in_everyday_words(lang, text):
    t = _call(lang, [("customer", {"it": "la stampante non stampa", "de": "Der Drucker druckt nicht.",
                                   "fr": "L'imprimante n'imprime pas.", "en": "The printer isn't printing."}[lang]),
                     ("agent", text)])
    assert score_transcript(t).result("prossimi_passi").result == "pass"


def test_a_call_back_mentioned_as_an_introduction_is_no_next_step():
    t = _call("it", [("agent", "pronto sì la chiamo da Solara Energia per la richiesta che ha lasciato"),
                     ("customer", "ah sì buongiorno"), ("agent", "va bene allora grazie arrivederci")],
              call_type="acquisizione")
    assert score_transcript(t).result("prossimi_passi").result == "fail"


# ---------------------------------------------------------------------------------- redacted text
def test_a_date_of_birth_asked_still_passes_identificazione_after_redaction():
    t = _call("it", [("agent", "buongiorno servizio clienti sono Laura"),
                     ("customer", "buongiorno chiamo per la mia fattura di marzo"),
                     ("agent", "certo, mi conferma che lei è nato il 12.03.1980?"),
                     ("customer", "sì esatto"),
                     ("agent", "grazie, vedo la sua fattura")])
    masked = redact(t).transcript
    assert "[DATA_NASCITA]" in masked.segments[2].text and "1980" not in masked.segments[2].text
    for version in (t, masked):
        res = score_transcript(version).result("identificazione")
        assert res.result == "pass", res.feedback
    # the mask alone shows that the date was asked for and read back
    only_mask = _call("it", [("customer", "è per la mia fattura"), ("agent", "ho qui [DATA_NASCITA], corretto?"),
                             ("customer", "sì")])
    assert score_transcript(only_mask).result("identificazione").result == "pass"


def test_scored_at_ingest_and_rescored_give_identical_results(tmp_path):
    """Ingest (which redacts) then a forced rescore of what is stored: every criterion, result,
    evidence and reason the same, on real calls with masked data and a call with a date of birth."""
    from qa.ingest import IngestSettings, ingest, rescore
    from qa.store import open_store

    d = tmp_path / "in"
    d.mkdir()
    for cid in ("LUNA-0704000035", "LUNA-0703000001", "LUNA-0704000054"):
        shutil.copy(LUNA / "transcripts" / f"{cid}.json", d)
    dob = _call("it", [("agent", "buongiorno servizio clienti sono Laura"),
                       ("customer", "buongiorno, sono Paolo Rossi, chiamo per la mia fattura"),
                       ("agent", "signor Rossi, mi conferma che lei è nato il 12.03.1980?"),
                       ("customer", "sì, nato il 12.03.1980"),
                       ("agent", "grazie signor Rossi, vedo la sua fattura, riceverà la correzione per e-mail")])
    dob.call_id = "DOB-1"
    dob.save(d / "DOB-1.json")
    store = open_store(f"sqlite:///{tmp_path / 'qa.db'}")
    try:
        report = ingest([d], store, IngestSettings(redact=True, data_dir=str(tmp_path / "data")), workers=1,
                        progress=False)
        assert report.stored == 4
        first = {cid: store.load_evaluation(cid) for cid in ("LUNA-0704000035", "LUNA-0703000001",
                                                              "LUNA-0704000054", "DOB-1")}
        assert first["LUNA-0704000035"].result("saluto").reason  # the reason is stored
        assert first["DOB-1"].result("identificazione").result == "pass"
        assert "[DATA_NASCITA]" in store.load_transcript("DOB-1").segments[3].text
        again = rescore(store, force=True, progress=False)
        assert again.rescored == 4
        for cid, ev in first.items():
            new = store.load_evaluation(cid)
            assert [c.to_dict() for c in new.criteria] == [c.to_dict() for c in ev.criteria], cid
            assert new.score == ev.score
    finally:
        store.close()


# ---------------------------------------------------------------------------------- summaries
_OPEN = {"it": ("buongiorno servizio clienti", "ho un problema con la stampante"),
         "de": ("Guten Tag, Kundendienst", "Ich habe ein Problem mit dem Drucker"),
         "fr": ("Bonjour, service client", "J'ai un problème avec l'imprimante"),
         "en": ("Hello, customer service", "I have a problem with my printer")}


def _closing(lang: str, text: str) -> Transcript:
    first, problem = _OPEN[lang]
    return _call(lang, [("agent", first), ("customer", problem), ("agent", "ok"), ("customer", "ok"),
                        ("agent", text), ("customer", "ok")])


@pytest.mark.parametrize("lang,text", [
    # a long informational turn near the end is not a summary
    ("it", "Allora, con il nuovo abbonamento ha internet illimitato, la TV con cento canali e le chiamate in "
           "Svizzera incluse, e l'installazione è gratuita."),
    ("it", "Quindi le spiego come funziona: il router si riavvia da solo di notte e gli aggiornamenti arrivano "
           "in automatico, non deve fare niente."),
    ("de", "Also, das Abo umfasst unbegrenztes Internet, hundert TV-Sender und Anrufe in der Schweiz, die "
           "Installation ist gratis."),
    ("fr", "Donc on a la fibre jusqu'à un gigabit, cent chaînes de télévision et les appels illimités en Suisse, "
           "l'installation est gratuite."),
    ("en", "So that's the fibre package: unlimited data, a hundred TV channels and free calls within "
           "Switzerland, and installation is free."),
])
def test_an_informational_turn_is_not_a_summary(lang, text):
    assert score_transcript(_closing(lang, text)).result("riepilogo").result == "fail"


@pytest.mark.parametrize("lang,text", [
    ("it", "ok quindi era solo l'opzione della stampa a colori da impostare, adesso è a posto"),
    ("de", "gut, es lag also nur an der Einstellung für den Farbdruck, jetzt geht es"),
    ("fr", "bon c'était juste l'option couleur à régler, maintenant ça marche"),
    ("en", "ok so it was just the colour printing option that needed setting, it's fine now"),
    ("en", "So you'll get the new router by Friday and the engineer comes on Monday."),
])
def test_an_informal_recap_is_a_summary(lang, text):
    assert score_transcript(_closing(lang, text)).result("riepilogo").result == "pass"


# ---------------------------------------------------------------------------------- generalisation (issue 12)
# Formulations written from how such calls go in six services (IT help desk, telecom, energy,
# insurance, banking, retail / public transport), in the four languages; the LUNA calls are of the
# tuning split. Hard negatives: a long informational turn is no summary, a plan mention no retention
# offer, the caller's thanks no farewell of the agent's.

def test_a_recap_is_the_problem_said_again_next_to_the_next_action():
    # real calls: "segnalo la massima urgenza in quanto il PC non è funzionale",
    # "ci sentiamo domani … così vediamo di capire se è un problema del monitor"
    for cid in ("LUNA-0703000006", "LUNA-0704000031"):
        assert score_transcript(_tune(cid)).result("riepilogo").result == "pass", cid


@pytest.mark.parametrize("lang,text,expected", [
    ("it", "allora le mando il tecnico per la stampante che non stampa a colori", "pass"),
    ("de", "gut, dann schicke ich Ihnen einen Techniker für den Drucker, der nicht druckt", "pass"),
    ("fr", "alors un technicien passera demain pour l'imprimante qui ne marche pas", "pass"),
    ("en", "right, an engineer will come tomorrow for the printer that won't print", "pass"),
    # a bare next action is no recap
    ("it", "va bene le mando il tecnico domani", "fail"),
    ("en", "okay an engineer will come tomorrow", "fail"),
])
def test_recap_or_bare_next_action(lang, text, expected):
    assert score_transcript(_closing(lang, text)).result("riepilogo").result == expected


def test_a_long_coverage_explanation_at_the_end_is_not_a_summary():
    t = _call("it", [
        ("agent", "assicurazioni buongiorno sono Carla"),
        ("customer", "buongiorno chiamo per un danno d'acqua in cucina"),
        ("agent", "le invio il modulo per la denuncia via mail e poi il perito la chiama per il sopralluogo"),
        ("customer", "e quanto mi coprite"),
        ("agent", "allora la polizza casa copre i danni da acqua condotta fino a cinquemila franchi con una "
                  "franchigia di duecento franchi per sinistro e il perito valuta anche i mobili danneggiati e le "
                  "eventuali spese di asciugatura dei locali"),
        ("customer", "ah bene"), ("agent", "ha altre domande"), ("customer", "no grazie"),
        ("agent", "grazie arrivederci")])
    ev = score_transcript(t)
    assert ev.result("riepilogo").result == "fail"
    assert ev.result("prossimi_passi").result == "pass"
    assert ev.result("conferma_risoluzione").result == "pass"


_CANCEL = {"it": "buongiorno vorrei disdire l'abbonamento costa troppo",
           "de": "Guten Tag, ich möchte mein Abo kündigen, es ist mir zu teuer.",
           "fr": "Bonjour, je voudrais résilier mon abonnement, c'est trop cher.",
           "en": "Hi, I want to cancel my contract, it costs too much."}


@pytest.mark.parametrize("lang,text,expected", [
    # an ordinary mention of the current plan and its price is no retention offer
    ("it", "vedo il suo abbonamento attuale è il piano casa cinquanta a quarantanove franchi al mese", "fail"),
    ("de", "Sie haben aktuell das Angebot Internet 500 für neunundvierzig Franken im Monat", "fail"),
    ("fr", "vous avez actuellement l'offre internet cinq cents à quarante-neuf francs par mois", "fail"),
    ("en", "your current plan is the fibre five hundred at forty nine pounds a month", "fail"),
    # a concrete alternative put forward is one
    ("it", "invece di disdire posso passarla al piano base a ventinove franchi al mese", "pass"),
    ("de", "bevor Sie kündigen, ich könnte Ihnen das kleinere Abo für neunundzwanzig Franken anbieten", "pass"),
    ("fr", "avant de résilier, je peux vous proposer le forfait de base à vingt-neuf francs", "pass"),
    ("en", "before you cancel, I could move you to the basic plan at twenty nine pounds a month", "pass"),
])
def test_a_plan_mention_is_no_retention_offer(lang, text, expected):
    t = _call(lang, [("agent", _OPEN[lang][0]), ("customer", _CANCEL[lang]), ("agent", text)],
              call_type="fidelizzazione")
    assert score_transcript(t).result("proposta_disdetta").result == expected


@pytest.mark.parametrize("lang,closing,expected", [
    # the caller thanks, the agent only says goodbye
    ("it", [("customer", "va bene grazie arrivederci"), ("agent", "arrivederci")], "fail"),
    ("de", [("customer", "danke vielmal, tschüss"), ("agent", "gern geschehen, tschüss")], "fail"),
    ("fr", [("customer", "non merci au revoir"), ("agent", "je vous en prie, bonne journée")], "fail"),
    ("en", [("customer", "great thank you"), ("agent", "no problem, bye")], "fail"),
    # the agent's own thanks with the farewell
    ("it", [("customer", "grazie mille"), ("agent", "grazie a lei, buona giornata")], "pass"),
    ("en", [("customer", "thanks, bye"), ("agent", "thanks for calling, have a good one")], "pass"),
])
def test_the_callers_thanks_is_not_the_agents_farewell(lang, closing, expected):
    first, problem = _OPEN[lang]
    t = _call(lang, [("agent", first), ("customer", problem), ("agent", "ok"), *closing])
    assert score_transcript(t).result("congedo").result == expected


def test_a_mid_call_thanks_is_not_the_leave_taking():
    t = _call("it", [("agent", "telefonia buongiorno sono Paola"), ("customer", "ho internet che va e viene"),
                     ("agent", "grazie quindi la linea cade più volte al giorno giusto"), ("customer", "sì"),
                     ("agent", "le apro un guasto e un tecnico la contatta entro quarantotto ore"),
                     ("customer", "va bene grazie arrivederci"), ("agent", "arrivederci")])
    assert score_transcript(t).result("congedo").result == "fail"


@pytest.mark.parametrize("lang,text", [
    ("it", "è già la terza settimana che va e viene, io lavoro da casa, non ce la faccio più"),
    ("it", "mi è arrivata una bolletta che è il doppio del solito, non è normale, così non va bene"),
    ("de", "das kann doch nicht sein, der Zug fällt schon wieder aus, das ist echt mühsam"),
    ("fr", "ma connexion rame depuis une semaine, c'est vraiment pénible"),
    ("en", "honestly this is such a pain, I was promised it would be fixed"),
])
def test_everyday_dissatisfaction_makes_empathy_applicable(lang, text):
    t = _call(lang, [("agent", _OPEN[lang][0]), ("customer", text), ("agent", "ok")])
    assert score_transcript(t).result("empatia").result == "fail"  # applicable, and not acknowledged


@pytest.mark.parametrize("lang,text", [
    ("fr", "je cherche un abonnement internet, si possible pas trop cher"),
    ("en", "I'd like a new contract, hopefully not too expensive"),
    ("it", "la stampante non stampa più da stamattina"),  # a plain fault report
])
def test_a_wish_or_a_plain_fault_report_is_no_dissatisfaction(lang, text):
    t = _call(lang, [("agent", _OPEN[lang][0]), ("customer", text), ("agent", "ok")])
    assert score_transcript(t).result("empatia").result == "na"


@pytest.mark.parametrize("lang,text", [
    ("it", "le mando il dettaglio via mail e se vuole può chiedere di pagarla a rate"),  # energy
    ("it", "la sblocco adesso e tra cinque minuti può riprovare al bancomat"),  # banking
    ("it", "domattina passa il collega del supporto a vederla"),  # IT help desk
    ("it", "domani il corriere la chiama per concordare la consegna"),  # retail
    ("de", "das Geld kommt dann innerhalb von zwei Wochen auf Ihr Konto"),  # public transport
    ("fr", "l'expert vous contacte dans les trois jours"),  # insurance
    ("en", "I'll email you a returns label and the replacement goes out the same day"),  # retail
    ("en", "we'll send someone out to read the meter on Thursday"),  # energy
])
def test_next_steps_across_services(lang, text):
    t = _call(lang, [("agent", _OPEN[lang][0]), ("customer", _OPEN[lang][1]), ("agent", text)])
    assert score_transcript(t).result("prossimi_passi").result == "pass"


@pytest.mark.parametrize("lang,text", [
    ("de", "wir melden uns dann irgendwann"),
    ("fr", "on vous recontactera un de ces jours"),
    ("en", "someone will get back to you at some point"),
    ("it", "magari le mando qualcosa, poi vede lei"),
])
def test_a_vague_promise_is_no_next_step(lang, text):
    t = _call(lang, [("agent", _OPEN[lang][0]), ("customer", _OPEN[lang][1]), ("agent", text)])
    assert score_transcript(t).result("prossimi_passi").result == "fail"


@pytest.mark.parametrize("lang,first,expected", [
    ("it", "telenet assistenza tecnica buongiorno sono paola", "pass"),
    ("it", "energia ticino buonasera sono luca come posso aiutarla", "pass"),
    ("de", "grüezi raiffeisenbank kundendienst mein name ist tobias", "pass"),
    ("fr", "bonjour vous êtes chez vaudoise assurances nathalie à votre écoute", "pass"),
    ("en", "good afternoon northern power how can i help", "pass"),
    ("en", "service desk morning", "pass"),
    # a greeting without presentation
    ("it", "buongiorno mi dica", "fail"),
    ("fr", "Bonjour, je vous écoute.", "fail"),
    ("en", "hi good afternoon am i speaking with mister okafor", "fail"),
])
def test_presentation_on_lower_case_transcripts(lang, first, expected):
    t = _call(lang, [("agent", first), ("customer", _OPEN[lang][1])])
    assert score_transcript(t).result("saluto").result == expected


def test_a_tag_question_counts_only_after_a_restatement():
    # real call: "provi a entrare così vediamo subito se è giusto o meno" is no understanding check
    assert score_transcript(_tune("LUNA-0704000028")).result("comprensione").result == "fail"
    t = _call("it", [("agent", "banca buongiorno sono Elena"), ("customer", "la carta mi viene rifiutata"),
                     ("agent", "quindi al bancomat gliela rifiuta ma online funziona giusto")])
    assert score_transcript(t).result("comprensione").result == "pass"


def test_a_call_back_number_or_a_password_problem_is_no_personal_data_request():
    # real calls: "mi lasci un numero di telefono" (call-back), "okay password mi dice" (the topic)
    for cid in ("LUNA-0704000040", "LUNA-0704000056"):
        assert score_transcript(_tune(cid)).result("protezione_dati").result == "na", cid
    asked = _call("it", [("agent", "banca buongiorno sono Elena"), ("customer", "non riesco a entrare"),
                         ("agent", "mi dice la sua password e la data di nascita")])
    assert score_transcript(asked).result("protezione_dati").result == "fail"


@pytest.mark.parametrize("lang,turns", [
    ("it", [("customer", "non riesco ad accedere al sito interno"),
            ("agent", "mi dai l'indirizzo IP così mi collego un attimo")]),
    ("fr", [("customer", "ma connexion rame depuis une semaine"),
            ("agent", "vous pouvez me donner le titulaire de la ligne")]),
    ("de", [("customer", "mein Router blinkt nur noch rot"), ("agent", "auf wen läuft der Anschluss?")]),
    ("en", [("customer", "my parcel hasn't arrived"), ("agent", "can I have the tracking number please")]),
])
def test_identification_by_work_and_service_identifiers(lang, turns):
    t = _call(lang, [("agent", _OPEN[lang][0]), *turns])
    assert score_transcript(t).result("identificazione").result == "pass"


# ---------------------------------------------------------------------------------- round 3 (2026-12-07)
@pytest.mark.parametrize("lang,closing,expected", [
    # a mono closing turn that mixes both voices: the plain thanks beside "figurati / prego / no worries"
    # is the caller's (or only answered); the agent's own reciprocal thanks still counts
    ("it", "va bene figurati buona giornata ciao gentile grazie grazie mille ciao", "fail"),
    ("de", "gern geschehen danke tschüss", "fail"),
    ("fr", "je vous en prie merci au revoir", "fail"),
    ("en", "no worries thanks bye", "fail"),
    ("it", "figurati grazie a te ciao buona giornata", "pass"),
    ("de", "gern geschehen danke Ihnen auf Wiederhören", "pass"),
    ("fr", "de rien merci à vous au revoir", "pass"),
    ("en", "you're welcome thank you too bye", "pass"),
])
def test_a_thanks_beside_a_reply_to_thanks_is_not_the_agents(lang, closing, expected):
    first, problem = _OPEN[lang]
    t = _call(lang, [("agent", first), ("customer", problem), ("agent", "ok"), ("customer", "ok grazie"),
                     ("agent", closing)])
    assert score_transcript(t).result("congedo").result == expected


def test_mixed_closing_turns_of_real_calls():
    # real mono calls: "figurati buona giornata ... gentile grazie grazie mille" (the thanks are the
    # caller's) fails; "figurati grazie a te ciao buona giornata" passes
    for cid in ("LUNA-0703000001", "LUNA-0703000005", "LUNA-0704000059"):
        assert score_transcript(_tune(cid)).result("congedo").result == "fail", cid
    assert score_transcript(_tune("LUNA-0704000032")).result("congedo").result == "pass"


_NOT_NEAR = """
rubric: prova_not_near
version: 1
extends: comune
criteria:
  grazie_proprio:
    title: Grazie
    competence: ["2.6"]
    weight: 1
    rule:
      said:
        by: agent
        any_of: {it: ["grazie"], de: ["danke"], fr: ["merci"], en: ["thanks"]}
        not_near: {any_of: {it: ["prego"], de: ["bitte"], fr: ["rien"], en: ["welcome"]}, within_words: 2}
    feedback:
      pass: {it: "ok", de: "ok", fr: "ok", en: "ok"}
      fail: {it: "no", de: "no", fr: "no", en: "no"}
"""


@pytest.mark.parametrize("text,expected", [
    ("prego grazie", "fail"),                   # blocked: side by side
    ("prego allora sì grazie", "fail"),         # 2 words between: within_words 2
    ("prego allora sì va bene grazie", "pass"),  # 4 words between: too far to block
    ("grazie allora sì va bene grazie prego", "pass"),  # the first thanks is free
])
def test_not_near_blocks_a_hit_with_the_other_phrase_close_by(text, expected):
    from qa.rubric import load_rubric_text
    rub = load_rubric_text(_NOT_NEAR, "prova.yaml")
    t = _call("it", [("agent", "buongiorno"), ("customer", "ok"), ("agent", text)])
    assert score_transcript(t, rub).result("grazie_proprio").result == expected


def test_not_near_is_validated_like_near():
    from qa.rubric import validate_rubric_text
    bad = _NOT_NEAR.replace("within_words: 2}", "within_words: 2, within_turns: 1}")
    errs = validate_rubric_text(bad, "prova.yaml")
    line = 1 + bad.splitlines().index(next(x for x in bad.splitlines() if "not_near: {" in x))
    assert errs and "within_words" in str(errs[0]) and errs[0].line == line, [str(e) for e in errs]
    assert validate_rubric_text(_NOT_NEAR.replace("not_near: {", "not_near: [").replace("within_words: 2}",
                                                                                      "within_words: 2]"),
                                "prova.yaml")


@pytest.mark.parametrize("lang,text", [
    ("it", "ma siamo matti, è una rapina, nessuno mi ha richiamato"),
    ("de", "ich warte seit Wochen, niemand ruft zurück, das nervt echt"),
    ("fr", "c'est toujours la même chose avec vous, personne ne rappelle"),
    ("en", "I've been on hold forever and nobody's called me back, it's not on"),
])
def test_dissatisfaction_in_everyday_words(lang, text):
    t = _call(lang, [("agent", _OPEN[lang][0]), ("customer", text), ("agent", "ok")])
    assert score_transcript(t).result("empatia").result == "fail"  # applicable, and not acknowledged


@pytest.mark.parametrize("lang,text", [
    # a plain fault report, a calm price mention or a courtesy is no dissatisfaction (CRITERIA.md)
    ("it", "il router non funziona più da ieri sera"),
    ("de", "der Drucker geht nicht, und der Preis wurde erhöht, oder?"),
    ("fr", "désolé de vous déranger, ma box ne marche pas"),
    ("en", "hi, my broadband's not working and it doesn't work on the laptop either"),
])
def test_a_fault_report_or_a_courtesy_is_no_dissatisfaction(lang, text):
    t = _call(lang, [("agent", _OPEN[lang][0]), ("customer", text), ("agent", "ok")])
    assert score_transcript(t).result("empatia").result == "na"


_UPSET = {"it": "è la terza volta che chiamo, sono stufo", "de": "das ist schon das dritte Mal, ich bin sauer",
          "fr": "c'est la troisième fois que j'appelle, j'en ai marre",
          "en": "this is the third time I've called, I'm fed up"}


@pytest.mark.parametrize("lang,reply,expected", [
    ("it", "eh mi spiace davvero", "pass"),
    ("de", "oh je, das ist wirklich schade", "pass"),
    ("fr", "ah mince, ce n'est pas normal", "pass"),
    ("en", "what a pain, sorry that happened", "pass"),
    # a courtesy on the way to a look-up is no empathy
    ("it", "mi scusi un attimo che controllo", "fail"),
    ("en", "sorry, can you spell the postcode", "fail"),
])
def test_empathy_replies_in_everyday_words(lang, reply, expected):
    t = _call(lang, [("agent", _OPEN[lang][0]), ("customer", _UPSET[lang]), ("agent", reply)])
    assert score_transcript(t).result("empatia").result == expected


@pytest.mark.parametrize("lang,ask", [
    ("it", "certo, con chi parlo scusi?"),
    ("de", "darf ich Ihre Personalnummer haben?"),
    ("fr", "d'accord, avec qui je parle ?"),
    ("en", "okay, who's calling please?"),
])
def test_who_am_i_speaking_with_is_an_identity_check(lang, ask):
    t = _call(lang, [("agent", _OPEN[lang][0]), ("customer", {
        "it": "ho un problema con il mio computer", "de": "mein Computer startet nicht",
        "fr": "mon ordinateur ne démarre plus", "en": "my laptop won't start"}[lang]), ("agent", ask)])
    assert score_transcript(t).result("identificazione").result == "pass"


@pytest.mark.parametrize("lang,ask,expected", [
    ("it", "mi dice la data di nascita così trovo la polizza", "pass"),
    ("de", "sagen Sie mir bitte Ihr Geburtsdatum, damit ich Sie sicher identifizieren kann", "pass"),
    ("fr", "votre date de naissance, c'est pour la sécurité de votre compte", "pass"),
    ("en", "for security can you give me your date of birth", "pass"),
    # "it's the procedure" says neither why nor how the data is protected
    ("it", "mi serve la data di nascita, è la procedura", "fail"),
    ("fr", "il me faut votre date de naissance, c'est la procédure", "fail"),
    ("en", "I need your date of birth, it's standard procedure", "fail"),
    ("de", "ich brauche Ihr Geburtsdatum, das ist Vorschrift", "fail"),
])
def test_why_the_data_is_needed_in_everyday_words(lang, ask, expected):
    t = _call(lang, [("agent", _OPEN[lang][0]), ("customer", _OPEN[lang][1]), ("agent", ask)])
    assert score_transcript(t).result("protezione_dati").result == expected


@pytest.mark.parametrize("lang,text", [
    ("it", "era il driver vecchio, se ricapita mi chiami"),
    ("de", "falls es wieder passiert, rufen Sie mich an"),
    ("fr", "si ça recommence, rappelez-moi"),
    ("en", "if it comes back give us a shout"),
])
def test_a_conditional_call_back_is_a_next_step(lang, text):
    t = _call(lang, [("agent", _OPEN[lang][0]), ("customer", _OPEN[lang][1]), ("agent", text)])
    assert score_transcript(t).result("prossimi_passi").result == "pass"


@pytest.mark.parametrize("lang,first,expected", [
    ("it", "buongiorno telefonia ticino sono sara", "pass"),
    ("de", "guten Tag Stadtwerke hier ist Jan", "pass"),
    ("fr", "bonjour service gaz ici Marc", "pass"),
    ("en", "hi city energy I'm tom", "pass"),
    ("en", "hello? yeah hi it's about your old membership", "fail"),
    ("it", "buongiorno mi dica pure", "fail"),
    ("en", "hi how can I help", "fail"),
])
def test_a_greeting_with_the_service_and_the_agents_name(lang, first, expected):
    t = _call(lang, [("agent", first), ("customer", _OPEN[lang][1])])
    assert score_transcript(t).result("saluto").result == expected


# ------------------------------------------------- identification and data protection (issue 12)
@pytest.mark.parametrize("lang,turns,expected", [
    # asking for or confirming the caller's name before acting counts (CRITERIA.md, real recordings) ...
    ("it", [("customer", "la mia bolletta di novembre è il doppio del solito"),
            ("agent", "mi dice il suo nome per favore"), ("customer", "giulia ferrari"),
            ("agent", "vedo che a novembre c'è il roaming della vacanza")], "pass"),
    ("de", [("customer", "meine Rechnung ist viel zu hoch"), ("agent", "wie ist Ihr Name bitte"),
            ("customer", "Keller"), ("agent", "ich sehe im Oktober Roaming-Gebühren")], "pass"),
    ("fr", [("customer", "je trouve mon forfait trop cher"), ("agent", "c'est à quel nom"),
            ("customer", "Martin Dubois"), ("agent", "je vous passe sur le forfait à vingt-neuf francs")], "pass"),
    ("en", [("customer", "my bill is twice what it should be"), ("agent", "can I take your name"),
            ("customer", "chris hall"), ("agent", "I can see roaming charges in october")], "pass"),
    # ... as a date of birth, a customer number or the address does
    ("it", [("customer", "la mia bolletta di novembre è il doppio del solito"),
            ("agent", "mi dà il numero cliente e la data di nascita")], "pass"),
    ("en", [("customer", "my bill is twice what it should be"),
            ("agent", "can I take the first line of your address and the postcode")], "pass"),
    # a general question with nothing of the caller's own: asking who calls makes it no account matter
    ("it", [("customer", "fino a che ora c'è il treno per locarno la domenica"), ("agent", "certo con chi parlo"),
            ("customer", "sono anna"), ("agent", "l'ultimo treno parte alle ventitré e dieci")], "na"),
])
def test_a_name_asked_before_acting_is_a_verification(lang, turns, expected):
    t = _call(lang, [("agent", _OPEN[lang][0]), *turns])
    assert score_transcript(t).result("identificazione").result == expected


@pytest.mark.parametrize("lang,turns,expected", [
    # the reason given where the data is asked for, or after the customer asks why
    ("fr", [("customer", "où en est mon remboursement"),
            ("agent", "pouvez-vous me donner votre numéro d'assuré et votre date de naissance"),
            ("customer", "pourquoi vous avez besoin de ma date de naissance"),
            ("agent", "c'est pour vérifier que je parle bien à la personne assurée")], "pass"),
    ("it", [("customer", "quando arriva il mio ordine"),
            ("agent", "mi lascia un indirizzo email così le mando il numero di spedizione")], "pass"),
    # a purpose word far from the request is no explanation of why the data is needed
    ("de", [("customer", "ich möchte mein Abo kündigen"), ("agent", "wie ist Ihr Geburtsdatum und Ihre Kundennummer"),
            ("customer", "zwölfter Juni siebzig, sieben acht neun"), ("agent", "ich kann Ihnen Rabatt geben"),
            ("customer", "gut dann bleibe ich"), ("agent", "schön"), ("customer", "ja"),
            ("agent", "nur damit Sie es wissen, der Rabatt gilt ab der nächsten Rechnung")], "fail"),
    ("en", [("customer", "I need a higher limit on my credit card"),
            ("agent", "can you give me your date of birth"), ("customer", "ninth of july seventy five"),
            ("agent", "thanks I've raised the limit"), ("customer", "great"), ("agent", "anything else"),
            ("customer", "no"), ("agent", "don't worry all your payments are protected")], "fail"),
    # an explicit word on data protection counts wherever it is said
    ("it", [("customer", "vorrei cambiare l'IBAN"), ("agent", "mi dà la data di nascita"),
            ("customer", "tre marzo sessantotto"), ("agent", "grazie"), ("customer", "prego"),
            ("agent", "i suoi dati sono trattati secondo la legge sulla protezione dei dati")], "pass"),
])
def test_data_protection_reason_is_given_near_the_request(lang, turns, expected):
    t = _call(lang, [("agent", _OPEN[lang][0]), *turns])
    assert score_transcript(t).result("protezione_dati").result == expected


@pytest.mark.parametrize("lang,turns", [
    ("en", [("customer", "I've moved, my new address is twelve park road"),
            ("agent", "thanks I've updated your address, the confirmation goes to your email address")]),
    ("it", [("customer", "mi sono trasferito, il nuovo indirizzo è via nassa tre"),
            ("agent", "grazie ho aggiornato il suo indirizzo e le mando la conferma al suo indirizzo email")]),
    ("fr", [("customer", "j'ai déménagé, ma nouvelle adresse est rue du lac dix"),
            ("agent", "merci j'ai modifié votre adresse, la confirmation part à votre adresse e-mail")]),
    ("de", [("customer", "ich bin umgezogen, meine neue Adresse ist Seestrasse zehn"),
            ("agent", "danke, ich habe Ihre Adresse geändert, die Bestätigung geht an Ihre E-Mail-Adresse")]),
])
def test_data_the_customer_volunteers_is_no_data_request(lang, turns):
    # protezione_dati applies when the agent asks for personal data; naming it ("your address") is no request
    t = _call(lang, [("agent", _OPEN[lang][0]), *turns])
    assert score_transcript(t).result("protezione_dati").result == "na"
    asked = _call(lang, [("agent", _OPEN[lang][0]), turns[0],
                         ("agent", {"en": "and your email address please", "it": "e il suo indirizzo email per favore",
                                    "fr": "et votre adresse e-mail s'il vous plaît",
                                    "de": "und Ihre E-Mail-Adresse bitte"}[lang])])
    assert score_transcript(asked).result("protezione_dati").result == "fail"


def test_a_customers_why_about_something_else_is_no_hesitation_over_data():
    # "why" near data the customer offers, with no data asked for by the agent: no hesitation (na)
    t = _call("en", [("agent", _OPEN["en"][0]), ("customer", "why is my bill so high, my email is tom at mail dot com"),
                     ("agent", "let me look, there were roaming charges in october")])
    assert score_transcript(t).result("protezione_dati").result == "na"
    asked = _call("en", [("agent", _OPEN["en"][0]), ("customer", "my bill is too high"),
                         ("agent", "can I have your date of birth"), ("customer", "why do you need that")])
    assert score_transcript(asked).result("protezione_dati").result == "fail"
