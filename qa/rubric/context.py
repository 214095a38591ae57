"""Everything the rules need to know about one call, computed once and cached."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from spacy.attrs import NORM, ORTH

from ..langdata import names_words
from . import rules as R
from .nlp import CLAUSE_PUNCT, fold

NAME_CUTOFF = 80.0
ADDRESS_CUTOFF = 60.0  # after an honorific ("Mr Worker" for Walker)
# Words said to someone, beside a masked name: "eccomi <PER>", "grazie <PER>", "<PER> buongiorno".
# A masked name alone ("allora <PER> …" while typing it, "<PER> spazio <PER>") is not addressing
# the caller (CRITERIA.md, "Masked names"); after an honorific or beside one of these it is.
# Before an honorific, an article makes it a third person ("il signor Rossi ha chiamato").
# Language data: rubriche/lingue/<lang>.yaml, section `names` (qa.langdata).
VOCATIVES = names_words("vocatives")
ARTICLES = names_words("articles")
HONORIFICS = names_words("honorifics")


class ModelsPending(Exception):
    """Raised by ``CallContext.model_probs`` when the context defers model conditions
    (``defer_models``) and the answers are not there yet: the batch asks the model for every call
    that needs it at once, fills the model cache, and evaluates the criterion again."""

    def __init__(self, name: str, segs: list[int]):
        super().__init__(name)
        self.name = name
        self.segs = segs


@dataclass
class Hit:
    seg: int
    start: int  # token
    end: int
    negated: bool


class CallContext:
    def __init__(self, transcript, rubric, lang: str, call_type: str | None, nlp, doc, text: str,
                 seg_char_starts: list[int], customer_name: str | None, meta_extra: dict | None = None,
                 model_cache: dict | None = None):
        self.t = transcript
        self.rubric = rubric
        self.lang = lang
        self.call_type = call_type
        self.nlp = nlp
        self.doc = doc
        self.text = text
        self.segs = transcript.segments
        self.customer_name = customer_name
        self.meta_extra = meta_extra or {}
        n = len(self.segs)
        self.speakers = [s.speaker for s in self.segs]
        self.has_unknown = any(sp == "unknown" for sp in self.speakers)
        idx = nlp.token_offsets(doc) if len(doc) else np.zeros(0, dtype=np.int64)
        self.tok_idx = idx
        starts = np.asarray(seg_char_starts, dtype=np.int64)
        self.tok_seg = (np.searchsorted(starts, idx, side="right") - 1) if n else idx
        self.seg_tok_start = np.searchsorted(self.tok_seg, np.arange(n), side="left") if n else []
        lm = rubric._compiled["matchers"][lang]
        self._matches = lm(doc) if len(doc) else {}
        self._slot_keys = lm.slot_keys
        self._hits: dict[str, list[Hit]] = {}
        self._windows: dict = {}
        self._crit: dict[str, tuple[str, list[int]]] = {}
        self._conds: dict[str, R.Outcome] = {}
        self._model_cache = model_cache if model_cache is not None else {}
        self.defer_models = False  # True: a model answer not in the cache raises ModelsPending
        self._neg_mask = None
        self._name_orths = None
        self._agent_set = None
        self._orths = None
        self._types = None  # word types of the call, for the name tests
        self._evaluating: set[str] = set()
        # time line
        self.t0 = min((s.start for s in self.segs), default=0.0)
        self.tend = max(transcript.end_time, max((s.end for s in self.segs), default=0.0))
        # turns: runs of consecutive segments by the same speaker
        self.turn_of = []
        turn = -1
        prev = None
        for sp in self.speakers:
            if sp != prev or sp == "unknown":
                turn += 1
                prev = sp
            self.turn_of.append(turn)
        self.n_turns = turn + 1

    # ---- roles and windows -----------------------------------------------------------------
    def role_ok(self, seg: int, by: str) -> bool:
        if by == "any":
            return True
        sp = self.speakers[seg]
        return sp == by or sp == "unknown"

    def allowed(self, by: str, w: R.Window) -> frozenset[int] | None:
        """Segments in the window for that speaker (None: every segment of that speaker)."""
        key = (by, w.first_seconds, w.last_seconds, w.first_percent, w.last_percent, w.first_turns, w.last_turns)
        if key in self._windows:
            return self._windows[key]
        segs = [i for i in range(len(self.segs)) if self.role_ok(i, by)]
        if w.empty():
            res = frozenset(segs)
        else:
            total = max(self.tend - self.t0, 1e-6)
            out = []
            if w.first_turns is not None or w.last_turns is not None:
                turns = sorted({self.turn_of[i] for i in segs})
                first = set(turns[: w.first_turns]) if w.first_turns is not None else None
                last = set(turns[-w.last_turns:]) if w.last_turns is not None else None
            for i in segs:
                s = self.segs[i]
                if w.first_seconds is not None and s.start - self.t0 > w.first_seconds:
                    continue
                if w.last_seconds is not None and s.end < self.tend - w.last_seconds:
                    continue
                if w.first_percent is not None and (s.start - self.t0) > total * w.first_percent / 100.0:
                    continue
                if w.last_percent is not None and s.end < self.tend - total * w.last_percent / 100.0:
                    continue
                if w.first_turns is not None and self.turn_of[i] not in first:
                    continue
                if w.last_turns is not None and self.turn_of[i] not in last:
                    continue
                out.append(i)
            res = frozenset(out)
        self._windows[key] = res
        return res

    def candidate_segments(self, by: str, w: R.Window) -> list[int]:
        return sorted(i for i in self.allowed(by, w) if self.segs[i].text.strip())

    # ---- phrase hits -------------------------------------------------------------------------
    def _negated(self, seg: int, start: int) -> bool:
        win = self.rubric.negation_window
        if win <= 0:
            return False
        if self._neg_mask is None:
            negs = self.rubric._compiled.setdefault("neg_hashes", {})
            if self.lang not in negs:
                strings = self.nlp.vocab.strings
                forms = set()
                for w in self.rubric.negation.get(self.lang, []):
                    forms.update({self.nlp.lemma(w), fold(w), w.lower()})
                negs[self.lang] = np.array([strings.add(f) for f in sorted(forms)], dtype=np.uint64)
            self._neg_mask = _isin(self.doc.to_array(NORM), negs[self.lang]) if len(negs[self.lang]) else \
                np.zeros(len(self.doc), dtype=bool)
        lo = max(int(self.seg_tok_start[seg]), start - win)
        for j in range(start - 1, lo - 1, -1):
            if self._neg_mask[j]:
                between = self.text[int(self.tok_idx[j]):int(self.tok_idx[start])]
                return not CLAUSE_PUNCT.search(between)
        return False

    def hits(self, key: str) -> list[Hit]:
        got = self._hits.get(key)
        if got is not None:
            return got
        spans = list(self._matches.get(key, ()))
        for skey, slots in self._slot_keys.get(key, ()):
            spans.extend(self._spans_with_slots(self._matches.get(skey, ()), slots))
        spans.sort(key=lambda x: (x[0], -x[1]))
        out: list[Hit] = []
        last_end = -1
        tok_seg = self.tok_seg
        for s, e in spans:
            seg = int(tok_seg[s])
            if int(tok_seg[e - 1]) != seg:
                continue  # crosses a segment boundary
            if s < last_end:
                continue  # overlaps the previous match
            out.append(Hit(seg, s, e, self._negated(seg, s)))
            last_end = e
        self._hits[key] = out
        return out

    def said_hits(self, node: R.Said) -> list[tuple[int, int | None]]:
        allowed = self.allowed(node.by, node.window)
        hs = [h for h in self.hits(node.key) if h.seg in allowed and
              (node.negation == "include" or (h.negated == (node.negation == "only")))]
        if not node.near or not hs:
            return [(h.seg, None) for h in hs]
        nr = node.near
        partners = [h for h in self.hits(nr.key) if not h.negated and self.role_ok(h.seg, nr.by)]
        out = []
        for h in hs:
            for p in partners:
                if nr.position == "before" and not p.start < h.start:
                    continue
                if nr.position == "after" and not p.start > h.start:
                    continue
                if nr.within_words is not None:
                    if p.seg != h.seg:
                        continue
                    gap = max(p.start - h.end, h.start - p.end, 0)
                    if gap > nr.within_words:
                        continue
                else:
                    if abs(self.turn_of[p.seg] - self.turn_of[h.seg]) > nr.within_turns:
                        continue
                out.append((h.seg, p.seg))
                break
        return out

    # ---- names -------------------------------------------------------------------------------
    def _name_set(self) -> set[int]:
        if self._name_orths is not None:
            return self._name_orths
        found: set[int] = set()
        if self.customer_name and len(self.doc):
            targets = name_tokens(self.customer_name)
            agent_own = set(name_tokens(str(self.t.metadata.get("agent_name") or "")))
            found = self._orths_matching(targets, agent_own, self.nlp)
        self._name_orths = found
        return found

    def _sentence_initial(self, j: int) -> bool:
        return self.nlp.sentence_initial(self.doc, j, self.text)

    def _addressed(self) -> set[int]:
        """Token positions right after an honorific ("Mr Worker", "Frau Graff") whose word is close
        enough to the customer's name for an ASR slip (looser than elsewhere)."""
        out: set[int] = set()
        key = self.rubric.names.get("address")
        if not key or not self.customer_name:
            return out
        from rapidfuzz import fuzz

        targets = [t for t in name_tokens(self.customer_name) if t != "<PER>"]
        lm = self.rubric._compiled["matchers"][self.lang]
        prefix = key + "#name#"
        for k, spans in self._matches.items():
            if not k.startswith(prefix):
                continue
            slot = lm.slots.get(k)
            for s, e in spans:
                j = s + slot if slot is not None else e - 1
                if j >= e:
                    continue
                w = fold(self.doc[j].text)
                if len(w) >= 3 and targets and max(fuzz.ratio(w, t) for t in targets) >= ADDRESS_CUTOFF:
                    out.add(j)
        return out

    def _spans_with_slots(self, spans, slots) -> list:
        """The spans for which ``_span_has_slot`` holds for every slot, tested with arrays (a slot
        pattern such as <AGENT> alone matches nearly every word of the call; ``spans`` may be
        an (n, 2) array)."""
        if len(spans) == 0:
            return []
        se = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
        keep = np.ones(len(se), dtype=bool)
        for slot in slots:
            if slot in ("NAME", "AGENT"):
                orths = self._name_set() if slot == "NAME" else self._agent_orths()
                if not orths:
                    return []
                if self._orths is None:
                    self._orths = self.doc.to_array(ORTH)
                mask = _isin(self._orths, orths)
            elif slot == "PROPN":
                mask = np.zeros(len(self.doc), dtype=bool)
                for j in sorted({j for s, e in se[keep].tolist() for j in range(s, e)}):
                    mask[j] = self._propn(j)
            else:
                return []
            cs = np.concatenate(([0], np.cumsum(mask)))
            keep &= cs[se[:, 1]] > cs[se[:, 0]]
            if not keep.any():
                return []
        return [(s, e) for s, e in se[keep].tolist()]

    def _span_has_slot(self, slot: str, s: int, e: int) -> bool:
        if slot == "NAME":
            names = self._name_set()
            return any(self.doc[j].orth in names for j in range(s, e))
        if slot == "AGENT":
            agent = self._agent_orths()
            return bool(agent) and any(self.doc[j].orth in agent for j in range(s, e))
        if slot == "PROPN":
            return any(self._propn(j) for j in range(s, e))
        return False

    def _agent_orths(self) -> set[int]:
        """Word types of the call that are (close to) the agent's own name, from metadata."""
        if self._agent_set is None:
            self._agent_set = set()
            own = name_tokens(str(self.t.metadata.get("agent_name") or ""))
            if own and len(self.doc):
                self._agent_set = self._orths_matching(own, set(), None)
        return self._agent_set

    def _orths_matching(self, targets: tuple[str, ...], agent_own: set[str], nlp) -> set[int]:
        """Word types of the call for which ``_name_match(word, targets, agent_own, nlp)`` holds.
        A plain word can only match if, folded, it scores at least NAME_CUTOFF against a target
        (rapidfuzz ``cdist``, all the call's words at once): only those are tested one by one."""
        if self._types is None:
            if self._orths is None:
                self._orths = self.doc.to_array(ORTH)
            orths = np.unique(self._orths).tolist()
            kinds = _word_kinds(orths, self.nlp.vocab.strings)
            plain = [i for i, k in enumerate(kinds) if k]
            self._types = (orths, [i for i, k in enumerate(kinds) if k == ""], plain, [kinds[i] for i in plain])
        orths, other, plain, folded = self._types
        cand = list(other)
        fuzzy = [t for t in targets if t != "<PER>"]
        if plain and fuzzy:
            from rapidfuzz import fuzz, process

            best = process.cdist(folded, fuzzy, scorer=fuzz.ratio, score_cutoff=_PREFILTER_CUTOFF,
                                 dtype=np.float64).max(axis=1)
            cand += [plain[i] for i in np.flatnonzero(best >= _PREFILTER_CUTOFF).tolist()]
        strings = self.nlp.vocab.strings
        return {orths[i] for i in cand if _name_match(strings[orths[i]], targets, agent_own, nlp)}

    def _propn(self, j: int) -> bool:
        """A proper noun, roughly: a word the language's lemma table does not know (a company or a
        person's name), not a function word; or a capitalised word inside a sentence."""
        tok = self.doc[j]
        text = tok.text
        alpha = tok.is_alpha or _HYPHENATED.match(text) is not None  # "Jean-Luc"
        if not alpha or len(text) < 3 or text.lower() in self.nlp.stops:
            return False
        if tok.orth in self._name_set():
            return False  # the customer's name is not the agent presenting themself
        if self.nlp.known(text):
            return False
        if self._sentence_initial(j):
            return False  # first word of a sentence: "Okay", "Aha", fillers
        return text[:1].isupper()

    def name_mentions(self, by: str, w: R.Window) -> list[tuple[int, int]]:
        names = self._name_set()
        if not names and not self.customer_name:
            return []
        allowed = self.allowed(by, w)
        if self._orths is None:
            self._orths = self.doc.to_array(ORTH)
        pos = set(int(x) for x in np.nonzero(_isin(self._orths, names))[0]) if names else set()
        pos = sorted(pos | self._addressed())
        out = []
        prev = -10
        targets = name_tokens(self.customer_name) if self.customer_name else ()
        for j in pos:
            j = int(j)
            seg = int(self.tok_seg[j])
            tok = self.doc[j]
            if fold(tok.text) not in targets and self.nlp.known(tok.text) and self._sentence_initial(j):
                continue  # "Parlo con…" is not "Paolo"
            if tok.text == "<PER>" and not self._masked_address(j, seg):
                prev = j
                continue
            if seg in allowed and j != prev + 1:  # "Marco Rossi" is one mention
                out.append((seg, j))
            prev = j
        return out

    def _masked_address(self, j: int, seg: int) -> bool:
        """Is the masked name at token ``j`` said to the caller: after an honorific ("signora <PER>")
        or beside a word said to someone ("eccomi <PER>", "<PER> buongiorno"), in its own turn?"""
        doc = self.doc
        k = j
        while k - 1 >= 0 and doc[k - 1].text == "<PER>":
            k -= 1  # "<PER> <PER>": first and last name
        e = j
        while e + 1 < len(doc) and doc[e + 1].text == "<PER>":
            e += 1
        before = fold(doc[k - 1].text) if k > 0 and int(self.tok_seg[k - 1]) == seg else ""
        if before in ("qua", "qui") and k > 1 and int(self.tok_seg[k - 2]) == seg:
            before = fold(doc[k - 2].text)  # "eccomi qua <PER>"
        after = fold(doc[e + 1].text) if e + 1 < len(doc) and int(self.tok_seg[e + 1]) == seg else ""
        if before in HONORIFICS:
            # "per il signor <PER>", "della signora <PER>": someone spoken about, not to
            art = fold(doc[k - 2].text) if k > 1 and int(self.tok_seg[k - 2]) == seg else ""
            return art not in ARTICLES
        return before in VOCATIVES or after in VOCATIVES

    # ---- models ------------------------------------------------------------------------------
    def model_probs(self, name: str, label: str, segs: list[int]) -> list[float]:
        cache = self._model_cache
        need = [i for i in segs if (name, self.t.call_id, i) not in cache]
        if need:
            if self.defer_models:
                raise ModelsPending(name, need)
            from ..learning.learn import fast_predict_proba, load_model

            model = load_model(name)
            classes = [str(c) for c in model.classes_]
            probs = fast_predict_proba(model, [model_text(self.segs[i].text) for i in need])
            for i, row in zip(need, probs):
                cache[(name, self.t.call_id, i)] = {c: float(p) for c, p in zip(classes, row)}
        return [cache[(name, self.t.call_id, i)].get(label, 0.0) for i in segs]

    # ---- metadata, conditions, criteria -------------------------------------------------------
    def meta_value(self, key: str):
        if key == "language":
            return self.lang
        if key == "call_type":
            return self.call_type
        if key in self.meta_extra:
            return self.meta_extra[key]
        return self.t.metadata.get(key)

    def eval_condition(self, name: str, node: R.Node | None) -> R.Outcome:
        if name not in self._conds:
            self._conds[name] = node.evaluate(self) if node is not None else R.FALSE
        return self._conds[name]

    def eval_criterion(self, cid: str) -> tuple[str, list[int]]:
        if cid in self._crit:
            return self._crit[cid]
        crit = self.rubric.criterion(cid)
        if crit is None or cid in self._evaluating:
            return ("na", [])
        self._evaluating.add(cid)
        try:
            self._crit[cid] = evaluate_criterion(self, crit)[:2]
        finally:
            self._evaluating.discard(cid)
        return self._crit[cid]

    # ---- timing ------------------------------------------------------------------------------
    def overtalk(self, by: str, min_seconds: float) -> list[int]:
        out = []
        for i in range(1, len(self.segs)):
            s = self.segs[i]
            if not self.role_ok(i, by) or s.speaker == "unknown":
                continue
            for j in range(i - 1, max(-1, i - 4), -1):
                p = self.segs[j]
                if p.speaker != s.speaker and p.speaker != "unknown" and p.end - s.start >= min_seconds \
                        and s.start >= p.start:
                    out.append(i)
                    break
        return out

    def silences(self, min_seconds: float) -> list[int]:
        out = []
        end = self.t0
        for i, s in enumerate(self.segs):
            if s.start - end >= min_seconds:
                out.append(i)
            end = max(end, s.end)
        return out


def evaluate_criterion(ctx: CallContext, crit) -> tuple[str, list[int], float | None]:
    """(result, segments, confidence): for ``pass`` the evidence; for ``na`` the turns that show why
    the criterion does not apply, where its ``when`` is a negation whose condition holds (the
    return from hold that makes ``saluto`` not applicable); else none."""
    w = crit.when.evaluate(ctx)
    if not w.ok:
        return ("na", _na_witness(ctx, crit.when), None)
    o = crit.rule.evaluate(ctx)
    if o.ok and not o.segs:
        o = R.Outcome(True, w.segs, o.conf)
    return ("pass" if o.ok and o.segs else "fail", o.segs, o.conf)


def _na_witness(ctx: CallContext, when) -> list[int]:
    """The segments behind a ``when: {not: …}`` that failed: what the negated rule found."""
    if not isinstance(when, R.Not):
        return []
    inner = when.item.evaluate(ctx)  # conditions are cached: no second evaluation
    return list(inner.segs) if inner.ok else []


def _isin(arr, values):
    """``np.isin(arr, values)`` for a handful of word ids, by comparison (np.isin sorts)."""
    vals = list(values)
    if len(vals) > 32:
        return np.isin(arr, np.asarray(vals, dtype=arr.dtype))
    out = np.zeros(len(arr), dtype=bool)
    for v in vals:
        out |= arr == v
    return out


_HYPHENATED = re.compile(r"^[^\W\d_]+(?:-[^\W\d_]+)+$")
# everything but letters, digits, spaces, and apostrophes/hyphens inside a word
# [^\w\s'’-] | (?<!\w)[-'’] | [-'’](?!\w), written with the character first (the regex engine then
# skips ahead to the next candidate)
_MODEL_PUNCT = re.compile(r"[^\w\s](?:(?<=[^\w\s'’-])|(?<!\w.)|(?!\w))")


def model_text(text: str) -> str:
    """What a model condition sees of a turn: lower case, no punctuation, single spaces. ASR output
    comes with or without case and punctuation; neither may change a model's verdict."""
    return " ".join(_MODEL_PUNCT.sub(" ", text.lower()).split())


@lru_cache(maxsize=4096)
def name_tokens(name: str) -> tuple[str, ...]:
    out = []
    for w in name.replace("-", " ").replace(".", " ").replace("'", " ").replace("’", " ").split():
        f = fold(w)
        if f in HONORIFICS or (len(f) < 2 and w != "<PER>"):
            continue
        out.append(w if w == "<PER>" else f)
    return tuple(out)


_PREFILTER_CUTOFF = NAME_CUTOFF - 0.5  # below NAME_CUTOFF: float32/float64 rounding cannot drop a name


_WORD_KIND: dict[int, str | None] = {}  # word type (orth id) -> folded form; None: never a name;
_WORD_KIND_MAX = 200_000                 # "": left to _name_match


def _word_kind(w: str) -> str | None:
    if w == "<PER>" or ("-" in w.strip("-") and all(part.isalpha() for part in w.split("-"))):
        return ""
    if len(w) < 3 or not w.isalpha():
        return None
    return fold(w)


def _word_kinds(orths: list[int], strings) -> list[str | None]:
    """Per word type: its folded form for a plain word of 3+ letters (a name only if that form is
    close to a target); "" for <PER> and hyphenated words (always tested); None: never a name."""
    kinds = _WORD_KIND
    if len(kinds) > _WORD_KIND_MAX:
        kinds.clear()
    out = []
    for o in orths:
        k = kinds.get(o, 0)
        if k == 0:
            k = kinds[o] = _word_kind(strings[o])
        out.append(k)
    return out


def _name_match(word: str, targets: tuple[str, ...], agent_own: set[str], nlp=None) -> bool:
    if word == "<PER>":
        return "<PER>" in targets
    if "-" in word.strip("-") and all(part.isalpha() for part in word.split("-")):
        # hyphenated names ("Jean-Luc", "Anne-Sophie") stay one token: any part may match
        return any(_name_match(part, targets, agent_own, nlp) for part in word.split("-"))
    if len(word) < 3 or not word.isalpha():
        return False
    from rapidfuzz import fuzz

    f = fold(word)
    if f in targets:
        return True
    best = max((fuzz.ratio(f, t) for t in targets if t != "<PER>"), default=0.0)
    if best < NAME_CUTOFF:
        return False
    # a common word that merely looks like the name ("dossier" ~ "Rossier") only counts capitalised
    if nlp is not None and not word[:1].isupper() and nlp.known(word):
        return False
    if f in agent_own and f not in targets:
        return False
    # short names must be (almost) exact: "Rosi" ~ "Rossi" yes, "Ada" ~ "Ida" no
    if min(len(f), max(len(t) for t in targets)) <= 4 and best < 88:
        return False
    return True
