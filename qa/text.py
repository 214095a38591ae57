"""One text normaliser for matching words and phrases.

``fold`` is what every matcher compares: lower case, ``ß`` -> ``ss``, typographic apostrophes and
backticks -> ``'``, accents removed (``Grüezi`` -> ``gruezi``, ``buondì`` -> ``buondi``).
``fold(text, accents=True)`` keeps the accents (NFC-composed) and only lower-cases and maps the
apostrophes and ``ß``. ``words`` splits text into its words (letters and digits, inner apostrophes
kept); ``fold_words`` is the folded words joined by one space.
"""

from __future__ import annotations

import re
import unicodedata

WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def fold(text: str, *, accents: bool = False, sharp_s: bool = True) -> str:
    """``text`` lower-cased, apostrophes unified, ``ß`` -> ``ss`` (unless ``sharp_s=False``) and
    accents removed (unless ``accents=True``: then the text is NFC-composed instead)."""
    s = text.lower().replace("’", "'").replace("`", "'")
    if sharp_s:
        s = s.replace("ß", "ss")
    if s.isascii():
        return s
    if accents:
        return unicodedata.normalize("NFC", s)
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The words of ``text`` (runs of letters and digits; ``l'ufficio`` and ``don't`` stay whole)."""
    return WORD_RE.findall(text)


def fold_words(text: str, *, accents: bool = False, sharp_s: bool = True) -> str:
    """The words of ``text`` folded (see ``fold``) and joined by single spaces: punctuation gone."""
    return " ".join(words(fold(text, accents=accents, sharp_s=sharp_s)))
