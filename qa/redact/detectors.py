"""Detectors: spoken numbers normalised to digits (with a map back to the original characters),
validators (check digits, numbering plans, calendar dates) and ``find_pii`` / ``redact_text``."""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from functools import lru_cache

from .words import (  # noqa: F401  (the tables are part of this module's vocabulary)
    DIGIT_WORDS,
    _WEAK,
    SEPARATOR_WORDS,
    JOINER_WORDS,
    PLUS_WORDS,
    DOUBLE_WORDS,
    EMAIL_AT_WORDS,
    EMAIL_DOT_WORDS,
    _NOT_A_MAILBOX,
    EMAIL_TLDS,
    MONTHS,
    _MONTH_NAMES,
    DAY_WORDS,
    IBAN_CONTEXT,
    DOB_CONTEXT,
    DOB_CONTEXT_CHARS,
    _DOB_RE,
)

KINDS = ("AHV", "IBAN", "CARTA", "TELEFONO", "EMAIL", "DATA_NASCITA")
# When two findings overlap, the lower rank wins (then the longer one).
_RANK = {"EMAIL": 0, "IBAN": 1, "AHV": 2, "CARTA": 3, "DATA_NASCITA": 4, "TELEFONO": 5}


@dataclass(frozen=True)
class Span:
    start_char: int
    end_char: int
    kind: str
    text: str

    @property
    def mask(self) -> str:
        return mask_token(self.kind)


def mask_token(kind: str) -> str:
    return f"[{kind}]"


# --------------------------------------------------------------------------------------------
# Normalisation: spoken numbers -> digits, with a map back to the original characters
# --------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*|\d+|\S")


def _langs(lang: str | None) -> tuple[str, ...]:
    lang = (lang or "").lower()[:2]
    return (lang,) if lang in DIGIT_WORDS else tuple(DIGIT_WORDS)


@lru_cache(maxsize=20000)
def _word_value(tok: str, langs: tuple[str, ...]) -> str | None:
    """Digits a single spoken-number token stands for, or None."""
    low = tok.lower()
    for lang in langs:
        if low in DIGIT_WORDS[lang]:
            return DIGIT_WORDS[lang][low]
    if len(low) < 3:
        return None
    from text_to_num import alpha2digit

    for lang in langs:
        word = low
        if lang == "it" and "centott" in word:
            word = word.replace("centott", "centoott")  # text2num misses "millenovecentottantotto"
        try:
            out = alpha2digit(word, lang)
        except Exception:  # text2num is strict about odd input
            continue
        m = re.fullmatch(r"(\d+)(?:st|nd|rd|th|º|ª|°|er|ème|e|\.)?", out) if out != word else None
        if m:
            return m.group(1)
    return None


@lru_cache(maxsize=20000)
def _group_value(text: str, langs: tuple[str, ...]) -> str | None:
    """Digits of a multi-token number ("vingt et un", "twenty one", "due mila"), if one number."""
    from text_to_num import alpha2digit

    for lang in langs:
        try:
            out = alpha2digit(text.lower(), lang)
        except Exception:
            continue
        if re.fullmatch(r"\d+", out):
            return out
    return None


_MULTIPLIERS = ("hundred", "thousand", "million", "cento", "mille", "mila", "milion", "hundert", "tausend",
                "cent", "mille", "million")
_EN_TENS = {"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}


def _is_compound(parts: list[str]) -> bool:
    """Whether spoken number words belong to one number: a joiner, a multiplier or English tens + unit."""
    if any(p in JOINER_WORDS for p in parts):
        return True
    if any(any(p.startswith(mu) or p.endswith(mu) or mu + "s" == p for mu in _MULTIPLIERS) for p in parts):
        return True
    return len(parts) == 2 and parts[0] in _EN_TENS


class _Normalised:
    """Text with spoken numbers turned into digits and a per-character map to the original."""

    def __init__(self, text: str, lang: str | None, compounds: bool = True):
        self.original = text
        self.compounded = False  # whether several spoken words were read as one number
        langs = _langs(lang)
        toks = [(m.start(), m.end(), m.group()) for m in _TOKEN_RE.finditer(text)]
        out: list[str] = []
        o_start: list[int] = []
        o_end: list[int] = []

        def emit(s: str, a: int, b: int) -> None:
            out.append(s)
            o_start.extend([a] * len(s))
            o_end.extend([b] * len(s))

        pos = 0  # next original character not yet emitted
        i = 0
        n = len(toks)
        values = [_word_value(t[2], langs) if not t[2].isdigit() and t[2][0].isalpha() else None for t in toks]

        def is_num(k: int) -> bool:
            return 0 <= k < n and (values[k] is not None or toks[k][2].isdigit())

        silent: set[int] = set()  # commas around a spoken separator: dropped from the digits
        while i < n:
            if values[i] is None:
                i += 1
                continue
            # a run of spoken/written numbers starting at token i (it holds at least one spoken word)
            j = i
            run = [i]
            while True:
                k = j + 1
                if k < n and is_num(k):
                    run.append(k)
                    j = k
                    continue
                low = toks[k][2].lower() if k < n else ""
                if k + 1 < n and is_num(k + 1) and (
                        low in SEPARATOR_WORDS or low in JOINER_WORDS or low in {",", ".", "-", "/"}
                        or low in DOUBLE_WORDS):
                    run.extend([k, k + 1])
                    j = k + 1
                    continue
                if low == "," and k + 2 < n and toks[k + 1][2].lower() in SEPARATOR_WORDS:
                    # "sette cinque sei, punto, uno due ...": commas around a spoken separator
                    nxt = k + 2 + (toks[k + 2][2] == ",")
                    if is_num(nxt):
                        silent.update({k, nxt - 1} if nxt == k + 3 else {k})
                        run.extend(range(k, nxt + 1))
                        j = nxt
                        continue
                if k + 2 < n and low in DOUBLE_WORDS and toks[k + 1][2] in {",", "."} and is_num(k + 2):
                    run.extend([k, k + 1, k + 2])
                    j = k + 2
                    continue
                break
            num_toks = [k for k in run if is_num(k)]
            before_month = j + 1 < n and toks[j + 1][2].lower() in _MONTH_NAMES  # "sei gennaio", "one May"
            if len(num_toks) == 1 and toks[i][2].lower() in _WEAK and not before_month:
                i = j + 1
                continue
            # "più" / "plus" right before the run
            start_tok = i
            plus = i > 0 and toks[i - 1][2].lower() in PLUS_WORDS
            if plus:
                start_tok = i - 1
            if i > 0 and toks[i - 1][2].lower() in DOUBLE_WORDS and not plus:
                start_tok = i - 1
            a = toks[start_tok][0]
            # copy the text before the run verbatim
            for c in range(pos, a):
                emit(text[c], c, c + 1)
            if plus:
                emit("+", toks[i - 1][0], toks[i - 1][1])
            repeat = DOUBLE_WORDS.get(toks[i - 1][2].lower(), 1) if (i > 0 and start_tok == i - 1 and not plus) else 1
            # emit the run: number groups as digits, separators as symbols
            k_idx = 0
            first = True
            while k_idx < len(run):
                k = run[k_idx]
                tok = toks[k]
                low = tok[2].lower()
                if low in DOUBLE_WORDS and not is_num(k):
                    repeat = DOUBLE_WORDS[low]
                    k_idx += 1
                    continue
                if k in silent:
                    k_idx += 1
                    continue
                if not is_num(k):
                    sym = SEPARATOR_WORDS.get(low, low if low in {".", "-", "/", ","} else " ")
                    if low in JOINER_WORDS:
                        sym = " "
                    emit(sym, tok[0], tok[1])
                    first = True
                    k_idx += 1
                    continue
                # longest multi-token compound from here (only over spoken words and joiners)
                best_end, best_val = k_idx, None
                if values[k] is not None and compounds:
                    m = k_idx + 1
                    while m < len(run) and m - k_idx < 6:
                        km = run[m]
                        if not (values[km] is not None or toks[km][2].lower() in JOINER_WORDS):
                            break
                        if values[km] is not None:
                            seg_text = text[tok[0]:toks[km][1]]
                            v = _group_value(seg_text, langs)
                            parts = [toks[x][2].lower() for x in run[k_idx:m + 1]]
                            # a real compound ("twenty one" -> 21, "two thousand and one" -> 2001,
                            # "vingt et un" -> 21), not numbers said one after the other
                            # ("zero settantanove" -> 0 79, "quatre-vingts cinq" -> 80 5)
                            if v is not None and _is_compound(parts) and len(v) != sum(
                                    len(values[x]) for x in run[k_idx:m + 1] if values[x]):
                                best_end, best_val = m, v
                        m += 1
                if best_val is None:
                    best_val = values[k] if values[k] is not None else tok[2]
                    end_char = tok[1]
                else:
                    end_char = toks[run[best_end]][1]
                    self.compounded = True
                if not first:
                    emit(" ", tok[0], tok[0])
                emit(best_val * repeat, tok[0] if repeat == 1 else toks[start_tok][0], end_char)
                repeat = 1
                first = False
                k_idx = best_end + 1
            pos = toks[j][1]
            i = j + 1
        for c in range(pos, len(text)):
            emit(text[c], c, c + 1)
        self.text = "".join(out)
        self._start = o_start
        self._end = o_end

    def span(self, a: int, b: int) -> tuple[int, int]:
        """Original character span of normalised characters a..b."""
        return self._start[a], self._end[b - 1]


# --------------------------------------------------------------------------------------------
# Validators
# --------------------------------------------------------------------------------------------

def _is_ahv(d: str) -> bool:
    from stdnum.ch import ssn

    return len(d) == 13 and d.startswith("756") and ssn.is_valid(d)


# Issuer prefixes (IIN ranges) and the lengths each scheme issues.
_CARD_SCHEMES = (
    ("visa", ("4",), (13, 16, 19)),
    ("mastercard", tuple(str(p) for p in range(51, 56)) + tuple(str(p) for p in range(2221, 2721)), (16,)),
    ("amex", ("34", "37"), (15,)),
    ("diners", ("300", "301", "302", "303", "304", "305", "36", "38", "39"), (14, 16)),
    ("discover", ("6011", "644", "645", "646", "647", "648", "649", "65"), (16, 17, 18, 19)),
    ("jcb", tuple(str(p) for p in range(3528, 3590)), (16, 17, 18, 19)),
    ("unionpay", ("62",), (16, 17, 18, 19)),
    ("maestro", ("50", "56", "57", "58", "6"), (16, 17, 18, 19)),
)


def _is_card(d: str) -> bool:
    """A payment card: a scheme's issuer prefix, one of its lengths, and the Luhn check."""
    from stdnum import luhn

    if not 13 <= len(d) <= 19:
        return False
    if not any(len(d) in lengths and d.startswith(prefixes) for _, prefixes, lengths in _CARD_SCHEMES):
        return False
    return luhn.is_valid(d)


_PHONE_REGIONS = {"it": "IT", "de": "DE", "fr": "FR", "en": "GB"}


def _is_phone(d: str, plus: bool, lang: str | None) -> bool:
    import phonenumbers

    if plus or d.startswith("00"):
        if not plus:
            d = d[2:]
        if not 8 <= len(d) <= 15:
            return False
        candidates = [("+" + d, None)]
    else:
        if not d.startswith("0") or not 9 <= len(d) <= 12:
            return False
        candidates = [(d, "CH")]
        region = _PHONE_REGIONS.get((lang or "")[:2])
        if region:
            candidates.append((d, region))
    for num, region in candidates:
        try:
            p = phonenumbers.parse(num, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(p):
            return True
    return False


def _is_iban(s: str) -> bool:
    from stdnum import iban

    return 15 <= len(s) <= 34 and iban.is_valid(s)


# --------------------------------------------------------------------------------------------
# Finders
# --------------------------------------------------------------------------------------------

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


def _chain_candidates(norm: _Normalised, lang: str | None) -> list[tuple[int, int, str]]:
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
            if _is_ahv(digits):
                kind = "AHV"
            elif _is_card(digits):
                kind = "CARTA"
            elif _is_phone(digits, plus and a == 0, lang):
                kind = "TELEFONO"
            if kind:
                start = m.start() if (a == 0 and plus) else groups[a][0]
                found.append((start, groups[b - 1][1], kind))
                covered.append((a, b))
    return found


# IBAN lengths of the countries a Swiss contact centre meets (ISO 13616 registry).
_IBAN_LENGTHS = {"CH": 21, "LI": 21, "DE": 22, "AT": 20, "FR": 27, "IT": 27, "MC": 27, "SM": 27, "LU": 20,
                 "BE": 16, "NL": 18, "ES": 24, "PT": 25, "GB": 22, "IE": 22}


def _iban_candidates(norm: _Normalised, context: str) -> list[tuple[int, int, str]]:
    found = []
    for m in _IBAN_RE.finditer(norm.text):
        cc = (m.group(1) + m.group(2)).upper()
        body = m.group(3)
        # try the longest prefix that validates (the chain may run into following numbers)
        pieces = [(p.start(), p.end()) for p in re.finditer(r"\d|[A-Z]", body)]
        hit = None
        for cut in range(len(pieces), 12, -1):
            compact = cc + "".join(body[s:e] for s, e in pieces[:cut])
            if _is_iban(compact):
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


def _date_candidates(norm: _Normalised, lang: str | None, context: str) -> list[tuple[int, int, str]]:
    text = norm.text
    found = []
    ctx_hit = bool(context) and _DOB_RE.search(context[-DOB_CONTEXT_CHARS:]) is not None
    for m, d, mo, y in _iter_dates(text, lang):
        if not _valid_date(d, mo, y):
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
    for lg in _langs(lang):
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


def _valid_date(d: str, mo: str, y: str) -> bool:
    d = str(DAY_WORDS.get(d.lower(), d))
    y = re.sub(r"\D", "", y)
    try:
        day, month, year = int(d), int(mo), int(y)
    except ValueError:
        return False
    if year < 100:
        year += 1900 if year > (_dt.date.today().year % 100) else 2000
    if not 1900 <= year <= _dt.date.today().year:
        return False
    try:
        return _dt.date(year, month, day) <= _dt.date.today()  # nobody is born in the future
    except ValueError:
        return False


def _DATE_WORDS_BEFORE(before: str) -> bool:
    """A date right after words that make it something else than a birth date ("scade il", "bis")."""
    return re.search(r"(?<!\w)(?:scad\w*|fino al|entro|dal|valid\w*|gültig|bis|ab|jusqu|until|from|expires?|"
                     r"appuntamento|termin|rendez-vous|appointment)\W+\w*\W*$", before, re.IGNORECASE) is not None


def find_pii(text: str, lang: str | None = None, context: str = "") -> list[Span]:
    """Every piece of personal data in ``text``, in order, never overlapping.

    ``context``: what was said just before (e.g. the previous turns of the call). It is not
    searched itself; it only makes an answer recognisable: "Siebter Mai 1981" after "Ihr
    Geburtsdatum?" is a date of birth, "ch 93 ..." after "l'IBAN" an IBAN.
    """
    if not text or not text.strip():
        return []
    norm = _Normalised(text, lang)
    cands: list[tuple[int, int, str]] = []  # in ORIGINAL character offsets
    for a, b, kind in (_iban_candidates(norm, context) + _chain_candidates(norm, lang)
                       + _date_candidates(norm, lang, context)):
        s, e = norm.span(a, b)
        cands.append((s, e, kind))
    if norm.compounded:
        # "thirty eight" may be 38 or 30 8 in a number said in pairs: try the words one by one too
        plain = _Normalised(text, lang, compounds=False)
        for a, b, kind in _iban_candidates(plain, context) + _chain_candidates(plain, lang):
            s, e = plain.span(a, b)
            cands.append((s, e, kind))
    for m in _EMAIL_RE.finditer(text):
        cands.append((m.start(), m.end(), "EMAIL"))
    for m in _SPOKEN_EMAIL_RE.finditer(text):
        local = m.group(1).lower().split()
        if len(local) == 1 and local[0] in _NOT_A_MAILBOX:  # "I looked at amazon dot com"
            continue
        cands.append((m.start(), m.end(), "EMAIL"))
    cands.extend(_written_phone_candidates(text))
    chosen: list[tuple[int, int, str]] = []
    for s, e, kind in sorted(cands, key=lambda c: (_RANK[c[2]], -(c[1] - c[0]), c[0])):
        s, e = _trim(text, s, e)
        if e <= s:
            continue
        if any(not (e <= cs or s >= ce) for cs, ce, _ in chosen):
            continue
        chosen.append((s, e, kind))
    chosen.sort()
    return [Span(s, e, kind, text[s:e]) for s, e, kind in chosen]


def _written_phone_candidates(text: str) -> list[tuple[int, int, str]]:
    """Written numbers in shapes the chain finder misses: "+41 (0)79 123 45 67"."""
    if "(" not in text:
        return []
    import phonenumbers

    return [(m.start, m.end, "TELEFONO")
            for m in phonenumbers.PhoneNumberMatcher(text, "CH", leniency=phonenumbers.Leniency.VALID)]


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s] in " \t,;:":
        s += 1
    while e > s and text[e - 1] in " \t,;:.":
        e -= 1
    return s, e


def redact_text(text: str, lang: str | None = None, context: str = "") -> tuple[str, list[Span]]:
    """``text`` with each finding replaced by its mask (``[AHV]``, ``[IBAN]``, ...), and the findings."""
    spans = find_pii(text, lang, context)
    out = text
    for sp in reversed(spans):
        out = out[:sp.start_char] + sp.mask + out[sp.end_char:]
    return out, spans
