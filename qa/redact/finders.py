"""Candidate findings of each kind, as (start, end, kind) in the characters of the text searched:
number chains checked as AHV, card or phone numbers, IBANs, dates of birth, e-mail addresses
(written and spoken) and written phone numbers in shapes the chains miss. ``find_pii``
(``qa.redact.detectors``) resolves their overlaps."""

from __future__ import annotations

import re
from functools import lru_cache

from .normalise import Normalised, langs_of
from .validators import is_ahv, is_card, is_iban, is_phone, valid_date
from .words import (DAY_WORDS, DOB_CONTEXT_CHARS, EMAIL_AT_WORDS, EMAIL_DOT_WORDS, EMAIL_TLDS, IBAN_CONTEXT, MONTHS,
                    NOT_DOB_BEFORE, _DOB_RE, _NOT_A_MAILBOX)

_CHAIN_RE = re.compile(r"(?<![\w+])(\+\s?)?\d+(?:(?:\s?[.\-/,]\s?|\s)\d+)*(?!\w)")
_GROUP_RE = re.compile(r"\d+")
_IBAN_RE = re.compile(r"(?<![^\W\d_])([A-Za-z])\s?([A-Za-z])\s?(\d\s?\d(?:(?:,\s?|[ .\-])?(?:\d|[A-Z]))+)")
_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_SPOKEN_EMAIL_RE = re.compile(
    r"(?<!\w)(\w+(?:(?:\s+(?:" + "|".join(EMAIL_DOT_WORDS) + r")\s+|[._-])\w+)*)"
    r"\s+(?:" + "|".join(EMAIL_AT_WORDS) + r")\s+"
    r"(\w+(?:(?:\s+(?:" + "|".join(EMAIL_DOT_WORDS) + r")\s+|[.-])\w+)*?"
    r"(?:\s+(?:" + "|".join(EMAIL_DOT_WORDS) + r")\s+|\.)(?:" + "|".join(EMAIL_TLDS) + r"))(?!\w)",
    re.IGNORECASE)


def chain_candidates(norm: Normalised, lang: str | None) -> list[tuple[int, int, str]]:
    """Runs of digits (with their separators) in the normalised text that are, whole or cut at a
    comma, an AHV, card or phone number (a "+" before the first group kept with it)."""
    found: list[tuple[int, int, str]] = []
    for m in _CHAIN_RE.finditer(norm.text):
        plus = m.group(1) is not None
        groups = [(g.start(), g.end(), g.group()) for g in _GROUP_RE.finditer(norm.text, m.start(), m.end())]
        n = len(groups)
        # the tail of an alphanumeric reference ("CH31 3183 8043 ...", "AB12 3456"): not a number of its own
        if re.search(r"[^\W\d_]+\d+[ .\-]?$", norm.text[max(0, m.start() - 12):m.start()]):
            continue
        # where the chain may be cut: only at a comma ("079 555 12 34, 044 668 18 00"); never
        # inside a run of digits said one by one, nor at the spaces, dots and dashes that hold one
        # identifier together ("756.1234.5678.97", "4111 1111 1111 1111")
        cuttable = set()
        for g in range(1, n):
            sep = norm.text[groups[g - 1][1]:groups[g][0]]
            if "," in sep:
                cuttable.add(g)
        # the whole chain, then ever shorter prefixes and suffixes (a number said next to another)
        tried = set()
        order = [(0, n)]
        for cut in range(1, n):
            if n - cut in cuttable:
                order.append((0, n - cut))
            if cut in cuttable:
                order.append((cut, n))
        covered: list[tuple[int, int]] = []
        for a, b in order:
            if (a, b) in tried or b <= a:
                continue
            tried.add((a, b))
            if any(not (b <= ca or a >= cb) for ca, cb in covered):
                continue
            digits = "".join(g[2] for g in groups[a:b])
            if len(digits) < 8:
                continue
            kind = None
            if is_ahv(digits):
                kind = "AHV"
            elif is_card(digits):
                kind = "CARTA"
            elif is_phone(digits, plus and a == 0, lang):
                kind = "TELEFONO"
            if kind:
                start = m.start() if (a == 0 and plus) else groups[a][0]
                found.append((start, groups[b - 1][1], kind))
                covered.append((a, b))
    return found


# IBAN lengths of the countries a Swiss contact centre meets (ISO 13616 registry).
_IBAN_LENGTHS = {"CH": 21, "LI": 21, "DE": 22, "AT": 20, "FR": 27, "IT": 27, "MC": 27, "SM": 27, "LU": 20,
                 "BE": 16, "NL": 18, "ES": 24, "PT": 25, "GB": 22, "IE": 22}


def iban_candidates(norm: Normalised, context: str) -> list[tuple[int, int, str]]:
    """IBANs in the normalised text: the longest prefix that validates, or the country's IBAN shape
    with a failed check when somebody talks about an IBAN (a misheard digit)."""
    found = []
    for m in _IBAN_RE.finditer(norm.text):
        cc = (m.group(1) + m.group(2)).upper()
        body = m.group(3)
        # try the longest prefix that validates (the chain may run into following numbers)
        pieces = [(p.start(), p.end()) for p in re.finditer(r"\d|[A-Z]", body)]
        hit = None
        for cut in range(len(pieces), 12, -1):
            compact = cc + "".join(body[s:e] for s, e in pieces[:cut])
            if is_iban(compact):
                hit = cut
                break
        if hit is None and cc in _IBAN_LENGTHS and len(pieces) >= _IBAN_LENGTHS[cc] - 3:
            # the shape of the country's IBAN (give or take one digit) but a failed check, as
            # when one digit is misheard or dropped: an IBAN only when somebody talks about one
            window = context + " " + norm.text[max(0, m.start() - 80):m.start()]
            if IBAN_CONTEXT.search(window):
                hit = min(len(pieces), _IBAN_LENGTHS[cc] - 2)
        if hit is not None:
            found.append((m.start(), m.start(3) + pieces[hit - 1][1], "IBAN"))
    return found


def date_candidates(norm: Normalised, lang: str | None, context: str) -> list[tuple[int, int, str]]:
    """Real calendar dates near a birth context (in the text around them or in ``context``), not
    after words that make them something else ("scade il", "bis")."""
    text = norm.text
    found = []
    ctx_hit = bool(context) and _DOB_RE.search(context[-DOB_CONTEXT_CHARS:]) is not None
    for m, d, mo, y in _iter_dates(text, lang):
        if not valid_date(d, mo, y):
            continue
        before = text[max(0, m.start() - 60):m.start()]
        after = text[m.end():m.end() + 40]
        if _DATE_WORDS_BEFORE(before):
            continue
        if _DOB_RE.search(before) or _DOB_RE.search(after) or ctx_hit:
            end = m.end()
            # the year said again in full right after ("douze avril cinquante-huit. Mille neuf cent
            # cinquante-huit"): part of the same date of birth
            again = re.match(r"[\s.,;:]*((?:19|20)\d{2})(?!\d)", text[end:])
            if again and again.group(1)[-2:] == re.sub(r"\D", "", y)[-2:]:
                end += again.end()
            found.append((m.start(), end, "DATA_NASCITA"))
    return found


def _month_alternation(lang: str | None) -> dict[str, int]:
    table: dict[str, int] = {}
    for lg in langs_of(lang):
        table.update(MONTHS[lg])
    return table


@lru_cache(maxsize=8)
def _date_regexes(lang: str | None):
    months = _month_alternation(lang)
    alt = "|".join(sorted((re.escape(k) for k in months), key=len, reverse=True))
    day = r"(?P<d>\d{1,2}|" + "|".join(DAY_WORDS) + r")(?:\.|º|°|er|st|nd|rd|th)?"
    year = r"(?P<y>(?:19|20)\s?\d{2}|'?\d{2})"  # "ventidue aprile sessantotto", "12 March '68"
    numeric = re.compile(r"(?<![\d.])(?P<d>\d{1,2})\s?(?P<s>[./\-])\s?(?P<m>\d{1,2})\s?(?P=s)\s?"
                         r"(?P<y>(?:19|20)\d{2}|\d{2})(?![\d])")
    spaced = re.compile(r"(?<![\d.])(?P<d>\d{1,2}) (?P<m>\d{1,2}) (?P<y>(?:19|20)\s?\d{2})(?!\d)")
    iso = re.compile(r"(?<![\d.])(?P<y>(?:19|20)\d{2})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)")
    dmy = re.compile(r"(?<!\w)" + day + r"\s+(?:of\s+|de\s+|di\s+)?(?P<m>" + alt + r")\.?,?\s+(?:del\s+|de\s+|of\s+)?"
                     + year + r"(?!\d)", re.IGNORECASE)
    mdy = re.compile(r"(?<!\w)(?P<m>" + alt + r")\.?\s+(?:the\s+)?" + day + r",?\s+(?:of\s+)?" + year + r"(?!\d)",
                     re.IGNORECASE)
    return numeric, spaced, iso, dmy, mdy, months


def _iter_dates(text: str, lang: str | None):
    numeric, spaced, iso, dmy, mdy, months = _date_regexes((lang or "")[:2] or None)
    for rx in (numeric, spaced, iso):
        for m in rx.finditer(text):
            yield m, m.group("d"), m.group("m"), m.group("y")
    for rx in (dmy, mdy):
        for m in rx.finditer(text):
            yield m, m.group("d"), str(months[m.group("m").lower()]), m.group("y")


def _DATE_WORDS_BEFORE(before: str) -> bool:
    """A date right after words that make it something else than a birth date ("scade il", "bis")."""
    return NOT_DOB_BEFORE.search(before) is not None  # language data: redaction.not_dob_before


def email_candidates(text: str) -> list[tuple[int, int, str]]:
    """Written addresses ("a@b.ch") and spoken ones ("mario punto rossi chiocciola gmail punto com"),
    except a spoken "word at site dot com" whose word is no mailbox ("I looked at amazon dot com")."""
    cands = []
    for m in _EMAIL_RE.finditer(text):
        cands.append((m.start(), m.end(), "EMAIL"))
    for m in _SPOKEN_EMAIL_RE.finditer(text):
        local = m.group(1).lower().split()
        if len(local) == 1 and local[0] in _NOT_A_MAILBOX:  # "I looked at amazon dot com"
            continue
        cands.append((m.start(), m.end(), "EMAIL"))
    return cands


def written_phone_candidates(text: str) -> list[tuple[int, int, str]]:
    """Written numbers in shapes the chain finder misses: "+41 (0)79 123 45 67"."""
    if "(" not in text:
        return []
    import phonenumbers

    return [(m.start, m.end, "TELEFONO")
            for m in phonenumbers.PhoneNumberMatcher(text, "CH", leniency=phonenumbers.Leniency.VALID)]
