"""Call metrics on hand-written calls whose figures are worked out here by hand, and on real calls."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import qa.analysis.metrics as metrics_module
from qa.analysis.metrics import compute_metrics
from qa.model import Segment, Transcript, Word

DEVSET = Path(__file__).parent / "data" / "devset"
SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "transcripts"


def call_without_words() -> Transcript:
    return Transcript("hand-1", [
        Segment("agent", 1.2, 4.0, "Buongiorno, servizio clienti, sono Laura, come posso aiutarla?"),
        Segment("customer", 4.5, 10.0, "Buongiorno, ho un problema con la fattura di ottobre."),
        Segment("agent", 9.0, 15.0, "Certo, mi dia il numero cliente e controllo subito."),
        Segment("customer", 18.0, 20.0, "Va bene."),
        Segment("agent", 20.0, 21.0, "Perfetto."),
        Segment("customer", 20.8, 21.0, "sì"),
    ], language="it", duration=24.0)


def test_talk_silence_overtalk_by_hand():
    m = compute_metrics(call_without_words(), with_sentiment=False)
    # agent talks 1.2-4.0, 9-15, 20-21 = 2.8 + 6 + 1; customer 4.5-10, 18-20, 20.8-21 = 5.5 + 2 + 0.2
    assert m["timing"] == "segments"
    assert m["duration"] == 24.0
    assert m["talk_time"]["agent"] == pytest.approx(9.8)
    assert m["talk_time"]["customer"] == pytest.approx(7.7)
    assert m["talk_time"]["unknown"] == 0
    # somebody talks 1.2-4.0, 4.5-15.0, 18.0-21.0 = 2.8 + 10.5 + 3.0
    assert m["talk_time"]["total"] == pytest.approx(16.3)
    assert m["non_talk_time"] == pytest.approx(24.0 - 16.3)
    assert m["non_talk_share"] == pytest.approx(7.7 / 24.0, abs=1e-4)
    assert m["talk_share"]["agent"] == pytest.approx(9.8 / 17.5, abs=1e-4)
    assert m["talk_share"]["customer"] == pytest.approx(7.7 / 17.5, abs=1e-4)
    assert m["talk_share_of_call"]["agent"] == pytest.approx(9.8 / 24.0, abs=1e-4)
    assert m["longest_silence"] == {"duration": 3.0, "start": 15.0, "end": 18.0}
    assert m["leading_silence"] == pytest.approx(1.2)
    assert m["trailing_silence"] == pytest.approx(3.0)
    # overtalk: 9-10 (agent starts while the customer talks) and 20.8-21 (a short "sì")
    assert m["overtalk"]["count"] == 2
    assert m["overtalk"]["duration"] == pytest.approx(1.2)
    ep = m["overtalk"]["episodes"]
    assert (ep[0]["start"], ep[0]["end"], ep[0]["interrupter"], ep[0]["interrupted"]) == (9.0, 10.0, "agent", "customer")
    assert (ep[1]["start"], ep[1]["end"], ep[1]["interrupter"]) == (20.8, 21.0, "customer")
    # only the 1 s overlap is long enough to be an interruption
    assert m["interruptions"] == {"count": 1, "duration": 1.0, "by": {"agent": 1, "customer": 0, "unknown": 0}}


def test_speech_rate_greeting_monologue_by_hand():
    m = compute_metrics(call_without_words(), with_sentiment=False)
    # agent words: 8 + 9 + 1 = 18 in 9.8 s; customer: 9 + 2 + 1 = 12 in 7.7 s
    assert m["words"] == {"agent": 18, "customer": 12, "unknown": 0}
    assert m["speech_rate_wpm"]["agent"] == pytest.approx(18 / 9.8 * 60, abs=0.05)
    assert m["speech_rate_wpm"]["customer"] == pytest.approx(12 / 7.7 * 60, abs=0.05)
    assert m["speech_rate_wpm"]["unknown"] is None
    assert m["time_to_greeting"] == pytest.approx(1.2)
    assert m["greeting"]["phrase"] == "buongiorno" and m["greeting"]["segment"] == 0
    assert m["agent_first_speech"] == pytest.approx(1.2)
    # agent: 1.2-4.0 | customer speaks | 9-15 | customer speaks | 20-21  -> longest 9-15
    assert m["longest_monologue"]["agent"] == {"duration": 6.0, "start": 9.0, "end": 15.0}
    assert m["longest_monologue"]["customer"] == {"duration": 5.5, "start": 4.5, "end": 10.0}


def call_with_words() -> Transcript:
    return Transcript("hand-2", [
        Segment("agent", 0.5, 3.6, "Allora, attenda. Buongiorno, Swisscom.", words=[
            Word(" Allora,", 0.5, 0.9), Word(" attenda.", 1.0, 1.5),
            Word(" Buongiorno,", 2.5, 3.0), Word(" Swisscom.", 3.1, 3.6)]),
        Segment("customer", 3.8, 5.0, "Salve, sono Anna.", words=[
            Word(" Salve,", 3.8, 4.2), Word(" sono", 4.6, 4.8), Word(" Anna.", 4.8, 5.0)]),
        Segment("agent", 4.9, 6.0, "Mi dica pure.", words=[
            Word(" Mi", 4.9, 5.1), Word(" dica", 5.2, 5.6), Word(" pure.", 5.7, 6.0)]),
    ], language="it")


def test_word_timestamps_by_hand():
    m = compute_metrics(call_with_words(), with_sentiment=False)
    assert m["timing"] == "words"
    # agent words bridged over gaps <= 0.25 s: 0.5-1.5, 2.5-3.6, 4.9-6.0 = 1.0 + 1.1 + 1.1
    assert m["talk_time"]["agent"] == pytest.approx(3.2)
    # customer: 3.8-4.2 and (gap 0.4) 4.6-5.0 = 0.8 (the segment spans 1.2 s)
    assert m["talk_time"]["customer"] == pytest.approx(0.8)
    # anybody: 0.5-1.5, 2.5-3.6, 3.8-4.2, 4.6-6.0 = 1.0 + 1.1 + 0.4 + 1.4
    assert m["talk_time"]["total"] == pytest.approx(3.9)
    assert m["duration"] == 6.0  # no duration given: the last end
    assert m["non_talk_time"] == pytest.approx(2.1)
    assert m["longest_silence"] == {"duration": 1.0, "start": 1.5, "end": 2.5}
    assert m["overtalk"]["count"] == 1 and m["overtalk"]["duration"] == pytest.approx(0.1)
    assert m["interruptions"]["count"] == 0  # 0.1 s is a touch, not an interruption
    # the greeting is the third word of the agent's first turn
    assert m["time_to_greeting"] == pytest.approx(2.5)
    assert m["speech_rate_wpm"]["agent"] == pytest.approx(7 / 3.2 * 60, abs=0.05)
    assert m["speech_rate_wpm"]["customer"] == pytest.approx(3 / 0.8 * 60, abs=0.05)


def test_unknown_speakers_mixed_timing_and_same_speaker_overlap():
    t = Transcript("hand-3", [
        Segment("unknown", 0.0, 2.0, "pronto chi parla"),
        Segment("unknown", 1.5, 3.0, "sono io"),  # overlapping segments of one label: not overtalk
        Segment("customer", 2.5, 4.0, "hello", words=[Word("hello", 2.5, 3.5)]),
    ], duration=10.0)
    m = compute_metrics(t, with_sentiment=False)
    assert m["timing"] == "mixed"
    assert m["talk_time"]["unknown"] == pytest.approx(3.0)  # union 0-3
    assert m["talk_time"]["customer"] == pytest.approx(1.0)  # the word, not the segment
    assert m["talk_time"]["total"] == pytest.approx(3.5)
    assert m["overtalk"]["count"] == 1 and m["overtalk"]["duration"] == pytest.approx(0.5)  # 2.5-3.0
    assert m["interruptions"]["by"]["customer"] == 1
    # no agent-labelled turn: the first greeting by anybody counts, and says who
    assert m["time_to_greeting"] == 0.0 and m["greeting"]["speaker"] == "unknown"
    assert m["agent_first_speech"] is None
    assert m["trailing_silence"] == pytest.approx(6.5)  # last speech: the word ending at 3.5


def test_no_greeting_and_empty_call():
    t = Transcript("hand-4", [Segment("agent", 0.0, 2.0, "Seeland Mobile, Huber."),
                              Segment("customer", 2.5, 4.0, "Grüezi, Thomas Keller.")], language="de")
    m = compute_metrics(t, with_sentiment=False)
    assert m["time_to_greeting"] is None  # the customer greets, the agent does not
    m = compute_metrics(Transcript("empty", [], duration=5.0))
    assert m["talk_time"]["total"] == 0 and m["non_talk_time"] == 5.0 and m["longest_silence"] is None
    assert m["sentiment"]["turns"] == []
    json.dumps(m)


def test_every_key_is_documented():
    m = compute_metrics(call_without_words())
    doc = metrics_module.__doc__
    for key in m:
        assert re.search(rf"``{key}``", doc), key


def test_sentiment_per_turn_and_quarter():
    t = Transcript("hand-5", [
        Segment("agent", 0.0, 5.0, "Buongiorno, servizio clienti, come posso aiutarla?"),
        Segment("customer", 5.0, 20.0, "Sono molto arrabbiato, è la terza volta che chiamo e nessuno risolve il problema."),
        Segment("agent", 20.0, 40.0, "Mi dispiace, controllo subito la sua pratica."),
        Segment("customer", 40.0, 60.0, "Va bene, aspetto."),
        Segment("agent", 60.0, 70.0, "Ho corretto la fattura, le arriva una nota di credito."),
        Segment("customer", 70.0, 80.0, "Perfetto, grazie mille, è stata gentilissima!"),
    ], language="it", duration=80.0)
    s = compute_metrics(t)["sentiment"]
    assert [x["segment"] for x in s["turns"]] == [0, 1, 2, 3, 4, 5]
    assert s["turns"][1]["label"] == "negative" and s["turns"][5]["label"] == "positive"
    # quarters of 20 s: customer turns have midpoints 12.5 (Q1), 50 (Q3), 75 (Q4)
    q = s["quarters"]["customer"]
    assert q[0] < 0 < q[3] and q[1] is None
    assert s["trend"]["customer"] == pytest.approx(q[3] - q[0], abs=1e-3)
    assert s["overall"]["unknown"] is None


@pytest.mark.parametrize("path", sorted(DEVSET.glob("dev-*.json"))[:64:4] + sorted(SAMPLES.glob("*.json")),
                         ids=lambda p: p.stem)
def test_real_calls_are_consistent(path):
    t = Transcript.load(path)
    m = compute_metrics(t)
    json.dumps(m)
    assert m["talk_time"]["total"] + m["non_talk_time"] == pytest.approx(m["duration"], abs=2e-3)
    assert sum(m["talk_share"].values()) == pytest.approx(1.0, abs=2e-3)
    assert m["talk_time"]["total"] <= m["talk_time"]["agent"] + m["talk_time"]["customer"] + 1e-6 + m["talk_time"]["unknown"]
    assert m["overtalk"]["duration"] <= m["talk_time"]["total"]
    for spk in ("agent", "customer"):
        if m["talk_time"][spk]:
            assert 60 < m["speech_rate_wpm"][spk] < 400
    assert len(m["sentiment"]["turns"]) == sum(1 for s in t.segments if s.text.strip())
    assert all(-1 <= x["score"] <= 1 for x in m["sentiment"]["turns"])


def test_devset_greetings():
    # read from the calls: dev-it-001 opens "Buongiorno" at once; dev-de-001 "Seeland Mobile, Huber." never greets
    m = compute_metrics(Transcript.load(DEVSET / "dev-it-001.json"), with_sentiment=False)
    first_agent = next(s for s in Transcript.load(DEVSET / "dev-it-001.json").segments if s.speaker == "agent")
    assert first_agent.text.lower().startswith("buongiorno")
    assert m["time_to_greeting"] == pytest.approx(first_agent.start)
    m = compute_metrics(Transcript.load(DEVSET / "dev-de-001.json"), with_sentiment=False)
    assert m["greeting"] is None or m["greeting"]["segment"] > 0


def test_luna_real_calls():
    luna = sorted((Path(__file__).resolve().parents[2] / "shared" / "eval" / "luna").glob("LUNA-*.json"))
    assert len(luna) >= 50
    for p in luna[:10]:
        t = Transcript.load(p)
        m = compute_metrics(t, with_sentiment=False)
        assert m["talk_time"]["unknown"] == pytest.approx(m["talk_time"]["total"])
        assert m["overtalk"]["count"] == 0  # LUNA turns never overlap (estimated timings)
        assert m["talk_time"]["total"] + m["non_talk_time"] == pytest.approx(m["duration"], abs=2e-3)
