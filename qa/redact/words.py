"""Word tables of the redactor (Italian first, then German, French, English): digit words,
separators, months, ordinal days, and the contexts that make a number an IBAN or a date a date
of birth.

The words are data: section ``redaction`` of ``rubriche/lingue/<lang>.yaml``, validated by
``qa.langdata`` (``RedactionData``) and read once, when this module is imported. This module builds
the tables the detectors and ``qa.redact.normalise`` use from them: per language (``DIGIT_WORDS``, ``MONTHS``, ``DOB_CONTEXT``)
or, for everything else, every language's words together (a call mixes languages and ASR mishears
them). Ordered tables (``EMAIL_AT_WORDS``, ``EMAIL_DOT_WORDS``, ``DAY_WORDS``, the alternations of
``IBAN_CONTEXT`` and ``_DOB_RE``) follow the languages in the order of ``qa.constants.LANGS`` and
each file's words in the order written (``qa.langdata.redaction_words``). That order changes no
match: ``IBAN_CONTEXT`` and ``_DOB_RE`` are only searched (found or not); in the e-mail pattern each
word is followed by a space and is one word (``qa.langdata`` refuses spaces), so where one word
begins another (``at`` / ``at-zeichen``) only one of them can match at a place; the same holds for
the shipped ordinal days (``erste`` / ``erster``: no day suffix turns one into the other).
"""

from __future__ import annotations

import re

from ..constants import LANGS
from ..langdata import language_data, redaction_union, redaction_words

# --------------------------------------------------------------------------------------------
# Language data (Italian first): rubriche/lingue/<lang>.yaml, section ``redaction``
# --------------------------------------------------------------------------------------------

_DATA = {lang: language_data(lang).redaction for lang in LANGS}

DIGIT_WORDS: dict[str, dict[str, str]] = {lang: {w: str(d) for w, d in r.digits.items()} for lang, r in _DATA.items()}
# Words that are a digit only next to other numbers ("un problema", "oh well", "eine Frage").
_WEAK = set(redaction_words("weak_digits"))
SEPARATOR_WORDS: dict[str, str] = redaction_union("separators")
JOINER_WORDS = set(redaction_words("joiners"))  # "vingt et un", "one hundred and five"
PLUS_WORDS = set(redaction_words("plus"))
DOUBLE_WORDS: dict[str, int] = redaction_union("repeats")
EMAIL_AT_WORDS: tuple[str, ...] = redaction_words("email_at")
EMAIL_DOT_WORDS: tuple[str, ...] = redaction_words("email_dot")
# English words that come before "at" in speech and are no mailbox name ("available at shop dot ch")
_NOT_A_MAILBOX = set(redaction_words("not_a_mailbox"))
# Top-level domains a spoken address may end in. Not language data (a Swiss market's domains,
# whatever the language of the call), so a literal here rather than in one language's file.
EMAIL_TLDS = ("ch", "com", "it", "de", "fr", "net", "org", "eu", "info", "li", "at", "swiss", "uk", "biz", "io")

MONTHS: dict[str, dict[str, int]] = {lang: dict(r.months) for lang, r in _DATA.items()}
_MONTH_NAMES = {m for table in MONTHS.values() for m in table}
# Ordinal days that text2num leaves as words.
DAY_WORDS: dict[str, int] = redaction_union("day_ordinals")
# Context that makes a country code + number an IBAN even when its check digits fail (ASR errors)
IBAN_CONTEXT = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, redaction_words("iban_context"))) + r")(?!\w)",
                          re.IGNORECASE)

# Birth context: a date is a date of birth only with one of these near it (regular expressions).
DOB_CONTEXT: dict[str, list[str]] = {lang: list(r.dob_context) for lang, r in _DATA.items()}
DOB_CONTEXT_CHARS = 400  # how far back in the previous turns a birth question still counts
_DOB_RE = re.compile(r"(?<!\w)(?:" + "|".join(p for ps in DOB_CONTEXT.values() for p in ps) + r")(?!\w)",
                     re.IGNORECASE)
# Words that make a date something else than a birth date right before it ("scade il", "gültig bis"):
# one of them, then one word at most, then the date. Only searched (found or not): order changes no match.
_NOT_DOB = redaction_words("not_dob_before")
NOT_DOB_BEFORE = re.compile(r"(?<!\w)(?:" + "|".join(_NOT_DOB) + r")\W+\w*\W*$" if _NOT_DOB else r"(?!)",
                            re.IGNORECASE)
# Spoken numbers (qa.redact.normalise): words that make neighbouring number words one number when a
# word starts or ends with one ("duemila", "two hundred"; only tested with any(): order changes
# nothing), and tens said apart from their unit ("twenty one").
MULTIPLIERS: tuple[str, ...] = redaction_words("multipliers")
COMPOUND_TENS = set(redaction_words("compound_tens"))
