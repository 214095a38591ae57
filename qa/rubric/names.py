"""The customer's name: from metadata, else from the call. The patterns live in the rubric's
``names:`` section (``introduction``: the customer says their name, "mi chiamo <NAME>";
``mention``: weaker cues such as "sono <NAME>" or "<NAME> speaking", where only a capitalised,
name-like word counts; ``address``: the agent uses an honorific, "signora <NAME>")."""

from __future__ import annotations

import re

from ..config import LANGUAGES
from ..constants import LANGS
from ..langdata import language_data, names_words
from .callnames import HONORIFICS, lower_case_text, name_tokens
from .nlp import CLAUSE_PUNCT, fold, get_nlp

_DEFAULT_RUBRIC = "comune"
# Hesitations and interjections that ASR writes as words and the lemma tables lack ("oui bonjour
# euh j'ai plus internet", "buongiorno sì volevo…"): never a name, though no dictionary knows them.
# hesitations and short answers that are never a name, per language (rubriche/lingue, names.fillers)
NOT_NAMES = {lang: frozenset(language_data(lang).names.fillers) for lang in LANGS}
# (names key, whose turns, how strict the captured word must be)
_TIERS = (("introduction", "customer", "any"), ("address", "agent", "address"), ("mention", "customer", "strict"))


def _rubric_with_names(rubric=None):
    from .loader import load_rubric

    if rubric is not None and getattr(rubric, "names", None):
        return rubric
    return load_rubric(_DEFAULT_RUBRIC)


def _is_name_word(tok, nlp, mode: str, sentence_initial: bool) -> bool:
    """mode "any": any word that is not a function word or honorific (after "mi chiamo");
    "address": also, in lower case, not a common word ("signora, buona giornata");
    "strict": capitalised, and not a common word opening a sentence ("Allô", "Perfetto")."""
    text = tok.text
    if text == "<PER>":
        return True  # a masked name is a name the caller gave (CRITERIA.md, "Masked names")
    if not tok.is_alpha or len(text) < 2:
        return False
    low = text.lower()
    if low in nlp.stops or fold(low) in HONORIFICS or low in NOT_NAMES.get(getattr(nlp, "lang", ""), ()):
        return False
    if mode == "any":
        return True
    if mode == "address":
        return text[:1].isupper() or not nlp.known(text)
    if not text[:1].isupper():
        return False
    return not (sentence_initial and nlp.known(low))


def _capture(doc, start: int, nlp, mode: str, original: str) -> str | None:
    """The name at ``start`` plus up to two following name words of the same clause."""
    tok = doc[start]
    initial = nlp.sentence_initial(doc, start, original)
    offs = doc.user_data.get("offsets")
    if not _is_name_word(tok, nlp, mode, initial):
        return None
    words = [tok.text]
    lower_ok = not tok.text[:1].isupper()  # lower-case transcripts (ASR): take lower-case surnames too
    j = start + 1
    while j < len(doc) and j <= start + 2:
        nxt = doc[j]
        if nxt.is_space:
            break
        a, b = doc[j - 1].idx + len(doc[j - 1].text), nxt.idx
        if offs is not None:
            a, b = int(offs[a - 1]) + 1, int(offs[b])
        if CLAUSE_PUNCT.search(original[a:b]):
            break
        if not nxt.is_alpha or not (nxt.text[:1].isupper() or lower_ok) or not _is_name_word(nxt, nlp, "any", False):
            break
        if mode != "any" and not nxt.text[:1].isupper() and nlp.known(nxt.text):
            break  # after a weak cue, a lower-case continuation must be a surname, not a common word
        words.append(nxt.text)
        j += 1
    return " ".join(words)


def find_name_in_call(transcript, lang: str, rubric=None) -> str | None:
    """The customer's name as said in the call, or None. Tries the ``names:`` patterns of ``rubric``
    (default the ``comune`` rubric) tier by tier: the customer introducing themselves, the agent
    addressing them, the customer's weaker mentions; a name equal to the agent's own (metadata
    ``agent_name``) is skipped. Then masked names (``<PER>``) and, in lower-case transcripts, two cues
    agreeing."""
    rub = _rubric_with_names(rubric)
    if lang not in LANGUAGES:
        lang = "it"
    nlp = get_nlp(lang)
    lm = rub._compiled["matchers"][lang]
    docs = {}
    loose: dict[str, list] = {}
    agent_own = set(name_tokens(str((transcript.metadata or {}).get("agent_name") or "")))
    agent_own |= _agent_introduced(transcript, rub, lm, nlp, docs)
    for kind, role, strictness in _TIERS:
        key = rub.names.get(kind)
        if key is None:
            continue
        prefix = key + "#name#"
        for si, seg in enumerate(transcript.segments):
            if seg.speaker not in (role, "unknown") or not seg.text:
                continue
            if si not in docs:
                docs[si] = nlp.make_doc(seg.text)
            doc = docs[si]
            found = [(s, e, k) for k, spans in lm(doc).items() if k.startswith(prefix) for s, e in spans]
            for s, e, k in sorted(found):
                slot = lm.slots.get(k)
                pos = s + slot if slot is not None else e - 1
                if pos >= e:
                    continue
                name = _capture(doc, pos, nlp, strictness, seg.text)
                if name and not (agent_own and set(name_tokens(name)) <= agent_own):
                    return name
                if kind in ("address", "mention"):
                    loose.setdefault(kind, []).append(_capture(doc, pos, nlp, "any", seg.text))
                    loose.setdefault(kind + "_at", []).append((si, pos))
                    if kind == "mention" and pos > s:
                        loose.setdefault("self", []).append(loose[kind][-1])
    return (_masked_fallback(transcript) or _lowercase_fallback(transcript, loose, agent_own, nlp)
            or _address_said_capitalised(transcript, loose, agent_own) or _address_repeated(loose, agent_own, nlp))


def _after_honorific(doc, pos: int, phrase_start: int | None = None) -> bool:
    """Does an honorific stand right before ``doc[pos]`` ("Herr Brunner"): a name the agent addresses.
    Not when the honorific is a word of the matched phrase itself (from ``phrase_start``: "Sie sprechen
    mit Frau Aebi", "je suis madame Petit"), a self-introduction with a title."""
    j = pos - 1
    while j >= 0 and (doc[j].is_punct or doc[j].is_space):
        j -= 1
    if phrase_start is not None and j >= phrase_start:
        return False
    return j >= 0 and fold(doc[j].text.lower().rstrip(".")) in HONORIFICS


def _self_introduction_words(matches: dict, keys: tuple[str, ...], lm, doc, nlp, text: str, keep) -> set[str]:
    """Name words of the ``introduction`` / ``mention`` matches (``keys``: their match-key prefixes) in
    ``matches`` whose span ``keep(s, e)`` accepts: a name after an honorific ("Guten Tag, Herr
    Brunner") is one addressed, not one introduced; a masked name is left alone."""
    own: set[str] = set()
    for k, spans in matches.items():
        if not k.startswith(keys):
            continue
        slot = lm.slots.get(k)
        for s, e in spans:
            pos = s + slot if slot is not None else e - 1
            if pos < e and keep(s, e) and not _after_honorific(doc, pos, s):
                name = _capture(doc, pos, nlp, "strict", text)
                if name and "<PER>" not in name:
                    own |= set(name_tokens(name))
    return own


def _introduction_keys(rub) -> tuple[str, ...]:
    return tuple(rub.names[k] + "#name#" for k in ("introduction", "mention") if rub.names.get(k))


def _agent_introduced(transcript, rub, lm, nlp, docs: dict, first_turns: int = 3) -> set[str]:
    """Name words the agent introduced themselves with in their first turns ("this is Priya
    speaking", "sono Marco"): the agent's own name, which a caller greeting back ("hi Priya") must
    not make the caller's. Only segments known to be the agent's (a labelled or stereo call); a
    masked name (``<PER>``) is left alone, since a caller's mask looks the same."""
    own: set[str] = set()
    keys = _introduction_keys(rub)
    agent_segs = [si for si, seg in enumerate(transcript.segments) if seg.speaker == "agent" and seg.text]
    for si in agent_segs[:first_turns]:
        if si not in docs:
            docs[si] = nlp.make_doc(transcript.segments[si].text)
        doc = docs[si]
        own |= _self_introduction_words(lm(doc), keys, lm, doc, nlp, transcript.segments[si].text, lambda s, e: True)
    return own


# Words that may stand beside a masked name in a turn that only gives the name ("sì <PER> <PER>",
# "allora è <PER>", "<PER> tutto attaccato" is not one).
_NAME_ANSWER_FILLERS = names_words("name_answer_words")


_CONFIRMS = names_words("confirmations")


def _masked_fallback(transcript) -> str | None:
    """A name masked in the transcript (``<PER>``, as real-call corpora anonymise them) is known when
    the caller gives it on its own (a turn that is only the name: the answer to "il suo nome?") or
    when the agent addresses the caller by it ("signora <PER>", "eccomi qua <PER>") (CRITERIA.md,
    "Masked names")."""
    from .callnames import ARTICLES, HONORIFICS, VOCATIVES

    first_agent = next((i for i, sg in enumerate(transcript.segments) if sg.speaker == "agent"), -1)
    for si, seg in enumerate(transcript.segments):
        words = [fold(w) if w != "<PER>" else w for w in seg.text.replace(",", " ").replace(".", " ").split()]
        if "<PER>" not in words:
            continue
        if seg.speaker in ("customer", "unknown") and all(w == "<PER>" or w in _NAME_ANSWER_FILLERS for w in words):
            return "<PER>"
        if seg.speaker in ("agent", "unknown"):
            for i, w in enumerate(words):
                if w != "<PER>":
                    continue
                k = i
                while k > 0 and words[k - 1] == "<PER>":
                    k -= 1
                e = i
                while e + 1 < len(words) and words[e + 1] == "<PER>":
                    e += 1
                before = words[k - 1] if k > 0 else ""
                if before in ("qua", "qui") and k > 1:
                    before = words[k - 2]  # "eccomi qua <PER>"
                after = words[e + 1] if e + 1 < len(words) else ""
                if before in HONORIFICS and (words[k - 2] if k > 1 else "") in ARTICLES:
                    continue  # "per il signor <PER>": someone spoken about
                if si == first_agent and after in VOCATIVES and before not in HONORIFICS and before not in VOCATIVES:
                    continue  # the opening "energia <PER> buongiorno": the company's name, not the caller's
                if before in HONORIFICS or before in VOCATIVES or after in VOCATIVES or after in _CONFIRMS:
                    return "<PER>"  # addressed, or confirmed back ("<PER> <PER> giusto?"): known
    return None


def _lowercase_fallback(transcript, loose: dict, agent_own: set, nlp=None) -> str | None:
    """In a transcript without capital letters (ASR output), a surname that is also a common word
    ("signor ferri", "sono davide ferri") is taken only when two cues agree: the customer says it
    ("sono …") and the agent addresses them by it ("signor …"). Case must not change the result."""
    # (masks such as <PER>, <NUM> are no capital letters of the recogniser)
    if not lower_case_text(transcript.segments):
        return None
    said = {fold(w) for name in loose.get("mention", []) if name for w in name_tokens(name)}
    for name in loose.get("address", []):
        if not name:
            continue
        first = name_tokens(name)[:1]
        if first and first[0] in said and first[0] not in agent_own:
            return name.split()[0]
    # or the caller answers a name question with the name first ("colombo anna", "martin sophie le
    # vingt-trois août") and the agent then addresses them by it ("signora colombo", "merci madame
    # martin"): the answer and the address agree, even for a surname that is also a common word
    answered = _answer_words(transcript, nlp)
    for name in loose.get("address", []):
        first = name_tokens(name)[:1] if name else []
        if first and first[0] in answered and first[0] not in agent_own:
            return name.split()[0]
    # or the customer introduces themself with a name no dictionary knows ("sono carla marchetti";
    # not "sono contento"). Only a name that follows its cue: without capitals, the word before
    # "bonjour" says nothing ("oui bonjour"). Without punctuation nothing marks where the name ends
    # ("bonjour bernard keller écoutez je suis…"): it runs up to the first word the dictionary knows.
    for name in loose.get("self", []):
        toks = name.split() if name else []
        if nlp is None:
            break
        lead = []
        for w in toks:
            if nlp.known(w):
                break
            lead.append(w)
        if lead and not set(name_tokens(" ".join(lead))) <= agent_own:
            return " ".join(lead)
    return None


def _address_said_capitalised(transcript, loose: dict, agent_own: set) -> str | None:
    """In a transcript with capitals, a surname that is also a common word is written in lower case
    after the honorific by Whisper ("signora gatti") but capitalised where the caller gave it ("Lucia
    Gatti, nata il…"): the address counts when the caller's turns have the word capitalised inside a
    sentence."""
    for name in loose.get("address", []):
        first = name.split()[0] if name else ""
        if len(first) < 3 or not first.isalpha() or not first.islower() or fold(first) in agent_own:
            continue
        cap = re.compile(r"(?<![.!?]\s)(?<!^)\b" + re.escape(first[:1].upper() + first[1:]) + r"\b")
        if any(seg.speaker in ("customer", "unknown") and cap.search(seg.text.strip()) for seg in transcript.segments):
            return first
    return None


# words said after an honorific that are no surname ("signora buona giornata", "Frau liebe")
_NOT_SURNAMES = frozenset(fold(w) for w in names_words("not_surnames"))


def _address_repeated(loose: dict, agent_own: set, nlp) -> str | None:
    """The agent addresses the caller by the same surname twice or more ("danke frau weber" ... "gern
    geschehen frau weber", "parlo con il signor bassi" ... "capisco signor bassi"): the name is known from
    the conversation even when the caller gave it before the recording began or in a form no pattern
    reads (CRITERIA.md: the name may come "from the conversation"). A word the language's stop list
    knows ("signora mia") is never a name."""
    seen: dict[str, set] = {}
    for name, at in zip(loose.get("address", []), loose.get("address_at", [])):
        first = name_tokens(name)[:1] if name else []
        if not first:
            continue
        w = first[0]
        if (len(w) < 3 or not w.isalpha() or w in agent_own or w in _NOT_SURNAMES
                or (nlp is not None and w in nlp.stops)):
            continue
        seen.setdefault(w, set()).add(at)  # two patterns matching the same words are one address
        if len(seen[w]) >= 2:
            return name.split()[0]
    return None


def _answer_words(transcript, nlp=None) -> set[str]:
    """The first words of the caller's short turns that answer an agent turn in the first part of the
    call (a name given on its own: "colombo anna", "sarah whitfield", "martin sophie le 23 août"),
    folded; greetings, thanks, fillers and function words are never taken."""
    from .callnames import HONORIFICS, VOCATIVES

    segs = transcript.segments
    out: set[str] = set()
    for i, seg in enumerate(segs[: max(2, (len(segs) * 3) // 5)]):
        if i == 0 or seg.speaker not in ("customer", "unknown") or segs[i - 1].speaker != "agent":
            continue
        words = [fold(w) for w in seg.text.replace(",", " ").replace(".", " ").split()]
        if not words or len(words) > 8:
            continue
        for w in words[:2]:
            if (len(w) < 3 or not w.isalpha() or w in VOCATIVES or w in HONORIFICS or w in _CONFIRMS
                    or w in _NAME_ANSWER_FILLERS or any(w in f for f in NOT_NAMES.values())
                    or (nlp is not None and w in nlp.stops)):
                break
            out.add(w)
    return out


def find_customer_name(transcript, rubric=None, lang: str | None = None) -> str | None:
    """The customer's name: metadata ``customer_name``, else as said in the call; None if unknown."""
    name = (transcript.metadata or {}).get("customer_name")
    if isinstance(name, str) and name.strip():
        return " ".join(name.split())
    if lang is None:
        from .infer import infer_language

        lang = transcript.language if transcript.language in LANGUAGES else infer_language(transcript)
    return find_name_in_call(transcript, lang, rubric)


def _agent_introduced_in_context(ctx, rub, lm, first_turns: int = 3) -> set[str]:
    """``_agent_introduced`` from a scored call's own matches."""
    agent_segs = set([i for i, sp in enumerate(ctx.speakers) if sp == "agent"][:first_turns])
    if not agent_segs:
        return set()

    def in_one_agent_segment(s: int, e: int) -> bool:
        seg = int(ctx.tok_seg[s])
        return seg in agent_segs and int(ctx.tok_seg[e - 1]) == seg

    return _self_introduction_words(ctx._matches, _introduction_keys(rub), lm, ctx.doc, ctx.nlp, ctx.text,
                                    in_one_agent_segment)


def name_from_context(ctx) -> str | None:
    """The customer's name from a scored call's own matches (one Matcher pass for everything)."""
    rub = ctx.rubric
    if not rub.names:
        return find_name_in_call(ctx.t, ctx.lang, None)
    lm = rub._compiled["matchers"][ctx.lang]
    agent_own = set(name_tokens(str((ctx.t.metadata or {}).get("agent_name") or "")))
    doc = ctx.doc
    agent_own |= _agent_introduced_in_context(ctx, rub, lm)
    loose: dict[str, list] = {}
    for kind, role, strictness in _TIERS:
        key = rub.names.get(kind)
        if key is None:
            continue
        prefix = key + "#name#"
        found = [(s, e, k) for k, spans in ctx._matches.items() if k.startswith(prefix) for s, e in spans]
        joins = getattr(ctx, "_joins", ())
        for s, e, k in sorted(found):
            seg = int(ctx.tok_seg[s])
            last = int(ctx.tok_seg[e - 1])
            if (last != seg and not (seg in joins and last == seg + 1)) or ctx.speakers[seg] not in (role, "unknown"):
                continue  # across two segments, but for a sentence the recogniser cut ("sono" | "Paolo Ferri")
            slot = lm.slots.get(k)
            pos = s + slot if slot is not None else e - 1
            if last != seg:
                pos += sum(1 for j in range(s, min(pos, e - 1) + 1) if doc[j].is_space)  # the line break of the cut
            if pos >= e:
                continue
            name = _capture(doc, pos, ctx.nlp, strictness, ctx.text)
            if name and not (agent_own and set(name_tokens(name)) <= agent_own):
                return name
            if kind in ("address", "mention"):
                loose.setdefault(kind, []).append(_capture(doc, pos, ctx.nlp, "any", ctx.text))
                loose.setdefault(kind + "_at", []).append((seg, pos))
                if kind == "mention" and pos > s:
                    loose.setdefault("self", []).append(loose[kind][-1])
    return (_masked_fallback(ctx.t) or _lowercase_fallback(ctx.t, loose, agent_own, ctx.nlp)
            or _address_said_capitalised(ctx.t, loose, agent_own) or _address_repeated(loose, agent_own, ctx.nlp))
