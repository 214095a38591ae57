"""``find_pii`` and ``redact_text``: every piece of personal data in a text, found by the finders
(``qa.redact.finders``) on the text with spoken numbers normalised to digits
(``qa.redact.normalise``) and checked by the validators (``qa.redact.validators``), overlaps
resolved by kind; ``Span``, the kinds and their masks."""

from __future__ import annotations

from dataclasses import dataclass

from .finders import (chain_candidates, date_candidates, email_candidates, iban_candidates,
                      written_phone_candidates)
from .normalise import Normalised

KINDS = ("AHV", "IBAN", "CARTA", "TELEFONO", "EMAIL", "DATA_NASCITA")
# When two findings overlap, the lower rank wins (then the longer one).
_RANK = {"EMAIL": 0, "IBAN": 1, "AHV": 2, "CARTA": 3, "DATA_NASCITA": 4, "TELEFONO": 5}


@dataclass(frozen=True)
class Span:
    """One finding: its character span in the original text, its kind (``KINDS``) and the text."""

    start_char: int
    end_char: int
    kind: str
    text: str

    @property
    def mask(self) -> str:
        """What replaces the finding in redacted text ("[IBAN]")."""
        return mask_token(self.kind)


def mask_token(kind: str) -> str:
    """The mask of a kind of finding: its name in brackets ("[TELEFONO]")."""
    return f"[{kind}]"


def find_pii(text: str, lang: str | None = None, context: str = "") -> list[Span]:
    """Every piece of personal data in ``text``, in order, never overlapping.

    ``context``: what was said just before (e.g. the previous turns of the call). It is not
    searched itself; it only makes an answer recognisable: "Siebter Mai 1981" after "Ihr
    Geburtsdatum?" is a date of birth, "ch 93 ..." after "l'IBAN" an IBAN.
    """
    if not text or not text.strip():
        return []
    norm = Normalised(text, lang)
    cands: list[tuple[int, int, str]] = []  # in ORIGINAL character offsets
    for a, b, kind in (iban_candidates(norm, context) + chain_candidates(norm, lang)
                       + date_candidates(norm, lang, context)):
        s, e = norm.span(a, b)
        cands.append((s, e, kind))
    if norm.compounded:
        # "thirty eight" may be 38 or 30 8 in a number said in pairs: try the words one by one too
        plain = Normalised(text, lang, compounds=False)
        for a, b, kind in iban_candidates(plain, context) + chain_candidates(plain, lang):
            s, e = plain.span(a, b)
            cands.append((s, e, kind))
    cands.extend(email_candidates(text))
    cands.extend(written_phone_candidates(text))
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
