"""Spoken numbers normalised to digits ("sette cinque sei" -> "756", "vingt et un" -> "21"), with a
map from each character of the normalised text back to the original characters: the detectors
(``qa.redact.finders``) search the normalised text and report spans of the original."""

from __future__ import annotations

import re
from functools import lru_cache

from .words import (COMPOUND_TENS, DIGIT_WORDS, DOUBLE_WORDS, JOINER_WORDS, MULTIPLIERS, PLUS_WORDS, SEPARATOR_WORDS,
                    _MONTH_NAMES, _WEAK)

_TOKEN_RE = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*|\d+|\S")


def langs_of(lang: str | None) -> tuple[str, ...]:
    """The languages whose number words to try: ``lang`` when the tables know it, else all of them."""
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


def _is_compound(parts: list[str]) -> bool:
    """Whether spoken number words belong to one number: a joiner, a multiplier or tens + unit
    said apart ("twenty one")."""
    if any(p in JOINER_WORDS for p in parts):
        return True
    if any(any(p.startswith(mu) or p.endswith(mu) or mu + "s" == p for mu in MULTIPLIERS) for p in parts):
        return True
    return len(parts) == 2 and parts[0] in COMPOUND_TENS


class Normalised:
    """Text with spoken numbers turned into digits and a per-character map to the original."""

    def __init__(self, text: str, lang: str | None, compounds: bool = True):
        self.original = text
        self.compounded = False  # whether several spoken words were read as one number
        langs = langs_of(lang)
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
