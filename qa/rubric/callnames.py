"""The customer's and the agent's names in one call: which words of the call are (close to) a name
(``name_tokens``, fuzzy matching with rapidfuzz), where the agent addresses the customer by name
(``CallNames.name_mentions``), and the <NAME>, <AGENT> and <PROPN> slots of phrase matches.

``CallNames`` is the part of ``qa.rubric.context.CallContext`` that does this; it reads the call's
``doc``, ``text``, ``nlp``, ``t`` (transcript), ``customer_name``, ``rubric``, ``lang``, token maps
and match results, which ``CallContext.__init__`` sets."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
from spacy.attrs import ORTH

from ..langdata import names_words
from . import rules as R
from .nlp import fold

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
HERE_WORDS = names_words("here_words")  # "eccomi qua <PER>": skipped between a vocative and the name
SPEAKING_WITH = names_words("speaking_with")  # "parlo con" (+ article + title + <PER>): said to the caller
INTERJECTIONS = frozenset(fold(w) for w in names_words("interjections"))  # never a company name


def isin(arr, values):
    """``np.isin(arr, values)`` for a handful of word ids, by comparison (np.isin sorts)."""
    vals = list(values)
    if len(vals) > 32:
        return np.isin(arr, np.asarray(vals, dtype=arr.dtype))
    out = np.zeros(len(arr), dtype=bool)
    for v in vals:
        out |= arr == v
    return out


_HYPHENATED = re.compile(r"^[^\W\d_]+(?:-[^\W\d_]+)+$")
_MASKS = re.compile(r"<[A-Z_]+>")  # <PER>, <NUM>, <ORG>: anonymisation masks, no capitals of the speech


def lower_case_text(segments) -> bool:
    """No capital letter anywhere in the segments' text, masks such as <PER> left out: ASR output."""
    return not any(ch.isupper() for seg in segments for ch in _MASKS.sub(" ", seg.text))
PROPN_MIN_LOWER = 4  # in a lower-case call, an unknown word this long may be a company or a person's name


@lru_cache(maxsize=4096)
def name_tokens(name: str) -> tuple[str, ...]:
    """The words of a name to look for in a call: folded, without honorifics and initials; a masked
    name ("<PER>") kept as it is."""
    out = []
    for w in name.replace("-", " ").replace(".", " ").replace("'", " ").replace("’", " ").split():
        f = fold(w)
        if f in HONORIFICS or (len(f) < 2 and w != "<PER>"):
            continue
        out.append(w if w == "<PER>" else f)
    return tuple(out)


# How a name sounds, roughly, for the spellings a recogniser gives one name in different turns
# ("Tom" / "Thom", "Clarke" / "Clark", "Meier" / "Mayer", "Schmid" / "Schmidt", "Moreau" / "Morot"):
# folded, then letters that sound alike in it/de/fr/en merged, doubled letters and mute endings dropped.
_SOUND_RULES = (("eau", "o"), ("ph", "f"), ("th", "t"), ("dt", "t"), ("ck", "k"), ("qu", "k"), ("q", "k"),
                ("y", "i"), ("ey", "ai"), ("ei", "ai"), ("ay", "ai"), ("w", "v"), ("tz", "z"))
_SOUND_CACHE: dict[str, str] = {}
_MUTE_H = re.compile(r"(?<=[^csg])h")
_HARD_C = re.compile(r"c(?=[aou])")
_DOUBLED = re.compile(r"(.)\1+")
_MUTE_END = re.compile(r"(?<=.{3})(?:e|es|s|t|d|x|z)$")


def name_sound(word: str) -> str:
    """A rough phonetic key of a folded name word (see ``_SOUND_RULES``); two spellings of one name
    by the recogniser share it. Words under three letters have none ("")."""
    got = _SOUND_CACHE.get(word)
    if got is not None:
        return got
    k = word
    for a, b in _SOUND_RULES:
        if a in k:
            k = k.replace(a, b)
    k = _MUTE_H.sub("", k)         # mute h, but sh / ch / gh
    k = _HARD_C.sub("k", k)        # hard c
    k = _DOUBLED.sub(r"\1", k)     # doubled letters
    k = _MUTE_END.sub("", k)       # mute endings: Clarke, Morot, Schmidt
    out = k if len(word) >= 3 and len(k) >= 2 else ""
    if len(_SOUND_CACHE) < 50_000:
        _SOUND_CACHE[word] = out
    return out


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


_HONORIFIC_HEAD = None


def _honorific_rest(f: str) -> str:
    """What follows an honorific that Whisper wrote as one word with the name ("herweber" for
    "Herr Weber", "signorferri"), at least three letters; "" for any other word."""
    global _HONORIFIC_HEAD
    if _HONORIFIC_HEAD is None:
        heads = {h for h in HONORIFICS if len(h) >= 2} | {_DOUBLED.sub(r"\1", h) for h in HONORIFICS if len(h) >= 3}
        _HONORIFIC_HEAD = re.compile("^(?:" + "|".join(sorted(map(re.escape, heads), key=len, reverse=True))
                                     + ")(?=[a-z]{3})")
    m = _HONORIFIC_HEAD.match(f)
    return f[m.end():] if m else ""


def _name_match(word: str, targets: tuple[str, ...], agent_own: set[str], nlp=None, sound: bool = True) -> bool:
    if word == "<PER>":
        return "<PER>" in targets
    if "-" in word.strip("-") and all(part.isalpha() for part in word.split("-")):
        # hyphenated names ("Jean-Luc", "Anne-Sophie") stay one token: any part may match
        return any(_name_match(part, targets, agent_own, nlp, sound) for part in word.split("-"))
    if len(word) < 3 or not word.isalpha():
        return False
    from rapidfuzz import fuzz

    f = fold(word)
    if f in targets:
        return True
    rest = _honorific_rest(f)
    if rest and rest not in agent_own and _name_match(rest, targets, agent_own, None, sound):
        return True  # "herweber": the honorific and the name run together by the recogniser
    best = max((fuzz.ratio(f, t) for t in targets if t != "<PER>"), default=0.0)
    key = name_sound(f) if sound else ""
    same_sound = bool(key) and any(name_sound(t) == key for t in targets if t != "<PER>")
    if best < NAME_CUTOFF and not same_sound:
        return False
    # a common word that merely looks like the name ("dossier" ~ "Rossier") only counts capitalised
    if nlp is not None and not word[:1].isupper() and nlp.known(word):
        return False
    if f in agent_own and f not in targets:
        return False
    # short names must be (almost) exact: "Rosi" ~ "Rossi" yes, "Ada" ~ "Ida" no
    if min(len(f), max(len(t) for t in targets)) <= 4 and best < 88 and not same_sound:
        return False
    return True


class CallNames:
    """Names in one call, as part of ``CallContext``: the customer's name (from metadata) found in the
    words of the call, the agent's own name, proper nouns, and the mentions that address the caller."""

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
                mask = isin(self._orths, orths)
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
                # spelling only: the sound of the agent's own name would take common words for it
                # ("luce" sounds like "Luc": "il contratto della luce" is no presentation)
                self._agent_set = self._orths_matching(own, set(), None, sound=False)
        return self._agent_set

    def _orths_matching(self, targets: tuple[str, ...], agent_own: set[str], nlp, sound: bool = True) -> set[int]:
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
            # or spelt otherwise but sounding the same ("Thom" for Tom, "Morot" for Moreau)
            # or an honorific and the name run together ("herweber")
            cand += [plain[i] for i, f in enumerate(folded) if best[i] < _PREFILTER_CUTOFF and _honorific_rest(f)]
            sounds = ({name_sound(t) for t in fuzzy} - {""}) if sound else set()
            if sounds:
                lo, hi = min(len(t) for t in fuzzy) - 3, max(len(t) for t in fuzzy) + 3
                cand += [plain[i] for i, f in enumerate(folded) if lo <= len(f) <= hi
                         and best[i] < _PREFILTER_CUTOFF and name_sound(f) in sounds]
        strings = self.nlp.vocab.strings
        return {orths[i] for i in cand if _name_match(strings[orths[i]], targets, agent_own, nlp, sound)}

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
        if self._lower_case_call():
            # a recogniser's lower-case transcript has no capitals to go by: in the agent's opening
            # segment, a longer word that neither the lemma table nor the rubrics' phrases know is
            # taken ("swisslink guten tag"); fillers ("ähm"), greetings ("buonasera") and words the
            # tables lack elsewhere ("je suis vraiment désolé") are not
            low = text.lower()
            return (len(text) >= PROPN_MIN_LOWER and text.isalpha() and fold(low) not in INTERJECTIONS
                    and int(self.tok_seg[j]) == self._first_agent_segment()
                    and not self.nlp.rubric_word(low) and tok.norm_ == low)
        if self._sentence_initial(j):
            return False  # first word of a sentence: "Okay", "Aha", fillers
        return text[:1].isupper()

    def _first_agent_segment(self) -> int:
        """Index of the call's first segment said by the agent (-1: none), computed once per call."""
        if self._first_agent is None:
            self._first_agent = next((i for i, sp in enumerate(self.speakers) if sp == "agent"), -1)
        return self._first_agent

    def _lower_case_call(self) -> bool:
        """No capital letter anywhere in the call's text (masks such as <PER> left out): ASR output."""
        if self._lower is None:
            self._lower = lower_case_text(self.segs)
        return self._lower

    def name_mentions(self, by: str, w: R.Window) -> list[tuple[int, int]]:
        """(segment, token) of each time the customer's name (or a masked name said to the caller) is
        said in window ``w`` by ``by``; a first and last name said together count once."""
        names = self._name_set()
        if not names and not self.customer_name:
            return []
        allowed = self.allowed(by, w)
        if self._orths is None:
            self._orths = self.doc.to_array(ORTH)
        pos = set(int(x) for x in np.nonzero(isin(self._orths, names))[0]) if names else set()
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
        if before in HERE_WORDS and k > 1 and int(self.tok_seg[k - 2]) == seg:
            before = fold(doc[k - 2].text)  # "eccomi qua <PER>"
        after = fold(doc[e + 1].text) if e + 1 < len(doc) and int(self.tok_seg[e + 1]) == seg else ""
        if before in HONORIFICS:
            # "per il signor <PER>", "della signora <PER>": someone spoken about, not to
            art = fold(doc[k - 2].text) if k > 1 and int(self.tok_seg[k - 2]) == seg else ""
            if art in ARTICLES and k > 3 and int(self.tok_seg[k - 4]) == seg:
                # "parlo con il signor <PER>?": the agent asks the person on the line whether they are
                # that customer (an outbound call's opening), which is said to them
                return f"{fold(doc[k - 4].text)} {fold(doc[k - 3].text)}" in SPEAKING_WITH
            return art not in ARTICLES
        return before in VOCATIVES or after in VOCATIVES
