"""The rubric's token patterns are matched only around their anchors (qa/rubric/patterns.py,
AnchoredMatcher): it must find exactly what spaCy's own Matcher finds over the whole call, for every
phrase of every rubric in every language, on real calls and on their lower-case, unpunctuated
(ASR-like) forms, and on phrases written to hit the edges (gaps, optional words, slots, prefixes,
anchors at the very start and end of a call, anchors close together)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa.config import LANGUAGES
from qa.model import Transcript
from qa.rubric import list_rubrics, load_rubric
from qa.rubric.nlp import get_nlp
from qa.rubric.patterns import LangMatcher
from qa.rubric.phrase import compile_phrase

ROOT = Path(__file__).resolve().parents[1]


def _spacy(lm: LangMatcher, doc) -> list[tuple[str, int, int]]:
    strings = lm.nlp.vocab.strings
    return sorted((strings[m], s, e) for m, s, e in lm.matcher(doc)) if len(lm.matcher) else []


def _fast(lm: LangMatcher, doc) -> list[tuple[str, int, int]]:
    lm(doc)  # builds the anchored matcher
    got = lm._fast(doc) if lm._fast is not None else {}
    flat = [(k, s, e) for k, spans in got.items() for s, e in spans]
    assert len(flat) == len(set(flat)), "a match reported twice"
    return sorted(flat)


def _texts(lang: str) -> list[str]:
    files = sorted((ROOT / "tests" / "data" / "devset").glob(f"dev-{lang}-*.json"))
    files += sorted((ROOT / "samples" / "transcripts").glob("*.json"))
    out = []
    for f in files:
        t = Transcript.load(f)
        text = "\n".join(s.text for s in t.segments)
        out += [text, text.lower(), re.sub(r"[^\w\s']", " ", text.lower())]
    return out


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_rubric_phrase_same_matches_as_spacy(lang):
    nlp = get_nlp(lang)
    docs = [nlp.make_doc(t) for t in _texts(lang)]
    compared = 0
    for name in sorted(set(list_rubrics()) | {"comune"}):
        lm = load_rubric(name)._compiled["matchers"][lang]
        for doc in docs:
            assert _fast(lm, doc) == _spacy(lm, doc), (name, lang, doc.text[:80])
            compared += 1
    assert compared > 50


EDGE_PHRASES = {
    "it": ["mi chiamo <NAME>", "sono <AGENT>", "<PROPN> <AGENT>", "buongiorno ... <AGENT>", "(la) ringrazio",
           "[grazie|ringrazio] (molto) ... chiamata", "=Grazie", "arrabbiat*", "le * ... inviato",
           "<NUM> euro", "posso ... aiutar*", "ho capito ... (bene)", "(signor) <NAME>", "a ... b ... c"],
    "en": ["my name is <NAME>", "this is <AGENT>", "thank you ... (for) calling", "is there * else",
           "[sorry|apologise] ... inconvenience", "upset*", "<NUM> pounds", "(mr) <NAME>"],
}
EDGE_TEXTS = {
    "it": ["buongiorno", "Grazie", "buongiorno sono Marco Rossi di Telefonia, posso aiutarla",
           "grazie grazie molto grazie della chiamata chiamata", "a b c a b c a x x x x b y c",
           "le abbiamo inviato le ho inviato ieri le * inviato", "arrabbiato arrabbiatissima Arrabbiata",
           "ho capito bene ho capito", "mi chiamo\nmi chiamo Anna", "cinque euro 12 euro",
           "Signor Bianchi, la ringrazio, signor bianchi", ""],
    "en": ["this is Jean-Luc from Acme", "thank you for calling thank you calling", "is there anything else",
           "sorry for the inconvenience, I apologise for any inconvenience", "Upset upsetting", "my name is",
           "five pounds 3 pounds", "Mr Smith mr smith"],
}


@pytest.mark.parametrize("lang", ["it", "en"])
def test_edge_phrases_same_matches_as_spacy(lang):
    nlp = get_nlp(lang)
    lm = LangMatcher(nlp)
    phrases = [compile_phrase(nlp, p) for p in EDGE_PHRASES[lang]]
    lm.add("edge", phrases)
    lm.add_separately("names", [compile_phrase(nlp, p) for p in EDGE_PHRASES[lang] if "<NAME>" in p])
    texts = EDGE_TEXTS[lang] + [" ".join(EDGE_TEXTS[lang]), "\n".join(EDGE_TEXTS[lang] * 3)]
    found = 0
    for text in texts:
        doc = nlp.make_doc(text)
        want = _spacy(lm, doc)
        assert _fast(lm, doc) == want, text
        found += len(want)
    assert found > 20


@pytest.mark.parametrize("lang", LANGUAGES)
def test_tokens_same_as_a_fresh_tokenizer(lang):
    """LangNLP fills spaCy's tokenizer cache chunk by chunk (nlp.py, _warm_cache): the tokens of
    every call must be those a fresh tokenizer that never saw a call gives."""
    from qa.rubric.nlp import LangNLP, clean_with_offsets

    nlp = get_nlp(lang)
    fresh = LangNLP(lang).nlp.tokenizer
    texts = _texts(lang) + ["<NUM> euro, <PER> <PER>; c'è l'ho po' U.S.A. e-mail: mario@example.com 3.5 %"]
    docs = list(nlp.pipe(texts)) + [nlp.make_doc(t) for t in texts[:5]]
    for text, doc in zip(texts + texts[:5], docs):
        want = fresh(clean_with_offsets(text)[0])
        assert [(t.text, t.whitespace_, t.idx) for t in doc] == [(t.text, t.whitespace_, t.idx) for t in want]


def test_name_word_types_same_as_testing_every_word():
    """The customer's and the agent's name are looked for among the call's word types with a
    rapidfuzz prefilter (context.py, _orths_matching): the same word types as ``_name_match`` over
    every word, for the calls' own names and for misspelt, hyphenated, masked and short ones."""
    import numpy as np
    from spacy.attrs import ORTH

    from qa.pipeline import prepare
    from qa.rubric import engine as E
    from qa.rubric.callnames import _name_match, name_tokens

    calls = [Transcript.load(f) for f in sorted((ROOT / "tests" / "data" / "devset").glob("dev-*.json"))]
    prepared = prepare(calls)
    names = [None, "Rosi", "Bernard Keller", "Jean-Luc Meyer", "<PER>", "Ada", "Müller", "Anne-Sophie"]
    found = 0
    for k, (call, d) in enumerate(zip(prepared, E._tokenise(prepared))):
        t = call.transcript
        ctx = E._context(call, *d)
        if k % 2:
            ctx.customer_name = names[k % len(names)] or ctx.customer_name
        strings = ctx.nlp.vocab.strings
        words = [(int(o), strings[int(o)]) for o in np.unique(ctx.doc.to_array(ORTH))]
        if ctx.customer_name:
            targets = name_tokens(ctx.customer_name)
            own = set(name_tokens(str(t.metadata.get("agent_name") or "")))
            want = {o for o, w in words if _name_match(w, targets, own, ctx.nlp)}
            assert ctx._name_set() == want, (t.call_id, ctx.customer_name)
            found += len(want)
        own_t = name_tokens(str(t.metadata.get("agent_name") or ""))
        if own_t:
            assert ctx._agent_orths() == {o for o, w in words if _name_match(w, own_t, set())}, t.call_id
    assert found > 30


def _random_strings(chars: str, max_len: int, seed: int, n: int = 20000) -> list[str]:
    """``n`` strings of 0..``max_len`` characters drawn from ``chars``, repeatably."""
    import random

    rng = random.Random(seed)
    return ["".join(rng.choice(chars) for _ in range(rng.randint(0, max_len))) for _ in range(n)]


def test_punctuation_regex_same_as_its_plain_form():
    """nlp._PUNCT is written character-first for speed; it finds exactly what its plain form finds
    (decimal points and commas between digits, and hyphens inside words, stay)."""
    from qa.rubric.nlp import _PUNCT, clean_text

    plain = re.compile(r"(?<!\d)[.,](?!\d)|[;:!?¡¿…\"«»“”„()\[\]{}/\\|–—]|(?<!\w)-|-(?!\w)")
    texts = _texts("it") + _texts("de") + _random_strings("ab1.,;:!?-–—…\"«»“”„()[]{}/\\| \n\t'’x9_é٣¡¿", 24, seed=0)
    for t in texts:
        assert [m.start() for m in _PUNCT.finditer(t)] == [m.start() for m in plain.finditer(t)], t
    assert clean_text("3.5 km, ok - Jean-Luc.") == "3.5 km ok  Jean-Luc"


def test_model_text_regex_same_as_its_plain_form():
    from qa.rubric.context import _MODEL_PUNCT, model_text

    plain = re.compile(r"[^\w\s'’-]|(?<!\w)[-'’]|[-'’](?!\w)")
    texts = _texts("it") + _texts("fr") + _random_strings("ab1.,;:!?-–—…\"«»()[]/\\| \n\t'’x9_é٣`´", 20, seed=1)
    for t in texts:
        assert _MODEL_PUNCT.sub(" ", t) == plain.sub(" ", t), t
    assert model_text("Ecco, l'offerta - ok?  'sì'") == "ecco l'offerta ok sì"


@pytest.mark.parametrize("lang, phrases, texts", [
    ("en", ["I'll email you", "I will email you", "we've sent", "don't worry", "I'm sorry", "you're right"],
     ["ok I'll email you the form", "I will email you the form", "we have sent it", "we've sent it",
      "do not worry", "don't worry", "I am sorry about that", "I'm sorry about that", "you are right", "you're right"]),
    ("de", ["auf'm Konto"], ["das ist auf dem Konto", "das ist auf'm Konto"]),
])
def test_a_contraction_in_a_phrase_matches_both_forms_in_a_call(lang, phrases, texts):
    """spaCy's tokenizer exceptions give a contraction piece its own norm in a call ("'ll" -> "will"),
    which overrides the vocabulary's: a phrase written with the contraction must compile to that norm
    (it used to be lemmatised to "'ll" and matched no call at all), and the full form must match too."""
    nlp = get_nlp(lang)
    for phrase in phrases:
        lm = LangMatcher(nlp)
        lm.add("p", [compile_phrase(nlp, phrase)])
        docs = {t: nlp.make_doc(t) for t in texts}
        hits = [t for t, doc in docs.items() if lm(doc).get("p")]
        assert len(hits) == 2, (phrase, hits)  # its contracted and its full form, nothing else


@pytest.mark.parametrize("lang, phrase, hit, miss", [
    ("en", "pre-existing conditions", ["any pre-existing conditions?", "any pre existing conditions"], ["existing conditions"]),
    ("en", "rip-off", ["what a rip-off", "what a rip off"], ["rip it off", "a rip"]),
    ("fr", "bon week-end", ["bon week-end", "bon week end"], ["bon weekend à vous", "bon week"]),
])
def test_a_hyphenated_word_in_a_phrase_matches_with_or_without_the_hyphen(lang, phrase, hit, miss):
    """spaCy splits an English infix hyphen off as a token of its own in a call's text: a phrase with a
    hyphenated word used to drop it and then never matched the hyphenated call text; the hyphen is now
    an optional token (ASR often writes the two halves apart). Anchored and spaCy matches agree."""
    nlp = get_nlp(lang)
    lm = LangMatcher(nlp)
    lm.add("p", [compile_phrase(nlp, phrase)])
    for text, want in [(t, True) for t in hit] + [(t, False) for t in miss]:
        doc = nlp.make_doc(text)
        assert bool(lm(doc).get("p")) is want, (phrase, text)
        assert _fast(lm, doc) == _spacy(lm, doc)


FUT_PHRASES = {
    "it": ["<FUT>", "[la|le|ti] <FUT>", "<FUT> ... domani", "(le) <FUT> [un|una]", "se ... <FUT>"],
    "fr": ["<FUT>", "vous <FUT>", "<FUT> ... demain", "(je) vous <FUT>"],
    "de": ["<FUT>", "ich <FUT> Ihnen", "<FUT> ... anrufen", "(wir) <FUT> Sie"],
    "en": ["<FUT>", "[I|we] <FUT>", "<FUT> ... tomorrow", "(I) <FUT> call"],
}
FUT_TEXTS = {
    "it": "le manderò una mail domani, la contatteranno, sarà attivo, però la rete, se non va la richiamerò, "
          "ricontatterò domani, ti arriverà una conferma, le manderemo un tecnico",
    "fr": "je vous enverrai un mail demain, vous recevrez, vous entrez, il vous rappellera demain, nous ouvrons",
    "de": "ich werde Ihnen schreiben, wir werden Sie morgen anrufen, er wird anrufen, Sie wurden",
    "en": "I'll call you tomorrow, we will send it, I won't, it'll be fine tomorrow, I would call",
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_future_slot_same_matches_as_spacy(lang):
    """<FUT> (qa/rubric/tense.py) is a token test on LOWER and NORM (or a set of NORMs): the anchored
    matcher finds with it what spaCy's Matcher finds, alone, anchored on another word, beside gaps and
    optional words, in the text as written and in lower case."""
    nlp = get_nlp(lang)
    lm = LangMatcher(nlp)
    lm.add("fut", [compile_phrase(nlp, p) for p in FUT_PHRASES[lang]])
    found = 0
    for text in (FUT_TEXTS[lang], FUT_TEXTS[lang].lower(), FUT_TEXTS[lang] * 3):
        doc = nlp.make_doc(text)
        want = _spacy(lm, doc)
        assert _fast(lm, doc) == want, text
        found += len(want)
    assert found >= 9


@pytest.mark.parametrize("lang, phrase, hit, miss", [
    ("it", "[l'|lo] ho [sbloccato|sbloccata]", ["ecco l'ho sbloccata", "lo ho sbloccato adesso"], ["l ho sbloccata", "ho sbloccato"]),
    ("it", "le annullo [il|la|l'] ordine", ["allora le annullo l'ordine"], ["le annullo ordine"]),
    ("fr", "je [l'|le|la] ai [débloqué|débloquée]", ["voilà je l'ai débloqué", "je la ai débloquée"], ["j'ai débloqué"]),
    ("fr", "[j'|je] [ai|avais] vérifié", ["j'ai vérifié", "je avais vérifié"], ["ai vérifié"]),
])
def test_an_elided_word_as_an_alternative_matches_in_a_call(lang, phrase, hit, miss):
    """An elided word ("l'", "j'") is one token only before the word it leans on: alone the tokenizer
    split off its apostrophe, so "[l'|lo]" looked for a bare "l" and never matched a call."""
    nlp = get_nlp(lang)
    lm = LangMatcher(nlp)
    lm.add("p", [compile_phrase(nlp, phrase)])
    for t in hit:
        assert lm(nlp.make_doc(t)).get("p"), (phrase, t)
    for t in miss:
        assert not lm(nlp.make_doc(t)).get("p"), (phrase, t)
