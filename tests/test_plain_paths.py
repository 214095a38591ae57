"""The plain reference paths behind the speed layers (bench/throughput_calls.py measures both):
``QA_PLAIN_MATCHER=1`` matches a rubric's token patterns with spaCy's own Matcher, and it finds the
same spans in real calls as the anchored matcher (tests/test_rubric_matcher.py compares the
two on every rubric phrase)."""

from __future__ import annotations

import csv
from pathlib import Path

from qa.model import Transcript
from qa.rubric.nlp import get_nlp
from qa.rubric.patterns import LangMatcher
from qa.rubric.phrase import compile_phrase

ROOT = Path(__file__).resolve().parents[1]
LUNA = ROOT / "tests" / "data" / "luna_dev" / "transcripts"


def _spans(got: dict) -> dict:
    return {k: sorted((int(s), int(e)) for s, e in (v.tolist() if hasattr(v, "tolist") else v)) for k, v in got.items()}


def test_the_plain_matcher_finds_what_the_anchored_one_finds_on_real_calls(monkeypatch):
    nlp = get_nlp("it")
    phrases = [compile_phrase(nlp, p) for p in
               ["le mando il tecnico", "mi =dica", "(la) ringrazio", "<NUM> euro", "ti =richiamo ... domani",
                "signora <PER>", "sono <PER>", "posso ... aiutar*", "buongiorno ... <PER>"]]
    anchored = LangMatcher(nlp)
    anchored.add("p", phrases)
    monkeypatch.setenv("QA_PLAIN_MATCHER", "1")
    plain = LangMatcher(nlp)
    plain.add("p", phrases)
    assert plain.plain and not anchored.plain
    found = 0
    with (LUNA.parent / "split.csv").open(encoding="utf-8") as f:
        tune = sorted(r["call_id"] for r in csv.DictReader(f) if r["split"] == "tune")[:8]
    for path in (LUNA / f"{cid}.json" for cid in tune):
        text = "\n".join(s.text for s in Transcript.load(path).segments)
        doc = nlp.make_doc(text)
        want = _spans(anchored(doc))
        assert _spans(plain(doc)) == want, path.name
        found += sum(len(v) for v in want.values())
    assert found > 10

