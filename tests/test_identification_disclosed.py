"""Issue 12, `identificazione`, more ways of acting before the check (CRITERIA.md: the identity is
verified "before discussing or changing" the account):
- details of the caller's record said to them (what they pay, what they have had since which year,
  the contract they cancelled) are the account being discussed: a check after them comes too late;
- a change made on a named thing without a possessive ("ho aggiornato l'indirizzo", "ich hab das
  Konto entsperrt") and a record found by the caller's extension ("anhand der Nebenstelle") too;
- a caller who says they have a product "with you" is an existing customer in a sale
  ("I've had a current account with you for years"), and a former policy that "was not renewed" is
  the former contract in a win-back call: the criterion applies to both.
The same check said before the act passes. Real engine, real spaCy, dialogues written for the test."""

from __future__ import annotations

from functools import partial

import pytest

from .dialogue import criterion_result

_res = partial(criterion_result, prefix="iddisc")
A, C = "agent", "customer"

# (language, call type, opening, caller's request, the act before the check, the check, the reply)
LATE = [
    ("de", "fidelizzazione", "Guten Tag, Krankenkasse Säntis, Frau Graf am Apparat",
     "Grüezi, ich möchte meine Zusatzversicherung kündigen",
     "Sie haben die Spitalzusatzversicherung seit 2019, Prämie 84 Franken im Monat",
     "darf ich Ihre Versichertennummer und Ihr Geburtsdatum haben", "756 4411, 3. Februar 1961"),
    ("fr", "riacquisizione", "Bonsoir, Karim de Lumière Énergie",
     "oui bonsoir",
     "je vous appelle parce que vous avez résilié votre contrat en mars, vous payiez 95 euros par mois",
     "vous êtes bien Monsieur Roux", "oui c'est moi"),
    ("it", "assistenza", "Buongiorno, Energia Ticino, sono Sara",
     "buongiorno, devo cambiare l'indirizzo delle fatture",
     "ho aggiornato l'indirizzo di fatturazione in via Cantonale 14",
     "mi dice il suo codice cliente e la data di nascita", "codice 3004471, nata il 12 marzo 1968"),
    ("de", "assistenza", "Service Desk, Huber",
     "hallo, mein Windows-Konto ist gesperrt",
     "ich seh Sie hier anhand der Nebenstelle, ich hab das Konto entsperrt",
     "sagen Sie mir noch Ihre Personalnummer", "4471"),
    ("fr", "fidelizzazione", "bonjour, leasing service clients, Marc j'écoute",
     "je voudrais résilier mon contrat de leasing",
     "alors pour votre golf il vous reste dix-huit mois et la pénalité serait de quatre mille francs",
     "c'est quoi votre numéro de contrat", "le 55 20 11"),
    ("en", "assistenza", "Hello, service desk, Tom speaking",
     "hi, my account is locked",
     "I've found you by your extension, I've unlocked the account",
     "can you give me your staff number", "4471"),
]
BYE = {"it": ("va bene grazie", "grazie a lei, arrivederci"), "de": ("gut danke", "danke Ihnen, auf Wiederhören"),
       "fr": ("d'accord merci", "merci à vous, au revoir"), "en": ("okay thanks", "thank you, goodbye")}


@pytest.mark.parametrize("lang,ctype,hello,need,act,check,reply", LATE, ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(LATE)])
def test_a_check_after_the_account_was_discussed_or_changed_fails_and_before_it_passes(lang, ctype, hello, need, act,
                                                                                       check, reply):
    ok, bye = BYE[lang]
    late = _res(lang, [(A, hello), (C, need), (A, act), (C, ok), (A, check), (C, reply), (A, bye)],
                "identificazione", call_type=ctype)
    assert late.result == "fail", late
    early = _res(lang, [(A, hello), (C, need), (A, check), (C, reply), (A, act), (C, ok), (A, bye)],
                 "identificazione", call_type=ctype)
    assert early.result == "pass", early
    assert any(check in e.text for e in early.evidence)


SALE = [
    ("en", "Hello, this is Priya. I've had a current account with you for years and I'd like a credit card",
     "can you confirm the first line of your address", "12 Mill Lane",
     "Hello, this is Priya. I'd like to open a current account and get a credit card"),
    ("it", "buongiorno, ho già l'abbonamento mobile da voi e vorrei aggiungere la fibra",
     "mi dice la data di nascita dell'intestatario", "9 novembre 1982",
     "buongiorno, vorrei un abbonamento mobile e la fibra"),
    ("de", "grüezi, ich habe schon ein Sparkonto bei Ihnen und möchte eine Kreditkarte",
     "wie ist Ihr Geburtsdatum", "3. Februar 1961",
     "grüezi, ich möchte ein Sparkonto und eine Kreditkarte eröffnen"),
    ("fr", "bonjour, j'ai déjà une assurance ménage chez vous et je voudrais une assurance auto",
     "vous pouvez me donner votre date de naissance", "le 5 mai 1975",
     "bonjour, je voudrais une assurance ménage et une assurance auto"),
]
HELLO = {"it": "buongiorno, servizio clienti, sono Giulia", "de": "Guten Tag, Kundendienst, Frau Graf",
         "fr": "bonjour, service clients, Julie", "en": "Good afternoon, Northgate Bank, Tom speaking"}


@pytest.mark.parametrize("lang,existing,check,reply,prospect", SALE, ids=[c[0] for c in SALE])
def test_a_sale_to_a_caller_who_has_a_product_with_you_applies(lang, existing, check, reply, prospect):
    ok, bye = BYE[lang]
    r = _res(lang, [(A, HELLO[lang]), (C, existing), (A, check), (C, reply), (C, ok), (A, bye)],
             "identificazione", call_type="acquisizione")
    assert r.result == "pass", r
    # a prospect with nothing on file: the same check applies to nothing
    r = _res(lang, [(A, HELLO[lang]), (C, prospect), (A, check), (C, reply), (C, ok), (A, bye)],
             "identificazione", call_type="acquisizione")
    assert r.result == "na", r


def test_a_former_policy_that_was_not_renewed_makes_a_win_back_call_apply():
    turns = [(A, "buongiorno, sono Luca di Assicurazioni Alpestre"), (C, "buongiorno"),
             (A, "la chiamo perché la polizza auto non è stata rinnovata a marzo, per chi rientra offriamo uno sconto"),
             (C, "ah sì, ci pensiamo"), (A, "grazie a lei, arrivederci")]
    assert _res("it", turns, "identificazione", call_type="riacquisizione").result == "fail"


# a sale in which the agent asks for an identifier only an existing customer has (customer, contract or
# policy number) or to open the caller's account: the caller is a customer, the criterion applies
EXISTING = [
    ("de", "Damit ich auf Ihr Konto zugreifen kann, brauche ich Ihr Geburtsdatum und Ihre Kundennummer",
     "3. Juli 1985, 5520 1187", "ich möchte eine Kreditkarte beantragen"),
    ("it", "allora per vedere il suo contratto mi serve il numero di contratto", "sì aspetti 44718",
     "vorrei sapere cosa prendere in leasing dopo"),
    ("fr", "pour accéder à votre compte il me faut votre numéro client", "c'est le 88 41 20",
     "je voudrais une carte de crédit"),
    ("en", "could you give me your policy number so I can add the new car", "it's 4471 220",
     "I'd like to insure a second car"),
    # batches 18-19: the record found, an identifier from the caller's bill
    ("it", "allora ho trovato la sua fornitura luce, mi conferma la data di nascita dell'intestataria",
     "sì, 4 maggio 1970", "vorrei attivare anche il gas"),
    ("de", "können Sie mir die Zählernummer bestätigen, die auf Ihrer Rechnung steht", "ja, 4471 220",
     "ich möchte einen Wärmepumpentarif dazunehmen"),
]


@pytest.mark.parametrize("lang,ask,reply,want", EXISTING, ids=[c[0] for c in EXISTING])
def test_a_sale_that_asks_for_an_existing_customers_identifier_applies(lang, ask, reply, want):
    ok, bye = BYE[lang]
    r = _res(lang, [(A, HELLO[lang]), (C, want), (A, ask), (C, reply), (C, ok), (A, bye)],
             "identificazione", call_type="acquisizione")
    assert r.result == "pass", r
    assert any(ask in e.text for e in r.evidence)


def test_a_former_contract_named_with_words_in_between_makes_a_win_back_call_apply():
    turns = [(A, "buongiorno sono Luca di assicurazioni Alpestre, parlo con il signor Neri?"), (C, "sì sono io"),
             (A, "la chiamo perché lei fino a settembre aveva la polizza auto con noi"), (C, "eh sì"),
             (A, "per chi rientra offriamo il quindici per cento"), (C, "ci penso"), (A, "grazie a lei, arrivederci")]
    assert _res("it", turns, "identificazione", call_type="riacquisizione").result == "pass"
    prospect = [(A, "buongiorno sono Luca di assicurazioni Alpestre, parlo con il signor Neri?"), (C, "sì sono io"),
                (A, "la chiamo per presentarle la nostra polizza auto"), (C, "eh sì"),
                (A, "per i nuovi clienti offriamo il quindici per cento"), (C, "ci penso"),
                (A, "grazie a lei, arrivederci")]
    assert _res("it", prospect, "identificazione", call_type="riacquisizione").result == "na"


@pytest.mark.parametrize("lang,former", [
    ("it", "mi diceva che era da noi fino all'anno scorso"),
    ("it", "la chiamo perché fino a marzo lei aveva il nostro backup per lo studio"),
    ("en", "I'm calling because your shop used to send its parcels with us until last spring"),
], ids=["it-era", "it-aveva", "en-used-to"])
def test_more_ways_of_naming_a_former_contract_make_a_win_back_call_apply(lang, former):
    hello = {"it": "buongiorno, sono Luca", "en": "good afternoon, this is Daniel"}[lang]
    ok, bye = BYE[lang]
    r = _res(lang, [(A, hello), (C, ok), (A, former), (C, ok), (A, bye)], "identificazione", call_type="riacquisizione")
    assert r.result == "fail", r  # applies, and nobody was identified
