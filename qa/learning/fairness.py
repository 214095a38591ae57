"""Fairness check: changes that must not matter must not change any result.

Each perturbation rewrites a transcript in a way a human evaluator would ignore: other
customer and agent names (from other origins), the customer's title (signor <-> signora,
Herr <-> Frau …), regional greeting variants (Grüezi <-> Guten Tag, buongiorno <-> salve …),
and ASR-style text (lower case, no punctuation). Every criterion result that flips between the
original and the perturbed transcript is reported. Target: none.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from rapidfuzz import fuzz

from ..langdata import all_languages
from ..model import Transcript
from ..text import fold

# Replacement names of several origins; the first whose tokens differ from the original is used.
NAME_POOL = [
    ("Aylin", "Yılmaz"), ("Kwame", "Mensah"), ("Dragana", "Petrović"), ("Jean-Luc", "Favre"),
    ("Mei", "Zhang"), ("Giovanni", "Esposito"), ("Ursula", "Brunner"), ("Fatima", "Haddad"),
]

# Titles, regional greetings and honorifics per language: rubriche/lingue/<lang>.yaml, ``fairness``.
TITLE_SWAPS: dict[str, list[tuple[str, str]]] = {lang: list(data.fairness.title_swaps)
                                                 for lang, data in all_languages().items()}
GREETING_SWAPS: dict[str, list[tuple[str, str]]] = {lang: list(data.fairness.greeting_swaps)
                                                    for lang, data in all_languages().items()}
# after one of these a name is matched more loosely ("mr worker" for Walker)
HONORIFIC_WORDS = {w for data in all_languages().values() for w in data.fairness.honorifics}


def _strip_accents(s: str) -> str:
    return fold(s, sharp_s=False)


def _match_case(src: str, repl: str) -> str:
    if src.isupper() and len(src) > 1:
        return repl.upper()
    if src[:1].isupper():
        return repl[:1].upper() + repl[1:]
    if src.islower():
        return repl.lower()
    return repl


def _replace_tokens(text: str, mapping: dict[str, str], fuzzy: bool = True) -> str:
    """Replace whole words that equal or closely resemble a name (an ASR slip such as Rosi for
    Rossi; after an honorific, looser: "mr worker" for Walker), never ordinary words ("Parlo" is
    not "Paolo")."""
    words = list(re.finditer(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", text))
    out, last = [], 0
    for i, m in enumerate(words):
        word = m.group(0)
        low = _strip_accents(word.lower())
        after_title = i > 0 and _strip_accents(words[i - 1].group(0).lower()).rstrip(".") in HONORIFIC_WORDS
        cutoff = 60 if after_title else 85
        new = word
        for src, dst in mapping.items():
            s = _strip_accents(src.lower())
            if low == s or (fuzzy and len(s) >= 4 and len(low) >= 4 and fuzz.ratio(low, s) >= cutoff):
                new = _match_case(word, dst)
                break
        out.append(text[last:m.start()] + new)
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def _with_texts(t: Transcript, fn: Callable[[str], str]) -> Transcript:
    out = copy.deepcopy(t)
    for s in out.segments:
        s.text = fn(s.text)
        s.words = None  # word lists would no longer match the text
    return out


def _name_map(original: str | None, pool_index: int) -> dict[str, str]:
    if not original:
        return {}
    parts = [p for p in re.split(r"\s+", original.strip()) if p]
    for first, last in NAME_POOL[pool_index:] + NAME_POOL[:pool_index]:
        if first.lower() not in original.lower() and last.lower() not in original.lower():
            new = [first, last] if len(parts) >= 2 else [last]
            mapping = {parts[0]: new[0]} if len(parts) == 1 else {parts[0]: new[0], parts[-1]: new[-1]}
            return mapping
    return {}


def swap_names(t: Transcript) -> Transcript:
    """Other customer and agent names (metadata and what is said)."""
    from ..rubric import find_customer_name

    customer = t.metadata.get("customer_name") or find_customer_name(t)
    agent = t.metadata.get("agent_name")
    cmap = _name_map(customer, 0)
    amap = _name_map(agent, 3)
    mapping = {**amap, **cmap}
    if not mapping:
        return copy.deepcopy(t)
    out = _with_texts(t, lambda s: _replace_tokens(s, mapping))
    for key, m in (("customer_name", cmap), ("agent_name", amap)):
        if out.metadata.get(key) and m:
            out.metadata[key] = _replace_tokens(out.metadata[key], m, fuzzy=False)
    return out


def _phrase_swap(t: Transcript, pairs: Iterable[tuple[str, str]]) -> Transcript:
    pairs = list(pairs)

    def fn(text: str) -> str:
        for src, dst in pairs:
            pattern = r"(?<![\w])" + re.escape(src) + r"(?![\w])"
            if re.search(pattern, text, flags=re.I):
                return re.sub(pattern, lambda m: _match_case(m.group(0), dst), text, flags=re.I)
        return text

    return _with_texts(t, fn)


def swap_titles(t: Transcript) -> Transcript:
    """The customer's title swapped both ways (signor <-> signora, Herr <-> Frau ...)."""
    lang = (t.language or "it")[:2]
    pairs = TITLE_SWAPS.get(lang, [])
    return _phrase_swap(t, pairs + [(b, a) for a, b in pairs])


def regional_greetings(t: Transcript) -> Transcript:
    """A regional greeting variant instead of the one said (Grüezi <-> guten Tag ...)."""
    return _phrase_swap(t, GREETING_SWAPS.get((t.language or "it")[:2], []))


def asr_style(t: Transcript) -> Transcript:
    """Lower case, no punctuation (apostrophes kept inside words)."""
    return _with_texts(t, lambda s: " ".join(re.sub(r"[^\w\s'’-]|(?<!\w)[-'’]|[-'’](?!\w)", " ", s.lower()).split()))


PERTURBATIONS: dict[str, Callable[[Transcript], Transcript]] = {
    "names": swap_names,
    "titles": swap_titles,
    "regional_greetings": regional_greetings,
    "asr_style": asr_style,
}


@dataclass
class Flip:
    """One criterion result that changed under a perturbation (``before`` -> ``after``)."""

    call_id: str
    perturbation: str
    criterion: str
    before: str
    after: str

    def to_dict(self) -> dict[str, Any]:
        """The flip as a JSON-able dict."""
        return self.__dict__.copy()


def fairness_check(transcripts: Iterable[Transcript], rubric: Any = None,
                   perturbations: Iterable[str] | None = None) -> tuple[list[Flip], int]:
    """Score each transcript and each perturbed copy; return (flips, number of comparisons)."""
    from ..rubric import load_rubric, score_transcript

    rub = load_rubric(rubric) if isinstance(rubric, str) else rubric
    names = list(perturbations or PERTURBATIONS)
    flips: list[Flip] = []
    compared = 0
    for t in transcripts:
        base = {c.id: c.result for c in score_transcript(t, rub).criteria}
        for name in names:
            changed = PERTURBATIONS[name](t)
            if [s.text for s in changed.segments] == [s.text for s in t.segments] and changed.metadata == t.metadata:
                continue  # nothing to perturb in this call
            after = {c.id: c.result for c in score_transcript(changed, rub).criteria}
            for crit, res in base.items():
                compared += 1
                if after.get(crit) != res:
                    flips.append(Flip(t.call_id, name, crit, res, after.get(crit, "missing")))
    return flips, compared
