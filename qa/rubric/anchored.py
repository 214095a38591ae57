"""``AnchoredMatcher``: what spaCy's Matcher finds for a list of token patterns, found by testing each
pattern only around the occurrences of its anchor (``qa.rubric.anchors``), with arrays where it has
a fixed length, and with spaCy's Matcher over short stretches or the whole call otherwise."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from spacy.matcher import Matcher

from .anchors import RE_CACHE_MAX, array_spec, find_anchor, fixed_checks, max_len, regex_flag


class AnchoredMatcher:
    """What spaCy's Matcher finds for a list of (key, token pattern): every (start, end) of every
    key, once, as ``{key: [(start, end), ...]}``."""

    def __init__(self, vocab, patterns: list[tuple[str, list]], stops=frozenset()):
        from collections import Counter

        self.vocab = vocab
        strings = vocab.strings
        self._tests: dict[str, tuple] = {}  # canonical spec -> compiled tests (shared between patterns)
        anchors: dict[tuple, int] = {}  # anchor -> id
        self.fixed: dict[int, list] = {}  # anchor id -> [(key, checks, length, anchor offset)] (see fixed_checks)
        self.windowed: dict[int, tuple] = {}  # anchor id -> (spaCy Matcher, longest length)
        self.arrays: list[tuple[str, list, int]] = []  # fixed length, no anchor: whole call
        rest: list[tuple[str, list]] = []
        windowed: dict[int, list] = {}
        for key, specs in patterns:
            length = max_len(specs)
            found = find_anchor(specs, stops) if length is not None else None
            fixed = all(array_spec(sp) for sp in specs)
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
                checks = fixed_checks(tests, found, strings)
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
                flag = regex_flag(self.vocab, rx) if attr in ("TEXT", "ORTH") else None
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
