"""The ``<FUT>`` slot of the phrase syntax: the one word that carries the future tense, per language.

Italian and French write the future in the verb itself (it "manderò, riceverà, contatteranno",
fr "enverrai, recevrez, rappellera"): a word is a future form when its ending is a future ending
after the future stem's ``r`` (the form, in lower case) AND its normal form (the lookup lemma of
spacy-lookups-data) is a verb's infinitive, so that "però", "rete", "estremo", "environs", "vrai"
are not. Function words keep their own form as their normal form ("sarà", "faremo", "sera", "aura"),
so the future forms of the few verbs that are stop words are listed by stem; an Italian form the
lemma table does not know ("ricontatterò", "provvederò") counts when it is a regular future
(-erò/-irò, ...). German and English build the future with an auxiliary, which is the word the slot
matches: de "werde, wirst, wird, werden, werdet", en "will" ("'ll", "won't" too: spaCy's norm of
both is "will"), "shall" ("gonna" is two tokens, "gon na": write "going to" in a phrase).

Each language's test is one spaCy Matcher token spec (regular expressions on LOWER and NORM, or a
set of normal forms), so the slot is matched like any other word of a phrase, per word type.
"""

from __future__ import annotations

# an ending of the future after the future stem's "r": 1sg, 2sg, 3sg, 1pl, 2pl, 3pl
_IT_END = "(?:ò|ó|ai|à|á|emo|ete|anno)"
_IT_END_FOLDED = "(?:o|ai|a|emo|ete|anno)"
_FR_END = "(?:ai|as|a|ons|ez|ont)"

FUTURE_SPECS: dict[str, dict] = {
    "it": {
        # regular stems -er-/-ir- (mand-erò, dorm-irò), -ar- (farò, sarò, darò, starò), contracted
        # ones (andrò, vedrò, potrò, dovrò, avrò, saprò) and -rr- (verrò, vorrò, terrò, rimarrò)
        "LOWER": {"REGEX": rf"(?:[aeidvtp]r|rr){_IT_END}$"},
        "NORM": {"REGEX": rf"(?:are|ere|ire|rre)$|^(?:sar|avr|far|star|dovr){_IT_END}$"
                          rf"|(?:er|ir){_IT_END_FOLDED}$"},
    },
    "fr": {
        # regular stems -er-/-ir-/-r- (enverr-, finir-, prendr-, viendr-, aur-), -evr- (devr-,
        # recevr-) and the -rr- of pouvoir, voir, courir, mourir, envoyer, acquérir; "entrez",
        # "ouvrons", "livrez" (present) are not futures
        "LOWER": {"REGEX": rf"(?:[eidu]r|(?:pou|ve|cou|mou|enve|acque)rr|evr){_FR_END}$"},
        "NORM": {"REGEX": rf"(?:er|ir|re|oir)$|^(?:ser|aur|fer|devr){_FR_END}$"},
    },
    "de": {"NORM": {"IN": ["werde", "wirst", "wird", "werden", "werdet"]}},
    "en": {"NORM": {"IN": ["will", "shall"]}},
}


def future_spec(lang: str) -> dict:
    """The Matcher token spec of ``<FUT>`` in ``lang`` (a copy: callers may add an ``OP``)."""
    spec = FUTURE_SPECS[lang]
    return {k: dict(v) for k, v in spec.items()}
