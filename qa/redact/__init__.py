"""PII redaction for transcripts (and optionally audio), before anything is stored.

What is found (``Span.kind`` and its mask):

=================  =================  ==========================================================
kind               mask               how it is recognised
=================  =================  ==========================================================
``AHV``            ``[AHV]``          Swiss AHV/AVS number 756.xxxx.xxxx.xx, EAN-13 check digit
                                      (``stdnum.ch.ssn``)
``IBAN``           ``[IBAN]``         country code + mod-97 check + country length (``stdnum.iban``)
``CARTA``          ``[CARTA]``        payment card: a scheme's issuer prefix and length (Visa,
                                      Mastercard, Amex, ...) and the Luhn check (``stdnum.luhn``)
``TELEFONO``       ``[TELEFONO]``     Swiss national (0xx ...) and international (+ / 00) numbers
                                      valid for ``phonenumbers``
``EMAIL``          ``[EMAIL]``        written (a@b.ch) and spoken ("mario punto rossi chiocciola
                                      gmail punto com") addresses
``DATA_NASCITA``   ``[DATA_NASCITA]`` a real calendar date (numeric or with a spelled month,
                                      it/de/fr/en) near a birth context ("nato il", "geboren am",
                                      "né le", "date of birth", ...)
=================  =================  ==========================================================

Numbers spoken as words are understood: digit words one by one ("sette cinque sei ...",
"sieben fünf sechs ...", "sept cinq six ...", "seven five six ...") and compounds ("zero
settantanove centoventitré", "quatre-vingt-dix-sept", "neunzehnhundertfünfundachtzig",
via ``text2num``), with "punto/Punkt/point/dot" between digits, "più/plus" before them and
"doppio/doppel/double" before a digit. The text is first normalised to digits with a
character map back to the original, then the same validators run on written and spoken forms.

Ordinary numbers (prices "29.90", quantities, times "alle 10", years, order numbers whose
check digit does not hold) are left alone: every identifier except dates must pass its check
digit or the numbering plan, and a date is only masked near a birth context.

The package: ``words`` (language tables), ``normalise`` (spoken numbers to digits), ``validators``,
``finders`` (candidates per kind), ``detectors`` (``find_pii``, ``redact_text``), ``transcript``
(``redact_transcript``, ``redact_quote``, ``redact_evidence``), ``audio`` (``redact_audio``, streamed).
Everything is importable from ``qa.redact``.
"""

from __future__ import annotations

from .audio import redact_audio
from .detectors import KINDS, Span, find_pii, mask_token, redact_text
from .transcript import CONTEXT_TURNS, redact_evidence, redact_quote, redact_transcript
from .words import DAY_WORDS, DIGIT_WORDS, DOB_CONTEXT, MONTHS

__all__ = ["KINDS", "Span", "mask_token", "find_pii", "redact_text", "redact_transcript", "redact_quote",
           "redact_evidence", "redact_audio", "CONTEXT_TURNS", "DIGIT_WORDS", "MONTHS", "DAY_WORDS", "DOB_CONTEXT"]
