"""Compile a rubric's phrase sets into one spaCy Matcher + PhraseMatcher per language.

Validation checks every phrase's syntax without loading any language; the spaCy matchers of a
language are built the first time a call in that language is scored (loading a language costs
seconds, French most), and cached on the rubric.
"""

from __future__ import annotations

import threading

from ..config import LANGUAGES
from ..errors import RubricError
from .nlp import get_nlp
from .patterns import LangMatcher
from .phrase import PatternError, compile_phrase, parse_phrase

_lock = threading.RLock()


def check_phrase_sets(c, phrase_sets: dict) -> None:
    """Parse every phrase of every language in ``phrase_sets`` (key -> language -> phrases) without loading
    a language; each invalid pattern is reported through ``c.err`` (the rubric builder's error
    collector), nothing is raised."""
    for key, per_lang in phrase_sets.items():
        for lang in LANGUAGES:
            for p in per_lang[lang]:
                try:
                    parse_phrase(str(p))
                except PatternError as e:
                    c.err(f"invalid pattern {str(p)!r} ({lang}): {e}", p)


class LazyMatchers(dict):
    """lang -> LangMatcher, compiled on first use."""

    def __init__(self, rubric_path: str, phrase_sets: dict, names: dict):
        super().__init__()
        self._path = rubric_path
        self._sets = phrase_sets
        self._name_keys = set(names.values())

    def __missing__(self, lang: str) -> LangMatcher:
        with _lock:
            if dict.__contains__(self, lang):
                return dict.__getitem__(self, lang)
            lm = _compile_lang(lang, self._sets, self._name_keys, self._path)
            self[lang] = lm
            return lm


def _compile_lang(lang: str, phrase_sets: dict, name_keys: set, path: str) -> LangMatcher:
    nlp = get_nlp(lang)
    lm = LangMatcher(nlp)
    vocab_words: list[str] = []
    for key, per_lang in phrase_sets.items():
        compiled = []
        for p in per_lang[lang]:
            try:
                cp = compile_phrase(nlp, str(p))
            except PatternError as e:
                raise RubricError(f"invalid pattern {str(p)!r} ({lang}): {e}", getattr(p, "source", None) or path,
                                  getattr(p, "line", None)) from None
            compiled.append(cp)
            vocab_words.extend(cp.words)
        if compiled:
            if key in name_keys:
                lm.add_separately(key, compiled)
            else:
                lm.add(key, compiled)
    nlp.register_vocabulary(vocab_words)
    return lm


def compile_phrase_sets(c, phrase_sets: dict, names: dict, path: str = "") -> dict:
    """Check the phrase sets, then return the rubric's compiled part: ``{'matchers': LazyMatchers}``, whose
    per-language matchers are built on first use (the keys of ``names`` kept apart for name capture)."""
    check_phrase_sets(c, phrase_sets)
    return {"matchers": LazyMatchers(path, phrase_sets, names)}
