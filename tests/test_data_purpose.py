"""Issue 12, `protezione_dati`: why a piece of personal data is needed, said in everyday words with other
words in between ("I only need it to check…", "it's just to work out the premium", "ça sert juste à
vérifier", "elles ne servent qu'à cela", "n'est pas enregistré chez nous", "così sono sicura che è la
sua posizione"), counts as the explanation CRITERIA.md asks for; the same request without any reason
still fails. Phrasings from untouched batches 10-13 that the lists missed. Real engine, real spaCy,
short dialogues written for the test (no mocks)."""

from __future__ import annotations

from functools import partial

import pytest

from .dialogue import criterion_result, framed

_res = partial(criterion_result, prefix="purpose")
A, C = "agent", "customer"
CASES = [
    ("it", "mi dice la sua data di nascita", "così sono sicura che è la sua posizione e non di un omonimo"),
    ("de", "wie ist Ihr Geburtsdatum", "das dient uns nur, um die Prämie zu berechnen"),
    ("fr", "il me faut votre date de naissance", "ça sert juste à vérifier que c'est bien votre carte"),
    ("fr", "il me faut votre date de naissance", "la compagnie l'exige, elle ne sert qu'à cela"),
    ("en", "could you give me your postcode", "I only need it to check which collection round covers your street"),
    ("en", "I'll need both dates of birth", "it's just to work out the premium, we don't keep them"),
    # batches 16-17 (sixth stop): a purpose clause, encryption, where the data goes
    ("en", "can I take your date of birth", "just so I can confirm it's you"),
    ("en", "I'll need the card number", "the details go into our encrypted payment system, I can't see or store them"),
    ("de", "ich brauche Ihr Geburtsdatum", "für die Bonitätsprüfung, das geht nur an die Auskunftei, sonst nirgends hin"),
    ("de", "nennen Sie mir bitte Ihr Geburtsdatum", "damit ich Ihr altes Kundenkonto aufrufen kann"),
    ("fr", "il me faut votre date de naissance", "pour que je puisse retrouver votre dossier"),
    ("it", "mi dice la sua data di nascita", "così posso verificare che sia lei"),
]
OPEN = {"it": ("buongiorno, servizio clienti", "buongiorno, vorrei un preventivo"),
        "de": ("guten Tag, Kundendienst", "guten Tag, ich möchte eine Offerte"),
        "fr": ("bonjour, service clients", "bonjour, je voudrais un devis"),
        "en": ("hello, customer service", "hello, I'd like a quote")}
CLOSE = {"it": ("va bene", "grazie a lei, arrivederci"), "de": ("gut", "danke Ihnen, auf Wiederhören"),
         "fr": ("d'accord", "merci à vous, au revoir"), "en": ("okay", "thank you, goodbye")}


@pytest.mark.parametrize("lang,ask,why", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_a_reason_in_everyday_words_explains_the_data_request(lang, ask, why):
    r = _res(lang, framed(OPEN[lang], [(A, ask), (C, "12 03 1970"), (A, why)], CLOSE[lang]), "protezione_dati")
    assert r.result == "pass", r
    bare = _res(lang, framed(OPEN[lang], [(A, ask), (C, "12 03 1970"), (A, CLOSE[lang][0])], CLOSE[lang]),
                "protezione_dati")
    assert bare.result == "fail", bare


# the digits and expiry date of a payment card are private data in every language (batch14: "j'ai besoin
# des seize chiffres de votre carte et de la date d'expiration" was not seen as a data request)
CARD = [
    ("fr", "pour le paiement j'ai besoin des seize chiffres de votre carte et de la date d'expiration"),
    ("de", "für die Zahlung brauche ich die Ziffern Ihrer Karte und das Ablaufdatum der Karte"),
    ("it", "per il pagamento mi serve la scadenza della carta"),
    ("en", "for the payment I need the expiry date as well"),
]


@pytest.mark.parametrize("lang,ask", CARD, ids=[c[0] for c in CARD])
def test_card_digits_and_expiry_are_personal_data(lang, ask):
    hello, want = OPEN[lang]
    ok, bye = CLOSE[lang]
    r = _res(lang, [(A, hello), (C, want), (A, ask), (C, "4 4 1 2"), (A, ok), (C, ok), (A, bye)], "protezione_dati")
    assert r.result == "fail", r  # asked without a reason: the criterion applies and fails
