"""The openai-whisper engine on the bundled weights (converted from CTranslate2).

Real audio (/work/shared/eval/audio), the real conversion of the real base model, the real
faster-whisper engine as the point of comparison.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import jiwer
import numpy as np
import pytest
import torch
import whisper

from qa.audio import load_audio
from qa.errors import ModelError
from qa.transcribe.convert import ct2_to_openai_checkpoint, openai_checkpoint, read_ct2_model
from qa.transcribe.openai_engine import OpenAIWhisperEngine
from qa.transcribe.models import resolve_model

from .conftest import once_per_run

pytestmark = pytest.mark.slow

NORMALISE = jiwer.Compose(
    [
        jiwer.ToLowerCase(),
        jiwer.RemovePunctuation(),
        jiwer.RemoveMultipleSpaces(),
        jiwer.Strip(),
        jiwer.ReduceToListOfListOfWords(),
    ]
)

# (file, channel index, key in references.json, maximum WER). The base model is small: these
# bounds are what it does on clean read speech, with a margin (measured: it 0.18, de 0.30,
# fr 0.15, en 0.00 / 0.00).
CLIPS = [
    ("leopard_test_it.wav", 0, None, 0.40),
    ("leopard_test_de.wav", 0, None, 0.40),
    ("leopard_test_fr.wav", 0, None, 0.25),
    ("stereo_diarization.wav", 0, "left", 0.10),
    ("stereo_diarization.wav", 1, "right", 0.10),
]
CLIP_IDS = ["it", "de", "fr", "en-left", "en-right"]


def norm(text: str) -> str:
    return " ".join(NORMALISE(text)[0])


def wer(reference: str, hypothesis: str) -> float:
    return jiwer.wer(reference, hypothesis, reference_transform=NORMALISE, hypothesis_transform=NORMALISE)


def reference_for(refs: dict, file: str, key: str | None) -> tuple[str, str]:
    entry = refs[file]
    text = entry["channels"][key] if key else entry["transcript"]
    return text, entry["language"]


@pytest.fixture(scope="module")
def ct2_dir() -> Path:
    return Path(resolve_model("base"))


@pytest.fixture(scope="module")
def engine(ct2_dir) -> OpenAIWhisperEngine:
    return OpenAIWhisperEngine("base")


@pytest.fixture(scope="module")
def faster_engine():
    from qa.transcribe.faster import FasterWhisperEngine

    # The same weights in the same precision: what the conversion must reproduce.
    return FasterWhisperEngine("base", compute_type="float32")


@pytest.fixture(scope="module")
def results(request, tmp_path_factory, eval_audio_dir):
    """Each clip transcribed once by each engine: {clip id: (openai result, faster result, seconds)};
    once per test run, shared by the xdist workers (ten transcriptions, minutes of CPU)."""
    def transcribe_all(_folder):
        engine, faster_engine = request.getfixturevalue("engine"), request.getfixturevalue("faster_engine")
        out = {}
        for (file, channel, _, _), cid in zip(CLIPS, CLIP_IDS):
            decoded = load_audio(eval_audio_dir / file)
            audio = decoded.channels[channel]
            out[cid] = (engine.transcribe_channel(audio), faster_engine.transcribe_channel(audio), decoded.duration)
        return out

    return once_per_run(tmp_path_factory, "openai-results", transcribe_all)


def text_of(result) -> str:
    return " ".join(s.text for s in result.segments)


# ----- conversion -----


def test_converted_tensors_are_the_ct2_arrays_unfused(engine, ct2_dir):
    arrays, aliases, spec = read_ct2_model(ct2_dir / "model.bin")
    assert spec == "WhisperSpec"
    ckpt = torch.load(engine.checkpoint, map_location="cpu", weights_only=True)
    sd, dims = ckpt["model_state_dict"], ckpt["dims"]
    assert dims["n_vocab"] == arrays["decoder/embeddings/weight"].shape[0] == 51865
    assert dims["n_audio_layer"] == dims["n_text_layer"] == 6
    assert dims["n_audio_head"] == dims["n_text_head"] == 8
    assert dims["n_mels"] == 80 and dims["n_audio_state"] == dims["n_text_state"] == 512

    def t(name: str) -> np.ndarray:
        return sd[name].numpy()

    for part, last in (("encoder", 0), ("decoder", 5)):
        fused_w = arrays[f"{part}/layer_{last}/self_attention/linear_0/weight"]
        fused_b = arrays[f"{part}/layer_{last}/self_attention/linear_0/bias"]
        p = f"{part}.blocks.{last}.attn"
        np.testing.assert_array_equal(
            np.concatenate([t(f"{p}.query.weight"), t(f"{p}.key.weight"), t(f"{p}.value.weight")]), fused_w
        )
        np.testing.assert_array_equal(t(f"{p}.query.bias"), fused_b[:512])
        np.testing.assert_array_equal(t(f"{p}.value.bias"), fused_b[1024:])
        assert not fused_b[512:1024].any() and f"{p}.key.bias" not in sd  # Whisper's key has no bias
    cross = arrays["decoder/layer_5/attention/linear_1/weight"]
    np.testing.assert_array_equal(
        np.concatenate([t("decoder.blocks.5.cross_attn.key.weight"), t("decoder.blocks.5.cross_attn.value.weight")]),
        cross,
    )
    np.testing.assert_array_equal(t("decoder.token_embedding.weight"), arrays["decoder/embeddings/weight"])
    assert aliases["decoder/projection/weight"] == "decoder/embeddings/weight"  # tied, as in Whisper
    # The encoder's positions are openai-whisper's own sinusoids (independent implementation).
    np.testing.assert_allclose(
        t("encoder.positional_embedding").astype(np.float32), whisper.model.sinusoids(1500, 512).numpy(), atol=1e-3
    )
    # Exactly the parameters openai-whisper's model has: none missing, none extra.
    expected = set(whisper.model.Whisper(whisper.model.ModelDimensions(**dims)).state_dict())
    assert set(sd) == expected
    # Word alignment uses the heads of the CTranslate2 config (= openai-whisper's own for base).
    ours = engine.model.alignment_heads.to_dense()
    reference = whisper.model.Whisper(whisper.model.ModelDimensions(**dims))
    reference.set_alignment_heads(whisper._ALIGNMENT_HEADS["base"])
    assert torch.equal(ours, reference.alignment_heads.to_dense())


def test_reads_what_ctranslate2_itself_writes(tmp_path):
    """The container reader against CTranslate2's own serializer, dtypes included."""
    from ctranslate2.specs import model_spec

    class Layer(model_spec.LayerSpec):
        def __init__(self):
            self.weight = torch.tensor([[1.5, -2.25], [3.0, 0.1]], dtype=torch.bfloat16)
            self.bias = np.array([1.0, -0.5, 65504.0], dtype=np.float16)
            self.scale = np.array([0.125], dtype=np.float32)

    class Spec(model_spec.ModelSpec):
        def __init__(self):
            super().__init__()
            self.layer = Layer()

        @property
        def name(self):
            return "TestSpec"

    spec = Spec()
    spec.validate()
    spec._serialize(str(tmp_path / "model.bin"))
    arrays, aliases, name = read_ct2_model(tmp_path / "model.bin")
    assert name == "TestSpec" and aliases == {}
    np.testing.assert_array_equal(arrays["layer/weight"], torch.tensor([[1.5, -2.25], [3.0, 0.1]], dtype=torch.bfloat16).float().numpy())
    np.testing.assert_array_equal(arrays["layer/bias"], np.array([1.0, -0.5, 65504.0], dtype=np.float16))
    assert arrays["layer/scale"].dtype == np.float32 and arrays["layer/scale"].tolist() == [0.125]


def test_conversion_is_cached_by_checksum_and_atomic(engine, ct2_dir, tmp_path):
    first = openai_checkpoint(ct2_dir, tmp_path)
    digest = hashlib.sha256((ct2_dir / "model.bin").read_bytes()).hexdigest()
    assert first.name.startswith(digest[:32])
    mtime = first.stat().st_mtime_ns
    assert openai_checkpoint(ct2_dir, tmp_path) == first
    assert first.stat().st_mtime_ns == mtime  # reused, not converted again
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temporary files left
    # The engine's own cache sits in the model cache, beside the assembled CTranslate2 model.
    assert engine.checkpoint.parent.parent == ct2_dir.parent
    assert engine.checkpoint.name == first.name


def test_truncated_ct2_model_is_a_clear_model_error(ct2_dir, tmp_path):
    bad = tmp_path / "truncated"
    bad.mkdir()
    with open(ct2_dir / "model.bin", "rb") as f:
        (bad / "model.bin").write_bytes(f.read(20 * 2**20))
    (bad / "config.json").write_bytes((ct2_dir / "config.json").read_bytes())
    with pytest.raises(ModelError) as err:
        ct2_to_openai_checkpoint(bad, tmp_path / "out.pt")
    assert "truncated" in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "out.pt").exists()
    with pytest.raises(ModelError):
        OpenAIWhisperEngine(str(bad), cache_dir=tmp_path / "cache")


# ----- transcription -----


@pytest.mark.parametrize("cid", CLIP_IDS)
def test_transcribes_real_speech_with_low_wer(results, audio_references, cid):
    file, _, key, max_wer = CLIPS[CLIP_IDS.index(cid)]
    reference, language = reference_for(audio_references, file, key)
    result, _, _ = results[cid]
    assert result.language == language
    assert result.language_probability is not None and result.language_probability > 0.8
    assert result.segments, "no speech found"
    assert wer(reference, text_of(result)) <= max_wer, text_of(result)


@pytest.mark.parametrize("cid", CLIP_IDS)
def test_same_text_as_faster_whisper_on_the_same_weights(results, cid):
    ours, theirs, _ = results[cid]
    assert ours.language == theirs.language
    assert norm(text_of(ours)) == norm(text_of(theirs))
    # Word timings come from the same alignment heads: they agree closely.
    w1 = [w for s in ours.segments for w in s.words]
    w2 = [w for s in theirs.segments for w in s.words]
    assert [norm(w.word) for w in w1] == [norm(w.word) for w in w2]
    assert np.median([abs(a.start - b.start) for a, b in zip(w1, w2)]) <= 0.1


@pytest.mark.parametrize("cid", CLIP_IDS)
def test_segments_and_word_timestamps_are_consistent(results, cid):
    result, _, duration = results[cid]
    previous = 0.0
    for seg in result.segments:
        assert seg.speaker == "unknown"
        assert 0.0 <= seg.start <= seg.end <= duration + 1e-6
        assert seg.confidence is not None and 0.0 < seg.confidence <= 1.0
        assert seg.words, "word timestamps were asked for"
        assert norm(" ".join(w.word for w in seg.words)) == norm(seg.text)
        for w in seg.words:
            assert seg.start <= w.start <= w.end <= seg.end
            assert w.start >= previous - 1e-6  # words in time order
            assert 0.0 <= w.probability <= 1.0
            previous = w.start
        seg.to_dict()  # serialisable as FORMATS.md


def test_transcribe_file_with_the_openai_engine(eval_audio_dir, audio_references):
    from qa.transcribe import TranscribeOptions, transcribe_file

    transcript = transcribe_file(eval_audio_dir / "stereo_diarization.wav", TranscribeOptions(engine="openai-whisper"))
    assert transcript.extra["engine"]["name"] == "openai-whisper"
    assert transcript.language == "en"
    channels = audio_references["stereo_diarization.wav"]["channels"]
    for speaker, side in (("agent", "left"), ("customer", "right")):
        said = " ".join(s.text for s in transcript.segments if s.speaker == speaker)
        assert wer(channels[side], said) <= 0.10, said
    assert [s.start for s in transcript.segments] == sorted(s.start for s in transcript.segments)


def test_silence_gives_no_segments(engine):
    result = engine.transcribe_channel(np.zeros(16000 * 3, dtype=np.float32))
    assert result.segments == []


# ----- errors -----


def test_official_name_not_cached_is_an_offline_model_error(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # openai-whisper's download cache: empty
    with pytest.raises(ModelError) as err:
        OpenAIWhisperEngine("medium")
    assert "not available offline" in str(err.value) and "\n" not in str(err.value)
    assert not list(tmp_path.rglob("*.pt"))  # nothing was downloaded


def test_unknown_model_name_is_a_model_error():
    with pytest.raises(ModelError, match="unknown Whisper model"):
        OpenAIWhisperEngine("no-such-model")


def test_missing_extra_is_a_model_error_naming_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "whisper", None)  # `import whisper` now fails
    with pytest.raises(ModelError) as err:
        OpenAIWhisperEngine("base")
    assert str(err.value) == "the openai-whisper engine needs the extra: pip install 'ascolto[openai-whisper]'"
