"""qa.pipeline: each stage on its own, the whole pipeline, a roles failure reported (not swallowed),
and the score-in-a-batch-then-one-by-one fallback, on the dev set, the sample transcripts and (slow)
a real sample recording."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest

from qa import pipeline as P
from qa.audio import audio_checksum
from qa.errors import AudioError, TranscriptFormatError
from qa.model import Transcript
from qa.analysis.roles import hide_speakers, role_accuracy

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT / "tests" / "data" / "devset"
SAMPLES = ROOT / "samples"


def _dev(pattern: str = "dev-*.json") -> list[Transcript]:
    return [Transcript.load(f) for f in sorted(DEVSET.glob(pattern))]


def _sample(call_id: str) -> Transcript:
    return Transcript.load(SAMPLES / "transcripts" / f"{call_id}.json")


@pytest.fixture()
def models_without_roles(tmp_path):
    """The shipped models, minus the role model (as on an install that has not trained it)."""
    from qa.learning.learn import models_from

    d = tmp_path / "modelli"
    d.mkdir()
    for f in (ROOT / "modelli").iterdir():
        if f.is_file() and f.name != "ruoli.joblib":
            shutil.copy(f, d)
    with models_from(d):
        yield d


# ---------------------------------------------------------------------------------- stages
def test_decode_stage_mono_stereo_and_not_audio(tmp_path):
    mono = P.decode(SAMPLES / "call_en_02.wav")
    assert mono.n_channels == 1 and len(mono.channels) == 1 and mono.sample_rate == 16000
    from samples.generate import load_manifest  # the committed file's duration, read back from its bytes

    assert mono.duration == pytest.approx(load_manifest()["DEMO-EN-02"]["duration"], abs=0.05)
    stereo = P.decode(SAMPLES / "call_fr_02.flac")
    assert stereo.n_channels == 2 and len(stereo.channels) == 2
    assert stereo.channels[0].size == stereo.channels[1].size == pytest.approx(stereo.duration * 16000, abs=2)
    fake = tmp_path / "call.wav"
    fake.write_text("not a recording", encoding="utf-8")
    with pytest.raises(AudioError):
        P.decode(fake)


def test_roles_stage_assigns_unknown_speakers_and_leaves_known_ones():
    ref = _sample("DEMO-IT-02")
    same = P.assign_roles(ref)  # every speaker known: nothing to do
    assert same.transcript is ref and not same.inferred and same.error is None
    hidden = hide_speakers(ref)
    got = P.assign_roles(hidden)
    assert got.inferred and got.error is None and got.transcript is not hidden
    assert {s.speaker for s in hidden.segments} == {"unknown"}  # the input is not changed
    assert got.transcript.extra["roles"]["assigned"] is True
    assert role_accuracy(ref, got.transcript)["accuracy"] >= 0.6
    # with the recording the two voices are clustered too
    with_voice = P.assign_roles(hidden, P.decode(SAMPLES / "call_it_02.ogg"))
    assert "voice clusters" in with_voice.transcript.extra["roles"]["method"]
    assert role_accuracy(ref, with_voice.transcript)["accuracy"] >= 0.9


def test_prepare_stage_language_call_type_rubric():
    calls = _dev("dev-*-00[1-4].json")
    prepared = P.prepare(calls)
    for t, p in zip(calls, prepared):
        assert p.transcript is t  # stereo transcripts: speakers known, nothing copied
        assert (p.facts.language, p.facts.language_inferred) == (t.language, False)
        assert p.facts.roles_inferred is False and p.facts.roles_error is None
        if t.metadata.get("call_type"):
            assert (p.facts.call_type, p.facts.call_type_inferred) == (t.metadata["call_type"], False)
            assert p.facts.call_type_confidence is None
        assert p.rubric.name == p.facts.call_type
    # what the transcripts do not say is inferred: the language from the words (the real one),
    # the call type by the classifier (with its confidence), the rubric follows it
    bare = copy.deepcopy(calls)
    for t in bare:
        t.language = None
        t.metadata.pop("call_type", None)
        t.metadata["call_type"] = "other" if t is bare[0] else None
    inferred = P.prepare(bare)
    assert [p.facts.language for p in inferred] == [t.language for t in calls]
    assert all(p.facts.language_inferred and p.facts.call_type_inferred for p in inferred)
    assert all(0.0 < p.facts.call_type_confidence <= 1.0 for p in inferred)
    assert all(p.rubric.name == p.facts.call_type for p in inferred)
    labelled = [(p.facts.call_type, t.metadata["call_type"])
                for p, t in zip(inferred, calls) if t.metadata.get("call_type")]
    assert sum(a == b for a, b in labelled) >= 0.7 * len(labelled)
    # a rubric given by name applies to every call
    assert {p.rubric.name for p in P.prepare(bare, "fidelizzazione")} == {"fidelizzazione"}


def test_score_stage_in_a_batch_equals_each_call_alone():
    calls = _dev("dev-*-01[0-6].json") + [_sample("DEMO-IT-01"), hide_speakers(_sample("DEMO-DE-02"))]
    prepared = P.prepare(calls)
    batch = P.score(prepared)
    alone = [P.score(P.prepare([t]))[0] for t in calls]
    assert [e.to_dict() for e in batch] == [e.to_dict() for e in alone]
    for ev, p in zip(batch, prepared):
        assert ev.call_id == p.transcript.call_id and ev.rubric == p.rubric.name
        assert {k: ev.extra[k] for k in p.facts.to_extra()} == p.facts.to_extra()
        for c in ev.criteria:
            assert (c.result == "pass") <= bool(c.evidence)  # every pass carries evidence (FORMATS.md)
    assert batch[-1].extra["roles_inferred"] is True  # the mono sample's speakers were assigned for scoring


def test_metrics_stage_on_a_sample_call():
    t = _sample("DEMO-IT-01")
    m = P.compute_metrics(t)
    talk = m["talk_time"]
    assert talk["agent"] > talk["customer"] > 0 and talk["unknown"] == 0
    assert talk["total"] <= m["duration"] == pytest.approx(t.duration, abs=0.01)
    assert m["talk_share"]["agent"] + m["talk_share"]["customer"] == pytest.approx(1.0, abs=1e-3)


def test_redact_stage_masks_transcript_and_evidence_and_leaves_the_inputs():
    t = Transcript.load(DEVSET / "dev-de-001.json")  # the customer gives a date of birth and a phone number
    ev = P.score_transcript(t)
    before = ev.to_dict()
    r = P.redact(t, ev)
    kinds = {s["kind"] for s in r.spans}
    assert {"DATA_NASCITA", "TELEFONO"} <= kinds
    for span in r.spans:
        original = t.segments[span["segment"]].text[span["start_char"]:span["end_char"]]
        assert original and original not in r.transcript.segments[span["segment"]].text
    assert ev.to_dict() == before and r.evaluation is not ev  # masked in a copy
    said = {s.text for s in t.segments}
    for c_old, c_new in zip(ev.criteria, r.evaluation.criteria):
        for e_old, e_new in zip(c_old.evidence, c_new.evidence):
            assert e_old.text in said
            if e_old.text != e_new.text:
                assert "[" in e_new.text  # a mask such as [TELEFONO] replaced the personal data


def test_a_transcript_without_speech_is_refused(tmp_path):
    empty = Transcript(call_id="E-1", segments=[], language="it")
    f = tmp_path / "empty.json"
    empty.save(f)
    item = P.CallInput(str(f), "transcript", audio_checksum(f))
    with pytest.raises(AudioError, match="transcript has no text"):
        P.process_call(item, P.ProcessSettings(data_dir=str(tmp_path)))
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(TranscriptFormatError):
        P.process_call(P.CallInput(str(broken), "transcript", "x"), P.ProcessSettings(data_dir=str(tmp_path)))


# ---------------------------------------------------------------------------------- whole pipeline
def test_process_call_of_a_transcript_file(tmp_path):
    """A platform's Transcript JSON through the pipeline: metrics on the original, personal data
    masked, then scored on the masked text (the text that is stored and that a rescore sees)."""
    src = DEVSET / "dev-en-013.json"  # an e-mail address said in a turn that is evidence
    row = {"call_id": "ignored", "agent_id": "A99", "team": "Team CSV"}
    item = P.CallInput(str(src), "transcript", audio_checksum(src), row)
    record = P.process_call(item, P.ProcessSettings(data_dir=str(tmp_path)))
    original = P.read_transcript(src, row)
    as_sent = Transcript.load(src)
    assert original.call_id == as_sent.call_id  # the CSV fills what the JSON does not say, never the call_id
    assert original.metadata["team"] == as_sent.metadata.get("team", "Team CSV")
    assert record.checksum == item.checksum and record.source_kind == "transcript" and record.file_name == src.name
    assert record.audio_path is None and record.redacted_audio_path is None and record.redacted
    scored = P.score_transcript(original)
    masked = P.redact(original).transcript
    # scoring saw the masked text: the evaluation is that of the stored transcript
    assert record.evaluation.to_dict() == P.score_transcript(masked).to_dict()
    assert record.transcript.to_dict() == masked.to_dict() != original.to_dict()
    evidence = [e.text for c in record.evaluation.criteria for e in c.evidence]
    assert any("[EMAIL]" in text for text in evidence) and not any("@" in text for text in evidence)
    assert record.metrics == P.compute_metrics(original)
    plain = P.process_call(item, P.ProcessSettings(data_dir=str(tmp_path), redact=False, metrics=False))
    assert plain.evaluation.to_dict() == scored.to_dict() and plain.metrics is None and not plain.redacted
    assert plain.transcript.to_dict() == original.to_dict()
    assert P.process_call(item, P.ProcessSettings(data_dir=str(tmp_path), score=False)).evaluation is None


def test_process_call_with_the_roles_model_missing_reports_why(tmp_path, models_without_roles):
    """A mono call (speakers unknown) where qa.analysis.roles cannot load its model: the call is still
    scored (the rules accept unknown speakers for either role) and the reason is recorded, in the
    roles stage's result, the transcript's extra.roles and the evaluation's extra."""
    mono = hide_speakers(_sample("DEMO-IT-02"))
    got = P.assign_roles(mono)
    assert not got.inferred and "ruoli" in got.error and "not found" in got.error
    assert got.transcript.extra["roles"] == {"assigned": False, "reason": got.error}
    assert "roles" not in mono.extra and {s.speaker for s in got.transcript.segments} == {"unknown"}
    assert P.roles_failure(got.transcript) == got.error and P.roles_failure(mono) is None
    f = tmp_path / "mono.json"
    mono.save(f)
    record = P.process_call(P.CallInput(str(f), "transcript", audio_checksum(f)),
                            P.ProcessSettings(data_dir=str(tmp_path)))
    assert record.evaluation.extra["roles_inferred"] is False
    assert record.evaluation.extra["roles_error"] == got.error
    assert len(record.evaluation.criteria) > 0


def test_a_roles_bug_is_raised_not_swallowed():
    bad = _sample("DEMO-IT-02")
    bad.segments[2].speaker = "unknown"
    bad.segments[2].text = None  # not a transcript FORMATS.md allows: qa.analysis.roles fails on it
    with pytest.raises(TypeError):
        P.assign_roles(bad)
    with pytest.raises(TypeError):
        P.prepare([_sample("DEMO-IT-01"), bad])


def test_score_each_one_bad_call_among_good_ones(tmp_path, monkeypatch):
    """The batch fails; the calls are then scored one by one: each error is reported for its own
    call (a missing rubric, a bug) and every other call gets the evaluation it gets alone."""
    rubrics = tmp_path / "rubriche"
    rubrics.mkdir()
    for name in ("comune", "assistenza"):
        shutil.copy(ROOT / "rubriche" / f"{name}.yaml", rubrics)
    monkeypatch.setenv("QA_RUBRICS_DIR", str(rubrics))
    calls = [t for t in _dev("dev-*-00[1-8].json") if t.metadata.get("call_type") == "assistenza"][:5]
    no_rubric = Transcript.load(DEVSET / "dev-it-001.json")
    no_rubric.metadata["call_type"] = "acquisizione"
    bug = _sample("DEMO-IT-02")
    bug.segments[3].speaker, bug.segments[3].text = "unknown", None
    batch = calls[:2] + [no_rubric] + calls[2:4] + [bug] + calls[4:]
    out = P.score_each(batch)
    assert [s.call_id for s in out] == [t.call_id for t in batch]
    failed = [i for i, s in enumerate(out) if s.evaluation is None]
    assert failed == [2, 5]
    assert "rubric not found" in out[2].error and out[2].source == "acquisizione"
    assert out[2].detail.startswith("acquisizione: rubric not found")
    assert out[5].error.startswith("internal error: TypeError") and out[5].source is None
    for t, s in zip(batch, out):
        if s.evaluation is not None:
            assert s.error is None and s.evaluation.to_dict() == P.score_transcript(t).to_dict()
    with pytest.raises(Exception):
        P.score_batch(batch)  # without the fallback the batch fails as a whole
    assert [s.evaluation.to_dict() for s in P.score_each(calls)] == [P.score_transcript(t).to_dict() for t in calls]
    assert P.score_each([]) == []


@pytest.mark.slow
def test_real_recording_stage_by_stage_and_through_process_call(tmp_path):
    """A mono sample recording: decode -> transcribe -> roles -> metrics -> redact -> prepare ->
    score by hand, then ``process_call`` on the same file gives the same CallRecord contents."""
    from qa.metadata import load_metadata
    from qa.transcribe import TranscribeOptions

    path = SAMPLES / "call_en_02.wav"
    row = load_metadata(SAMPLES / "calls.csv").lookup(path)
    options = TranscribeOptions(language="en")
    audio = P.decode(path)
    t = P.transcribe(audio, options, path, metadata=row)
    assert t.call_id == "DEMO-EN-02" and t.language == "en" and "call_id" not in t.metadata
    assert t.segments and {s.speaker for s in t.segments} == {"unknown"}
    assert t.extra["audio"]["agent_channel"] == "mono" and t.extra["engine"]["name"] == "faster-whisper"
    roles = P.assign_roles(t, audio)
    assert roles.inferred and "voice clusters" in roles.transcript.extra["roles"]["method"]
    assert role_accuracy(_sample("DEMO-EN-02"), roles.transcript)["accuracy"] >= 0.7
    metrics = P.compute_metrics(roles.transcript)
    redacted = P.redact(roles.transcript)
    [prepared] = P.prepare([redacted.transcript])
    assert (prepared.facts.language, prepared.facts.call_type, prepared.rubric.name) == ("en", "acquisizione",
                                                                                        "acquisizione")
    [ev] = P.score([prepared])

    item = P.CallInput(str(path), "audio", audio_checksum(path), row)
    record = P.process_call(item, P.ProcessSettings(transcribe=options, data_dir=str(tmp_path)))
    assert record.source_kind == "audio" and record.audio_path == str(path) and record.engine == "faster-whisper"
    assert Path(record.redacted_audio_path).is_file() and record.redacted
    assert [(s.speaker, s.text) for s in record.transcript.segments] == \
        [(s.speaker, s.text) for s in redacted.transcript.segments]
    assert record.evaluation.to_dict() == ev.to_dict()
    assert record.metrics == metrics
    # speakers the roles stage could not decide are given roles from the text alone for scoring
    assert record.evaluation.extra["roles_inferred"] == any(s.speaker == "unknown" for s in roles.transcript.segments)
