"""Issue 12, `empatia` applies when the caller expresses dissatisfaction, often indirectly (CRITERIA.md,
"Dissatisfaction"): "con voi è sempre una fatica", "mi sento preso in giro", "na toll", "c'était
l'enfer", "j'ai l'impression de payer pour rien", "loyalty doesn't count for much". The agent
acknowledging it passes; ignoring it fails; a calm request without such words leaves the criterion
`na`. Real engine, real spaCy, short dialogues written for the test (no mocks)."""

from __future__ import annotations

from functools import partial

import pytest

from .dialogue import criterion_result

_res = partial(criterion_result, prefix="dissat", call_type="fidelizzazione")
A, C = "agent", "customer"
CASES = [
    ("it", "voglio chiudere il conto, con voi è sempre una fatica", "mi dispiace molto, capisco", "va bene"),
    ("it", "con questi aumenti mi sento preso in giro", "mi dispiace molto, capisco", "va bene"),
    ("de", "na toll, dann sitz ich wieder den ganzen Tag umsonst zu Hause", "das tut mir leid, ich verstehe Sie", "gut"),
    ("fr", "l'année dernière c'était l'enfer avec votre box", "je suis désolée, je comprends", "d'accord"),
    ("fr", "j'ai l'impression de payer pour rien", "je suis désolée, je comprends", "d'accord"),
    ("en", "I've been with you ten years, loyalty doesn't count for much", "I'm sorry, I understand", "okay"),
]
HELLO = {"it": "buongiorno, servizio clienti, sono Anna", "de": "guten Tag, Kundendienst, Meier",
         "fr": "bonjour, service clients, Julie", "en": "hello, customer service, Sam speaking"}
CALM = {"it": "vorrei chiudere il conto", "de": "ich möchte die Zustellung ändern",
        "fr": "je voudrais résilier ma box", "en": "I'd like to cancel my plan"}
BYE = {"it": "grazie a lei, arrivederci", "de": "danke Ihnen, auf Wiederhören", "fr": "merci à vous, au revoir",
       "en": "thank you, goodbye"}


@pytest.mark.parametrize("lang,upset,sorry,ok", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_indirect_dissatisfaction_makes_empathy_apply(lang, upset, sorry, ok):
    acknowledged = _res(lang, [(A, HELLO[lang]), (C, upset), (A, sorry), (C, ok), (A, BYE[lang])], "empatia")
    assert acknowledged.result == "pass", acknowledged
    ignored = _res(lang, [(A, HELLO[lang]), (C, upset), (A, "ok"), (C, ok), (A, BYE[lang])], "empatia")
    assert ignored.result == "fail", ignored
    calm = _res(lang, [(A, HELLO[lang]), (C, CALM[lang]), (A, "ok"), (C, ok), (A, BYE[lang])], "empatia")
    assert calm.result == "na", calm
