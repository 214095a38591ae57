"""Phrase patterns -> spaCy Matcher / PhraseMatcher rules (one compiled set per rubric and language).

Phrase syntax (see docs/RUBRIC_LANGUAGE.md):
  word        matches any form with the same lemma (lower case, accents ignored)
  =word       matches this exact form only
  pre*        any word form that starts with ``pre`` (case ignored)
  [a|b|c]     one word, any of the alternatives (each by lemma)
  (word)      optional word; also ``([a|b])``
  *           exactly one word, any
  ...         a gap of 0 to 4 words
  <NUM>       a number (digits or number word)
  <NAME>      a name: the customer's name in criteria; the captured name in ``names`` patterns
  <PER>       a masked name, as transcripts with names removed write it ("signora <PER>")
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spacy.matcher import Matcher, PhraseMatcher

from .nlp import LangNLP, fold

GAP = "{0,4}"
_SPECIAL = set("[]()<>*=|")
_SLOTS = ("NUM", "NAME", "PROPN", "AGENT", "PER")
WORD_OR_HYPHENATED = r"^[^\W\d_]+(?:-[^\W\d_]+)*$"  # a word of letters, or letters joined by hyphens
CHECKED_SLOTS = ("NAME", "PROPN", "AGENT")  # verified after matching, per call


class PatternError(ValueError):
    pass


@dataclass
class CompiledPhrase:
    text: str
    plain: bool
    specs: list  # Matcher token specs
    norms: list  # for plain phrases
    has_name: bool = False
    words: list = field(default_factory=list)  # literal words (vocabulary for fuzzy matching)
    name_index: int | None = None  # token offset of <NAME> in a match (None: not fixed)
    slots: tuple = ()  # slots checked after matching (NAME, PROPN, AGENT)


def _word_tokens(nlp: LangNLP, word: str) -> list[str]:
    doc = nlp.make_doc(word)
    return [t.text for t in doc if not (t.is_punct or t.is_space)]


def parse_phrase(phrase: str) -> list[tuple[str, str, bool]]:
    """Syntax check without any language model: [(kind, body, optional)]; raises PatternError."""
    if not isinstance(phrase, str) or not phrase.strip():
        raise PatternError("empty phrase")
    items: list[tuple[str, str, bool]] = []
    content = 0
    names = 0
    for raw in phrase.split():
        item = raw
        optional = False
        if item.startswith("(") or item.endswith(")"):
            if not (item.startswith("(") and item.endswith(")")) or len(item) < 3:
                raise PatternError(f"unbalanced parentheses in {raw!r}")
            optional, item = True, item[1:-1]
        if item == "*":
            items.append(("any", "", optional))
            continue
        if item == "...":
            if optional:
                raise PatternError("'...' cannot be optional")
            items.append(("gap", "", False))
            continue
        if item.startswith("<") or item.endswith(">"):
            if not (item.startswith("<") and item.endswith(">")):
                raise PatternError(f"unbalanced slot brackets in {raw!r}")
            slot = item[1:-1]
            if slot not in _SLOTS:
                raise PatternError(f"unknown slot <{slot}> (known: <NUM>, <NAME>, <PROPN>, <AGENT>, <PER>)")
            if slot == "NAME":
                names += 1
                if names > 1:
                    raise PatternError("only one <NAME> slot per phrase")
            items.append(("slot", slot, optional))
            content += 1
            continue
        if item.startswith("[") or item.endswith("]"):
            if not (item.startswith("[") and item.endswith("]")) or len(item) < 3:
                raise PatternError(f"unbalanced brackets in {raw!r}")
            for alt in item[1:-1].split("|"):
                if not alt or _SPECIAL & set(alt) or " " in alt:
                    raise PatternError(f"bad alternative {alt!r} in {raw!r}")
            items.append(("alts", item[1:-1], optional))
            content += 1
            continue
        if item.startswith("="):
            body = item[1:]
            if not body or _SPECIAL & set(body):
                raise PatternError(f"bad exact word {raw!r}")
            items.append(("exact", body, optional))
            content += 1
            continue
        if item.endswith("*"):
            body = item[:-1]
            if len(body) < 2 or _SPECIAL & set(body) or not body.replace("'", "").replace("-", "").isalnum():
                raise PatternError(f"bad prefix wildcard {raw!r} (needs at least 2 letters before '*')")
            items.append(("prefix", body, optional))
            content += 1
            continue
        if _SPECIAL & set(item):
            raise PatternError(f"invalid pattern item {raw!r}")
        if not any(ch.isalnum() for ch in item):
            continue  # punctuation only
        items.append(("word", item, optional))
        content += 1
    if content == 0:
        raise PatternError(f"phrase {phrase!r} has no word to match")
    if items and (items[0][0] == "gap" or items[-1][0] == "gap"):
        raise PatternError("a phrase cannot start or end with '...'")
    return items


def compile_phrase(nlp: LangNLP, phrase: str) -> CompiledPhrase:
    specs: list[dict] = []
    words: list[str] = []
    plain = True
    has_name = False
    name_index = None
    slots: list[str] = []
    for kind, body, optional in parse_phrase(phrase):
        if kind == "any":
            spec_list = [{}]
            plain = False
        elif kind == "gap":
            spec_list = [{"OP": GAP}]
            plain = False
        elif kind == "slot":
            if body == "NUM":
                spec_list = [{"LIKE_NUM": True}]
            elif body == "PER":
                spec_list = [{"LOWER": "<per>"}]  # the masked name token (one token: qa.rubric.nlp)
            elif body == "NAME":
                spec_list = [{"IS_PUNCT": False, "IS_SPACE": False, "LIKE_NUM": False}]
                has_name = True
                slots.append(body)
                fixed = all("OP" not in s for s in specs)
                name_index = len(specs) if fixed and not optional else None
            elif body == "PROPN":
                # proper nouns are capitalised words, hyphenated ones too ("Jean-Luc")
                spec_list = [{"IS_TITLE": True, "TEXT": {"REGEX": WORD_OR_HYPHENATED}}]
                slots.append(body)
            else:
                spec_list = [{"TEXT": {"REGEX": WORD_OR_HYPHENATED}}]
                slots.append(body)
            plain = False
        elif kind == "alts":
            norms = []
            for alt in body.split("|"):
                toks = _word_tokens(nlp, alt)
                if len(toks) != 1:
                    raise PatternError(f"alternative {alt!r} must be one word in {nlp.lang!r}")
                words.append(toks[0])
                norms.append(nlp.lemma(toks[0]))
            spec_list = [{"NORM": {"IN": sorted(set(norms))}}]
            plain = False
        elif kind == "exact":
            toks = _word_tokens(nlp, body)
            if not toks:
                raise PatternError(f"bad exact word {body!r}")
            spec_list = [{"LOWER": t.lower()} for t in toks]
            plain = False
        elif kind == "prefix":
            spec_list = [{"LOWER": {"REGEX": "^" + re.escape(body.lower())}}]
            plain = False
        else:
            toks = _word_tokens(nlp, body)
            if not toks:
                continue
            words.extend(toks)
            spec_list = [{"NORM": nlp.lemma(t)} for t in toks]
        if optional:
            plain = False
            if len(spec_list) != 1:
                raise PatternError(f"optional item {body!r} must be one word in {nlp.lang!r}")
            spec_list = [dict(spec_list[0], OP="?")]
        specs.extend(spec_list)
    norms = [s["NORM"] for s in specs] if plain else []
    return CompiledPhrase(phrase, plain, specs, norms, has_name, words, name_index, tuple(sorted(set(slots))))


class LangMatcher:
    """All phrase sets of one rubric in one language: one Matcher + one PhraseMatcher pass per doc."""

    def __init__(self, nlp: LangNLP):
        self.nlp = nlp
        self.matcher = Matcher(nlp.vocab, validate=True)
        self.phrase_matcher = PhraseMatcher(nlp.vocab, attr="NORM")
        self.slot_keys: dict[str, list] = {}  # key -> [(match key, [slots to verify])]
        self._keys: dict[int, str] = {}
        self.slots: dict[str, int | None] = {}

        self._array_keys: set[str] = set()  # slot keys: their spans may be an array (see AnchoredMatcher)
        self._token_patterns: list[tuple[str, list]] = []  # (match key, specs): what self.matcher holds
        self._fast: AnchoredMatcher | None = None  # built on first use, from _token_patterns

    def _add_token_patterns(self, key: str, patterns: list) -> None:
        self.matcher.add(key, patterns)  # validates the patterns (spaCy's schema)
        self._token_patterns.extend((key, p) for p in patterns)
        self._fast = None

    def add_separately(self, key: str, phrases: list[CompiledPhrase]) -> None:
        """One match key per phrase (``key#name#i``), remembering where its <NAME> slot is."""
        for i, p in enumerate(phrases):
            k = f"{key}#name#{i}"
            self._keys[self.nlp.vocab.strings.add(k)] = k
            self._add_token_patterns(k, [p.specs])
            self.slots[k] = p.name_index

    def add(self, key: str, phrases: list[CompiledPhrase]) -> None:
        plain_docs = []
        pats = []
        slot_pats: dict[str, list] = {}
        for p in phrases:
            if p.plain:
                from spacy.tokens import Doc

                doc = Doc(self.nlp.vocab, words=list(p.norms))
                for t, n in zip(doc, p.norms):
                    t.norm_ = n  # token-level norm: the phrase is already normalised
                plain_docs.append(doc)
            elif p.slots:
                slot_pats.setdefault("+".join(p.slots), []).append(p.specs)
            else:
                pats.append(p.specs)
        h = self.nlp.vocab.strings.add(key)
        self._keys[h] = key
        if plain_docs:
            self.phrase_matcher.add(key, plain_docs)
        if pats:
            self._add_token_patterns(key, pats)
        for sig, sp in slot_pats.items():
            skey = f"{key}#{sig}"
            self._keys[self.nlp.vocab.strings.add(skey)] = skey
            self._add_token_patterns(skey, sp)
            self.slot_keys.setdefault(key, []).append((skey, sig.split("+")))
            self._array_keys.add(skey)

    def __call__(self, doc) -> dict[str, list[tuple[int, int]]]:
        """{key: [(start, end), ...]}; the spans of a slot key (``key#SLOT``, tested per call by
        ``CallContext.hits``) may be an (n, 2) array, in any order, possibly twice."""
        out: dict[str, list[tuple[int, int]]] = {}
        keys = self._keys
        if len(self.phrase_matcher):
            for mid, s, e in self.phrase_matcher(doc):
                out.setdefault(keys[mid], []).append((s, e))
        if not len(self.matcher):
            return out
        fast = self._fast
        if fast is None:
            from .nlp import _lock

            with _lock:  # adds strings and lexeme flags to the shared vocabulary
                fast = self._fast
                if fast is None:
                    fast = self._fast = AnchoredMatcher(self.nlp.vocab, self._token_patterns, self.nlp.stops)
        for k, spans in fast(doc, self._array_keys).items():
            if k not in out:
                out[k] = spans
            elif isinstance(spans, np.ndarray):
                out[k] = np.concatenate((np.asarray(out[k], dtype=np.int64).reshape(-1, 2), spans))
            else:
                out[k].extend(spans)
        return out


# ---- token patterns, matched only where they can match ------------------------------------------
#
# spaCy's Matcher starts every pattern at every token of the call (a few hundred tokens times a few
# dozen patterns, with Python predicates for regular expressions and sets): most of the time of
# scoring a call. Nearly every pattern needs some token with a given normal form (its "anchor"), and
# most have a fixed length (no optional word, no gap). Such a pattern is tested with arrays at the
# few places its anchor occurs: each of its token tests (normal form, lower case, a set of forms, a
# regular expression, a flag) looked up at anchor position + offset. Fixed-length patterns without an
# anchor (the <AGENT>/<PROPN> slots) are tested with arrays over the whole call. Patterns of varying
# length (optional words, gaps) go to spaCy's Matcher, run only over the stretches around their
# anchor's occurrences (a match holds its anchor and is at most the pattern's longest length), or
# over the whole call when they have no anchor. tests/test_rubric_matcher.py holds all this to
# spaCy's own Matcher on every phrase of every rubric, and on phrases written to hit the edges.

_GAP_MAX = 4  # GAP = "{0,4}"
RE_CACHE_MAX = 200_000  # word types whose regex results are remembered
_FLAG_ATTRS = ("IS_TITLE", "IS_PUNCT", "IS_SPACE", "LIKE_NUM", "IS_ALPHA", "IS_DIGIT", "IS_LOWER", "IS_UPPER")


def _max_len(specs: list) -> int | None:
    n = 0
    for sp in specs:
        op = sp.get("OP")
        if op is None or op == "?" or op == "!":
            n += 1
        elif op == GAP:
            n += _GAP_MAX
        else:
            return None  # unbounded (+, *) or unknown
    return n


def _anchor(specs: list, stops) -> tuple | None:
    """(token index, anchor) of the most selective required token test of a pattern that can be
    looked up per word type: anchor = ("NORM"|"LOWER", frozenset of values) or ("LOWER_RE", regex);
    None when there is none."""
    best = None
    for i, sp in enumerate(specs):
        if "OP" in sp:
            continue  # optional or repeated: not required
        for attr in ("NORM", "LOWER"):
            v = sp.get(attr)
            if isinstance(v, str):
                rank = (0 if v not in stops else 2, -len(v))
                cand = (attr, frozenset([v]))
            elif isinstance(v, dict) and set(v) == {"IN"} and v["IN"]:
                vals = frozenset(v["IN"])
                rank = (1 if not (vals & stops) else 3, -min(len(x) for x in vals))
                cand = (attr, vals)
            elif attr == "LOWER" and isinstance(v, dict) and set(v) == {"REGEX"}:
                rank = (4, -len(v["REGEX"]))
                cand = ("LOWER_RE", v["REGEX"])
            else:
                continue
            if best is None or rank < best[0]:
                best = (rank, (i, cand))
    return best[1] if best else None


def _array_spec(sp: dict) -> bool:
    """Can this token spec be tested with arrays (no OP; flags, NORM/LOWER values, regexes; {})?"""
    if "OP" in sp:
        return False
    for attr, v in sp.items():
        if attr in _FLAG_ATTRS and isinstance(v, bool):
            continue
        if attr in ("NORM", "LOWER", "ORTH") and isinstance(v, str):
            continue
        if attr in ("NORM", "LOWER", "ORTH") and isinstance(v, dict) and set(v) == {"IN"}:
            continue
        if attr in ("TEXT", "ORTH", "LOWER", "NORM") and isinstance(v, dict) and set(v) == {"REGEX"}:
            continue
        return False
    return True


_FLAGS: dict[tuple[int, str], int | None] = {}  # (id(vocab), regex) -> lexeme flag holding its result


def _regex_flag(vocab, rx) -> int | None:
    """A lexeme flag that holds ``rx.search(word)`` for every word type of ``vocab`` (spaCy computes
    it once per word type, as for ``is_alpha``); None when the vocabulary has no flag left."""
    key = (id(vocab), rx.pattern)
    if key not in _FLAGS:
        try:
            _FLAGS[key] = vocab.add_flag(lambda text, rx=rx: rx.search(text) is not None)
        except Exception:  # no free flag bit
            _FLAGS[key] = None
    return _FLAGS[key]


def _checks(tests: list, found: tuple, strings) -> tuple:
    """The token tests of a fixed-length pattern as one flat tuple of (token offset, kind, attribute,
    value), most selective first, without the test its anchor's occurrence already passed (an
    occurrence of anchor ``found`` = (offset, (attr, values)) has that value there)."""
    from spacy.attrs import IDS

    k, (akind, aval) = found
    if akind in ("NORM", "LOWER"):
        implied = {("eq", IDS[akind], strings.add(v)) for v in aval if len(aval) == 1}
        implied.add(("in", IDS[akind], frozenset(strings.add(v) for v in aval)))
    else:  # LOWER_RE
        implied = set()
    out = []
    for j, (_, spec_tests) in enumerate(tests):
        for kind, attr, v in spec_tests:
            if j == k and akind == "LOWER_RE" and kind == "re" and attr == IDS["LOWER"] and v.pattern == aval:
                continue
            if j == k and kind in ("eq", "in") and (kind, attr, v) in implied:
                continue
            out.append((j, kind, attr, v))
    order = {"eq": 0, "in": 1, "flag": 2, "re": 3}
    out.sort(key=lambda c: order[c[1]])  # stable: token order within a kind
    return tuple(out)


class AnchoredMatcher:
    """What spaCy's Matcher finds for a list of (key, token pattern): every (start, end) of every
    key, once, as ``{key: [(start, end), ...]}``."""

    def __init__(self, vocab, patterns: list[tuple[str, list]], stops=frozenset()):
        from collections import Counter

        self.vocab = vocab
        strings = vocab.strings
        self._tests: dict[str, tuple] = {}  # canonical spec -> compiled tests (shared between patterns)
        anchors: dict[tuple, int] = {}  # anchor -> id
        self.fixed: dict[int, list] = {}  # anchor id -> [(key, checks, length, anchor offset)] (see _checks)
        self.windowed: dict[int, tuple] = {}  # anchor id -> (spaCy Matcher, longest length)
        self.arrays: list[tuple[str, list, int]] = []  # fixed length, no anchor: whole call
        rest: list[tuple[str, list]] = []
        windowed: dict[int, list] = {}
        for key, specs in patterns:
            length = _max_len(specs)
            found = _anchor(specs, stops) if length is not None else None
            fixed = all(_array_spec(sp) for sp in specs)
            if found is None and not fixed:
                rest.append((key, specs))
                continue
            if fixed:
                tests = [self._compile_spec(sp) for sp in specs]
                if found is None:
                    self.arrays.append((key, tests, len(specs)))
                    continue
            aid = anchors.setdefault(found[1], len(anchors))
            if fixed:
                checks = _checks(tests, found, strings)
                self.fixed.setdefault(aid, []).append((key, checks, len(specs), found[0]))
            else:
                windowed.setdefault(aid, []).append((key, specs, length))
        for aid, members in windowed.items():
            m = Matcher(vocab, validate=False)  # validated when added to LangMatcher.matcher
            for key, specs, _ in members:
                m.add(key, [specs])
            self.windowed[aid] = (m, max(length for _, _, length in members))
        by_norm: dict[int, list[int]] = {}
        by_lower: dict[int, list[int]] = {}
        self.lower_res: list[tuple[Any, int]] = []  # (compiled regex, anchor id)
        for (kind, val), aid in anchors.items():
            if kind == "NORM":
                for v in val:
                    by_norm.setdefault(strings.add(v), []).append(aid)
            elif kind == "LOWER":
                for v in val:
                    by_lower.setdefault(strings.add(v), []).append(aid)
            else:
                self.lower_res.append((re.compile(val), aid))
        self.by_norm = by_norm
        self.by_lower = by_lower
        self.norm_keys = np.array(sorted(by_norm), dtype=np.uint64)
        self.lower_keys = np.array(sorted(by_lower), dtype=np.uint64)
        self._lower_re_cache: dict[int, tuple[int, ...]] = {}
        self._re_cache: dict[tuple[str, int], bool] = {}
        self.rest = None
        if rest:
            self.rest = Matcher(vocab, validate=False)
            for key, specs in rest:
                self.rest.add(key, [specs])
        # a key with several patterns may find one span twice: spaCy reports it once
        n_patterns = Counter(key for key, _ in patterns)
        self.multi_keys = {k for k, n in n_patterns.items() if n > 1}

    # ---- token tests, with arrays ---------------------------------------------------------------------
    def _compile_spec(self, sp: dict) -> tuple:
        """The tests of one token spec, shared by every spec written the same way ({} -> none)."""
        from spacy.attrs import IDS

        canon = repr(sorted((k, sorted(v.items()) if isinstance(v, dict) else v) for k, v in sp.items()))
        got = self._tests.get(canon)
        if got is not None:
            return got
        tests = []
        strings = self.vocab.strings
        for attr, v in sp.items():
            a = IDS["ORTH" if attr == "TEXT" else attr]
            if isinstance(v, bool):
                tests.append(("flag", a, v))
            elif isinstance(v, str):
                tests.append(("eq", a, strings.add(v)))
            elif "IN" in v:
                tests.append(("in", a, frozenset(strings.add(x) for x in v["IN"])))
            else:
                rx = re.compile(v["REGEX"])
                flag = _regex_flag(self.vocab, rx) if attr in ("TEXT", "ORTH") else None
                tests.append(("flag", flag, True) if flag is not None else ("re", a, rx))
        got = self._tests[canon] = (canon, tuple(tests))
        return got

    def _mask(self, doc, cols: dict, masks: dict, spec: tuple):
        """Which tokens of ``doc`` pass every test of ``spec`` (None: all of them)."""
        canon, tests = spec
        if not tests:
            return None
        got = masks.get(canon)
        if got is not None:
            return got
        mask = None
        for kind, attr, v in tests:
            col = cols.get(attr)
            if col is None:
                col = cols[attr] = doc.to_array(attr)
            if kind == "flag":
                m = (col != 0) if v else (col == 0)
            elif kind == "eq":
                m = col == v
            elif kind == "in":
                m = np.isin(col, np.fromiter(v, dtype=np.uint64, count=len(v)))
            else:
                m = self._regex_mask(col, v)
            mask = m if mask is None else mask & m
        masks[canon] = mask
        return mask

    def _regex_mask(self, col, rx):
        cache = self._re_cache
        strings = self.vocab.strings
        uniq, inv = np.unique(col, return_inverse=True)
        pat = rx.pattern
        vals = np.empty(len(uniq), dtype=bool)
        for i, h in enumerate(uniq.tolist()):
            got = cache.get((pat, h))
            if got is None:
                got = cache[(pat, h)] = rx.search(strings[h]) is not None
            vals[i] = got
        return vals[inv.reshape(-1)]

    def _values(self, doc, vals: dict, attr: int) -> list:
        got = vals.get(attr)
        if got is None:
            got = vals[attr] = doc.to_array(attr).tolist()
        return got

    # ---- matching ------------------------------------------------------------------------------------
    def __call__(self, doc, array_keys=frozenset()) -> dict[str, list[tuple[int, int]]]:
        """``array_keys``: keys whose spans may come back as an (n, 2) integer array instead of a
        list (in any order, possibly twice): a pattern without anchor, such as <AGENT> alone,
        matches nearly every word of a call, and its spans are only tested further with arrays."""
        from spacy.attrs import LOWER, NORM

        n = len(doc)
        out: dict[str, list[tuple[int, int]]] = {}
        if not n:
            return out
        strings = self.vocab.strings
        vals: dict = {}  # attr -> the tokens' values, as a list
        where: dict[int, list[int]] = {}  # anchor id -> token positions of its occurrences
        by_norm = self.by_norm
        if by_norm:
            for i, h in enumerate(self._values(doc, vals, NORM)):
                aids = by_norm.get(h)
                if aids is not None:
                    for aid in aids:
                        where.setdefault(aid, []).append(i)
        if self.by_lower or self.lower_res:
            by_lower = self.by_lower
            cache = self._lower_re_cache
            lower_res = self.lower_res
            for i, h in enumerate(self._values(doc, vals, LOWER)):
                aids = by_lower.get(h)
                if aids is not None:
                    for aid in aids:
                        where.setdefault(aid, []).append(i)
                if lower_res:
                    got = cache.get(h)
                    if got is None:
                        text = strings[h]
                        got = cache[h] = tuple(aid for rx, aid in lower_res if rx.search(text))
                    for aid in got:
                        where.setdefault(aid, []).append(i)
        re_cache = self._re_cache
        for aid, pos in where.items():
            if len(pos) > 1:
                pos = sorted(set(pos))  # an anchor of several forms (NORM and LOWER) seen twice
            for key, checks, m, k in self.fixed.get(aid, ()):
                # a match starts ``k`` tokens before an occurrence of its anchor: test every token
                # (each test looked up in the tokens' values, as plain lists)
                found = []
                for p in pos:
                    s = p - k
                    if s < 0 or s > n - m:
                        continue
                    for j, kind, attr, v in checks:
                        col = vals.get(attr)
                        if col is None:
                            col = vals[attr] = doc.to_array(attr).tolist()
                        x = col[s + j]
                        if kind == "eq":
                            if x != v:
                                break
                        elif kind == "in":
                            if x not in v:
                                break
                        elif kind == "flag":
                            if (x != 0) != v:
                                break
                        else:
                            got = re_cache.get((v.pattern, x))
                            if got is None:
                                got = re_cache[(v.pattern, x)] = v.search(strings[x]) is not None
                            if not got:
                                break
                    else:
                        found.append((s, s + m))
                if found:
                    out.setdefault(key, []).extend(found)
            win = self.windowed.get(aid)
            if win is not None:
                matcher, length = win
                a, b = max(pos[0] - length + 1, 0), min(pos[0] + length, n)
                for p in pos[1:]:
                    s, e = max(p - length + 1, 0), min(p + length, n)
                    if s > b:
                        for mid, ms, me in matcher(doc[a:b]):
                            out.setdefault(strings[mid], []).append((ms + a, me + a))
                        a = s
                    b = e
                for mid, ms, me in matcher(doc[a:b]):
                    out.setdefault(strings[mid], []).append((ms + a, me + a))
        arrays: dict[str, list] = {}
        if self.arrays:
            cols: dict = {}
            masks: dict = {}
            for key, tests, m in self.arrays:
                if m > n:
                    continue
                ok = None
                for j, spec in enumerate(tests):
                    mask = self._mask(doc, cols, masks, spec)
                    if mask is not None:
                        mask = mask[j:n - m + 1 + j]
                        ok = mask if ok is None else ok & mask
                starts = np.flatnonzero(ok) if ok is not None else np.arange(n - m + 1)
                if len(starts):
                    if key in array_keys:
                        arrays.setdefault(key, []).append(np.column_stack((starts, starts + m)))
                    else:
                        out.setdefault(key, []).extend(zip(starts.tolist(), (starts + m).tolist()))
        if self.rest is not None:
            for mid, s, e in self.rest(doc):
                out.setdefault(strings[mid], []).append((s, e))
        for key in self.multi_keys & out.keys():
            if key not in arrays:
                out[key] = list(dict.fromkeys(out[key]))
        for key, parts in arrays.items():
            if key in out:
                parts.append(np.asarray(out[key], dtype=np.int64).reshape(-1, 2))
            out[key] = np.concatenate(parts) if len(parts) > 1 else parts[0]
        if len(self._re_cache) > RE_CACHE_MAX:
            self._re_cache.clear()
        if len(self._lower_re_cache) > RE_CACHE_MAX:
            self._lower_re_cache.clear()
        return out
