"""Mono role assignment (qa.analysis.roles) on real transcripts: the sample calls and the labelled
development set with their speakers hidden, and the 30 real LUNA help-desk calls of the dev set."""

from __future__ import annotations

import copy
import csv
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from qa.analysis import roles
from qa.model import Segment, Transcript, Word

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "samples" / "transcripts").glob("*.json"))
DEVSET = sorted((ROOT / "tests" / "data" / "devset").glob("*.json"))
LUNA = sorted((ROOT.parent / "shared" / "eval" / "luna").glob("*.json"))  # only to keep them out of training data
# the behaviour checks read the 30 LUNA dev calls only: the other 30 stay unread for an independent check
LUNA_DEV = sorted((ROOT / "tests" / "data" / "luna_dev" / "transcripts").glob("*.json"))
TSV = ROOT / "modelli" / "dati" / "ruoli.tsv"
SPONT = sorted((ROOT / "modelli" / "dati" / "ruoli_spont").glob("ruoli_*.tsv"))


def _accuracy(paths, threshold=roles.DEFAULT_THRESHOLD):
    turns = right = assigned = 0
    for p in paths:
        ref = Transcript.load(p)
        pred = roles.assign_roles(roles.hide_speakers(ref), threshold=threshold)
        m = roles.role_accuracy(ref, pred)
        turns += m["turns"]
        right += round(m["accuracy"] * m["turns"])
        assigned += round(m["coverage"] * m["turns"])
    return right / turns, assigned / turns, turns


def test_sample_calls_roles_come_back():
    assert len(SAMPLES) == 8
    acc, coverage, turns = _accuracy(SAMPLES)
    # measured: 94.4% of 90 turns (bench/results/roles.md; the poor English sales agent is the hard one)
    assert turns >= 80
    assert acc >= 0.9, acc
    assert coverage >= 0.9


def test_devset_roles_come_back_for_a_large_majority():
    """The labelled development set (written by another engineer, never trained on)."""
    assert len(DEVSET) >= 40
    acc, coverage, turns = _accuracy(DEVSET)
    # measured: 86.6% of 1145 turns right, 93.3% given a role
    assert turns > 1000
    assert acc >= 0.8, acc
    # and the text classifier alone does clearly worse: the turn-taking model carries weight
    right = total = 0
    for p in DEVSET:
        ref = Transcript.load(p)
        m = roles.role_accuracy(ref, roles.assign_roles(roles.hide_speakers(ref), turn_taking=False))
        right += round(m["accuracy"] * m["turns"])
        total += m["turns"]
    assert right / total < acc - 0.1  # measured: 65.2% vs 86.6%


@pytest.fixture(scope="module")
def luna():
    assert len(LUNA) == 60 and len(LUNA_DEV) == 30
    return [(Transcript.load(p), roles.assign_roles(Transcript.load(p))) for p in LUNA_DEV]


def test_luna_calls_all_get_roles(luna):
    for ref, pred in luna:
        assert [s.text for s in pred.segments] == [s.text for s in ref.segments]  # no words: nothing split
        speakers = Counter(s.speaker for s in pred.segments)
        assert set(speakers) <= {"agent", "customer", "unknown"}
        assert speakers["agent"] > 0 and speakers["customer"] > 0, ref.call_id
        for s in pred.segments:
            c = s.extra["role_confidence"]
            assert 0.0 <= c <= 1.0
            if s.speaker == "unknown":
                assert c < roles.DEFAULT_THRESHOLD
            else:
                assert c >= roles.DEFAULT_THRESHOLD
        # the output is still a valid transcript
        Transcript.from_dict(json.loads(pred.to_json()))


def test_luna_agent_phrases_are_labelled_agent(luna):
    cue = re.compile(r"come posso (aiutarla|esserle utile)|mi dica|help ?desk|in cosa posso")
    hits = [s.speaker for _, pred in luna for s in pred.segments if cue.search(s.text)]
    assert len(hits) >= 20
    assert hits.count("agent") / len(hits) >= 0.75, Counter(hits)
    # the opening "helpdesk buongiorno sono <PER>" of a call is the agent's
    openings = [pred.segments[0].speaker for ref, pred in luna if re.match(r"help ?desk", ref.segments[0].text)]
    assert openings and openings.count("agent") / len(openings) >= 0.9


def test_threshold_controls_unknown():
    ref = Transcript.load(SAMPLES[0])
    hidden = roles.hide_speakers(ref)
    all_in = roles.assign_roles(hidden, threshold=0.0)
    assert all(s.speaker in ("agent", "customer") for s in all_in.segments)
    none = roles.assign_roles(hidden, threshold=1.0)
    assert all(s.speaker == "unknown" for s in none.segments)
    with pytest.raises(ValueError):
        roles.assign_roles(hidden, threshold=1.5)
    assert all(s.speaker == "unknown" for s in hidden.segments)  # the input is not modified


def test_known_speakers_are_kept_and_anchor_the_rest():
    ref = Transcript.load(ROOT / "samples" / "transcripts" / "DEMO-DE-02.json")
    mixed = copy.deepcopy(ref)
    for i, s in enumerate(mixed.segments):
        if i % 3:
            s.speaker = "unknown"
    pred = roles.assign_roles(mixed)
    for a, b, m in zip(ref.segments, pred.segments, mixed.segments):
        if m.speaker != "unknown":
            assert b.speaker == a.speaker and "role_confidence" not in b.extra
    assert roles.role_accuracy(ref, pred)["accuracy"] >= 0.9
    fully = roles.assign_roles(ref)
    assert [s.speaker for s in fully.segments] == [s.speaker for s in ref.segments]


def _words(text: str, start: float, end: float) -> list[Word]:
    tokens = text.split()
    step = (end - start) / len(tokens)
    return [Word(" " + t, start + k * step, start + (k + 0.9) * step, 0.9) for k, t in enumerate(tokens)]


def test_segment_with_a_long_pause_is_split_into_turns():
    """An ASR segment spanning two turns (agent, 1.5 s silence, customer) is cut at the pause."""
    ref = Transcript.load(ROOT / "samples" / "transcripts" / "DEMO-IT-01.json")
    a, c = ref.segments[0], ref.segments[1]
    words = _words(a.text, a.start, a.end) + _words(c.text, a.end + 1.5, a.end + 1.5 + (c.end - c.start))
    merged = Segment("unknown", a.start, words[-1].end, a.text + " " + c.text, words=words)
    rest = [Segment("unknown", s.start + 1.5, s.end + 1.5, s.text) for s in ref.segments[2:]]
    tr = Transcript("split-test", [merged] + rest, language="it", metadata={"direction": "inbound"})
    pred = roles.assign_roles(tr)
    assert len(pred.segments) == len(ref.segments)
    assert pred.segments[0].text == a.text and pred.segments[1].text == c.text
    assert [s.speaker for s in pred.segments[:2]] == ["agent", "customer"]
    assert pred.segments[1].start == pytest.approx(a.end + 1.5)
    assert pred.segments[0].extra["split_from"] == [round(merged.start, 3), round(merged.end, 3)]
    # no split when asked not to
    assert len(roles.assign_roles(tr, split_pause=None).segments) == len(tr.segments)


def _rows(path):
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_training_data_and_model_card():
    rows = _rows(TSV)
    assert set(rows[0]) == {"text", "label", "lang", "group"}
    per = Counter((r["lang"], r["label"]) for r in rows)
    for lang in ("it", "de", "fr", "en"):
        assert per[(lang, "agent")] + per[(lang, "customer")] >= 400, lang
        assert min(per[(lang, "agent")], per[(lang, "customer")]) >= 150, lang
    assert {r["label"] for r in rows} == {"agent", "customer"}
    # ASR-style lines (lower case, no punctuation) are there too
    assert sum(1 for r in rows if r["text"] == r["text"].lower() and not re.search(r"[.,?!]", r["text"])) > 400
    # none of it is taken from the evaluation material: no LUNA turn, and of the development
    # set only stock formulae that any operator says ("Is there anything else I can do for you?")
    spont = [r for p in SPONT for r in _rows(p)]
    texts = {r["text"].lower().strip(" .?!") for r in rows + spont}
    for p in LUNA:
        for s in Transcript.load(p).segments:
            if len(s.text.split()) >= 4:
                assert s.text.lower() not in texts, (p.name, s.text)
                assert roles.normalise_text(s.text).lower() not in texts, (p.name, s.text)  # masks as trained
    dev_long = [s.text.lower().strip(" .?!") for p in DEVSET for s in Transcript.load(p).segments
                if len(s.text.split()) >= 5]
    shared = [t for t in dev_long if t in texts]
    assert len(shared) <= 0.01 * len(dev_long), shared
    card = json.loads((ROOT / "modelli" / "ruoli.card.json").read_text(encoding="utf-8"))
    assert card["name"] == "ruoli" and card["labels"] == ["agent", "customer"]
    # the model is trained on the scripted turns and the spontaneous dialogues together
    assert card["data_size"] + card.get("holdout_size", 0) == len(rows) + len(spont)
    assert sorted(card["training_data"]) == sorted(f"modelli/dati/{p.relative_to(TSV.parent)}" for p in [TSV, *SPONT])
    assert card["cross_validation"]["accuracy"] >= 0.75


def test_train_role_model_writes_a_usable_model(tmp_path):
    # a small slice keeps this quick; the real model is trained on all of modelli/dati/ruoli.tsv
    with TSV.open(encoding="utf-8") as fh:
        lines = fh.readlines()
    small = tmp_path / "ruoli.tsv"
    small.write_text(lines[0] + "".join(lines[1::10]), encoding="utf-8")
    card = roles.train_role_model(small, out_dir=tmp_path)
    assert (tmp_path / "ruoli.joblib").exists() and (tmp_path / "ruoli.card.json").exists()
    ref = Transcript.load(ROOT / "samples" / "transcripts" / "DEMO-FR-01.json")
    pred = roles.assign_roles(roles.hide_speakers(ref), model=str(tmp_path / "ruoli.joblib"))
    assert roles.role_accuracy(ref, pred)["accuracy"] >= 0.7
    assert card["data_size"] > 0
    bad = tmp_path / "bad.tsv"
    bad.write_text("text\tlabel\nciao\tboss\nbuongiorno\tagent\n", encoding="utf-8")
    from qa.errors import ModelError

    with pytest.raises(ModelError):
        roles.train_role_model(bad, out_dir=tmp_path)


MONO_SAMPLES = [("DEMO-IT-02", "call_it_02.ogg"), ("DEMO-DE-02", "call_de_02.ogg"), ("DEMO-EN-02", "call_en_02.wav")]


@pytest.mark.parametrize("call_id,file", MONO_SAMPLES)
def test_voice_clusters_separate_the_two_voices_of_a_mono_call(call_id, file):
    from qa.audio import load_audio

    audio = load_audio(ROOT / "samples" / file)
    ref = Transcript.load(ROOT / "samples" / "transcripts" / f"{call_id}.json")
    clusters = roles.voice_clusters(audio.mono(), ref.segments, audio.sample_rate)
    assert clusters is not None
    membership, reliability = clusters
    assert 0.5 < reliability <= roles.VOICE_MAX_RELIABILITY
    voice_a = [m > 0.5 for m in membership]
    agent = [s.speaker == "agent" for s in ref.segments]
    agree = sum(v == g for v, g in zip(voice_a, agent)) / len(agent)
    assert max(agree, 1 - agree) >= 0.9  # one cluster is the agent's voice (which one is the text's call)
    pred = roles.assign_roles(roles.hide_speakers(ref), audio=audio.mono(), sample_rate=audio.sample_rate)
    assert roles.role_accuracy(ref, pred)["accuracy"] >= 0.9
    assert "voice clusters" in pred.extra["roles"]["method"]


@pytest.mark.slow
def test_roles_on_whisper_output_of_a_mono_call():
    """The real thing: a mono call transcribed by faster-whisper, roles from text, turns and voices."""
    from qa.audio import load_audio
    from qa.transcribe import TranscribeOptions, transcribe_file

    path = ROOT / "samples" / "call_it_02.ogg"
    ref = Transcript.load(ROOT / "samples" / "transcripts" / "DEMO-IT-02.json")
    tr = transcribe_file(path, TranscribeOptions(language="it"), metadata={"direction": "inbound"})
    audio = load_audio(path)

    def segment_accuracy(pred):
        right = 0
        for s in pred.segments:
            best = max(ref.segments, key=lambda r: min(r.end, s.end) - max(r.start, s.start))
            right += s.speaker == best.speaker
        return right / len(pred.segments)

    text_only = roles.assign_roles(roles.hide_speakers(tr))
    with_voice = roles.assign_roles(roles.hide_speakers(tr), audio=audio.mono(), sample_rate=audio.sample_rate)
    # measured on this call: 63% of segments from text and turns, 95% with the voices (bench/results/roles.md)
    assert segment_accuracy(with_voice) >= 0.75
    assert segment_accuracy(with_voice) > segment_accuracy(text_only)


def test_roles_per_turn_on_the_luna_tune_calls():
    """Per-turn roles against the adjudicated speakers of the LUNA dev set's tuning split (real
    mono help-desk calls; a turn left ``unknown`` counts as wrong). 0.463 before the cue words of
    ``qa.analysis.roles`` (CRITERIA.md, "Who spoke"), 0.527 with them, 0.614 with the spontaneous
    dialogues in the training data and the boundary context of ``qa.analysis.turns`` (tuned-on);
    annotators agree on 0.907."""
    luna = Path(__file__).resolve().parent / "data" / "luna_dev"
    with (luna / "split.csv").open(encoding="utf-8") as fh:
        tune = {r["call_id"] for r in csv.DictReader(fh) if r["split"] == "tune"}
    ref: dict = {}
    with (luna / "turns.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["call_id"] in tune:
                ref.setdefault(r["call_id"], {})[int(r["turn"])] = r["speaker"]
    right = total = 0
    for cid in sorted(tune):
        pred = roles.assign_roles(Transcript.load(luna / "transcripts" / f"{cid}.json"))
        for i, speaker in ref[cid].items():
            total += 1
            right += pred.segments[i].speaker == speaker
    assert total > 1000
    assert right / total >= 0.58


def test_copy_for_roles_keeps_every_field_and_shares_nothing_mutable():
    """assign_roles works on a copy built field by field: it must name all of Segment's fields."""
    import dataclasses

    assert {f.name for f in dataclasses.fields(Segment)} == {"speaker", "start", "end", "text", "words",
                                                             "confidence", "extra"}
    seg = Segment("unknown", 1.0, 2.5, "sì buongiorno", words=[Word("sì", 1.0, 1.4), Word("buongiorno", 1.5, 2.5)],
                  confidence=0.8, extra={"channel": 0})
    tr = Transcript(call_id="c", language="it", segments=[seg])
    out = roles._copy_for_roles(tr)
    assert out.segments[0] == seg and out.segments[0] is not seg
    assert out.segments[0].extra is not seg.extra and out.segments[0].words is not seg.words
