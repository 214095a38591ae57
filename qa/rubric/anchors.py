"""How a token pattern is matched only where it can match (see the note below): its longest
length, its anchor (the most selective token test that can be looked up per word type), whether
its token tests can be tested with arrays, and its tests in the order to try them.
``qa.rubric.anchored.AnchoredMatcher`` uses them."""

from __future__ import annotations

from .phrase import GAP

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


def max_len(specs: list) -> int | None:
    """The most tokens a match of the pattern can span (a gap counts 4); None when unbounded."""
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


def find_anchor(specs: list, stops) -> tuple | None:
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


def array_spec(sp: dict) -> bool:
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


def regex_flag(vocab, rx) -> int | None:
    """A lexeme flag that holds ``rx.search(word)`` for every word type of ``vocab`` (spaCy computes
    it once per word type, as for ``is_alpha``); None when the vocabulary has no flag left."""
    key = (id(vocab), rx.pattern)
    if key not in _FLAGS:
        try:
            _FLAGS[key] = vocab.add_flag(lambda text, rx=rx: rx.search(text) is not None)
        except Exception:  # no free flag bit
            _FLAGS[key] = None
    return _FLAGS[key]


def fixed_checks(tests: list, found: tuple, strings) -> tuple:
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


