"""Negation idioms (rubric key `negation_idioms`, docs/RUBRIC_LANGUAGE.md): in fixed phrases such as
"nessun problema", "keine Sorge", "pas de souci" or "not a problem" the negation word negates
nothing, so a phrase right after it still counts ("nessun problema, allora riassumendo…"). A real
negation still does. A rubric whose idiom holds no negation word is refused. Real engine, real
spaCy, short dialogues written for the test."""

from __future__ import annotations

import textwrap
from functools import partial

import pytest

from qa.errors import RubricError
from qa.rubric import validate_rubric_text

from .dialogue import criterion_result

_res = partial(criterion_result, prefix="neg")
A, C = "agent", "customer"

# a win-back call whose recap follows an idiom ("no problem, so to sum up …")
CALLS = {
    "it": ("nessun problema allora riassumendo le propongo tre mesi gratis e poi trentanove franchi al mese",
           "non riassumendo niente le propongo tre mesi gratis e poi trentanove franchi al mese"),
    "de": ("kein Problem also zusammengefasst drei Monate gratis und danach neununddreissig Franken im Monat",
           "nicht zusammengefasst drei Monate gratis und danach neununddreissig Franken im Monat"),
    "fr": ("pas de souci alors pour résumer trois mois offerts puis trente-neuf francs par mois",
           "pas pour résumer trois mois offerts puis trente-neuf francs par mois"),
    "en": ("not a problem so to sum up three months free and then thirty-nine francs a month",
           "not to sum up three months free and then thirty-nine francs a month"),
}
OPEN = {"it": ("buonasera sono Anna di Ticino Telecom, parlo con il signor Rossi?", "sì sono io",
               "lei era nostro cliente fino a marzo, le propongo un'offerta per tornare", "ci devo pensare",
               "le mando l'offerta per email domani", "va bene", "grazie a lei, buona serata"),
        "de": ("Guten Abend, hier ist Anna von Swisslink, spreche ich mit Herrn Rossi?", "ja, am Apparat",
               "Sie waren bis März bei uns Kunde, ich habe ein Angebot für Sie", "ich muss es mir überlegen",
               "ich schicke Ihnen das Angebot morgen per E-Mail", "gut", "danke Ihnen, schönen Abend"),
        "fr": ("Bonsoir, Anna de Swisslink, je parle bien à monsieur Rossi ?", "oui c'est moi",
               "vous étiez client chez nous jusqu'en mars, j'ai une offre pour vous", "je dois réfléchir",
               "je vous envoie l'offre par e-mail demain", "d'accord", "merci à vous, bonne soirée"),
        "en": ("Good evening, this is Anna from Swisslink, am I speaking with Mr Rossi?", "yes, speaking",
               "you were a customer with us until March, I've got an offer for you", "I'll have to think",
               "I'll email you the offer tomorrow", "okay", "thank you, have a nice evening")}


def _call(lang: str, recap: str):
    o = OPEN[lang]
    return [(A, o[0]), (C, o[1]), (A, o[2]), (C, o[3]), (A, recap), (A, o[4]), (C, o[5]), (A, o[6])]


@pytest.mark.parametrize("lang", sorted(CALLS))
def test_a_recap_after_a_negation_idiom_counts(lang):
    assert _res(lang, _call(lang, CALLS[lang][0]), "riepilogo", call_type="riacquisizione").result == "pass"


@pytest.mark.parametrize("lang", sorted(CALLS))
def test_a_real_negation_before_the_recap_phrase_still_negates_it(lang):
    assert _res(lang, _call(lang, CALLS[lang][1]), "riepilogo", call_type="riacquisizione").result == "fail"


BASE = """
    rubric: prova
    version: "1"
    negation: {{it: [non, nessun], de: [nicht, kein], fr: [ne, pas], en: [not, "n't"]}}
    negation_idioms: {{it: ["{it}"], de: ["kein Problem"], fr: ["pas de souci"], en: ["don't worry"]}}
    criteria:
      riepilogo:
        title: Riepilogo
        competence: ["3.5"]
        weight: 1
        rule: {{said: {{by: agent, any_of: {{it: [riassumendo], de: [zusammengefasst], fr: [résumer], en: [sum up]}}}}}}
        feedback:
          pass: {{it: ok, de: ok, fr: ok, en: ok}}
          fail: {{it: ko, de: ko, fr: ko, en: ko}}
"""


def test_an_idiom_must_hold_one_of_the_negation_words():
    assert validate_rubric_text(textwrap.dedent(BASE.format(it="nessun problema"))) == []
    errors = validate_rubric_text(textwrap.dedent(BASE.format(it="tutto bene")))
    assert len(errors) == 1 and "'tutto bene' holds none of the negation words of 'it'" in str(errors[0])


def test_a_rubric_with_a_broken_idiom_list_is_refused_on_load():
    from qa.rubric import load_rubric_text

    with pytest.raises(RubricError, match="negation_idioms"):
        load_rubric_text(textwrap.dedent(BASE.format(it="tutto bene")))
