"""qa.audio on real recordings and on broken files made from them in tmp_path."""

from __future__ import annotations

import hashlib
import subprocess
import wave

import numpy as np
import pytest

from qa.audio import SAMPLE_RATE, audio_checksum, load_audio
from qa.errors import AudioError


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def wav_duration(path) -> float:
    with wave.open(str(path)) as w:
        return w.getnframes() / w.getframerate()


def one_line_error(path, **kwargs) -> AudioError:
    with pytest.raises(AudioError) as info:
        load_audio(path, **kwargs)
    err = info.value
    assert "\n" not in str(err) and str(err).startswith(str(path))
    return err


# ----- good inputs -----

def test_mono_wav(eval_audio_dir):
    src = eval_audio_dir / "leopard_test_it.wav"
    a = load_audio(src)
    assert a.n_channels == 1 and len(a.channels) == 1
    assert a.sample_rate == SAMPLE_RATE and a.source_sample_rate == 16000
    assert a.format == "wav"
    assert a.duration == pytest.approx(wav_duration(src), abs=0.01)
    x = a.channels[0]
    assert x.dtype == np.float32 and x.ndim == 1 and np.abs(x).max() <= 1.0
    # the samples are the file's: compare with the raw 16-bit PCM
    with wave.open(str(src)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
    assert np.allclose(x, pcm, atol=1e-4)


def test_stereo_wav_keeps_channels_apart(eval_audio_dir):
    a = load_audio(eval_audio_dir / "stereo_diarization.wav")
    assert a.n_channels == 2 and len(a.channels) == 2
    assert a.duration == pytest.approx(5.0, abs=0.01)
    left, right = a.channels
    assert left.shape == right.shape
    # two different speakers: the channels are far from identical
    assert np.corrcoef(left, right)[0, 1] < 0.5


def test_8khz_stereo_is_resampled_and_split(eval_audio_dir, tmp_path):
    it, fr = eval_audio_dir / "leopard_test_it.wav", eval_audio_dir / "leopard_test_fr.wav"
    out = tmp_path / "call8k.wav"
    ffmpeg("-i", str(it), "-i", str(fr), "-filter_complex", "[0:a][1:a]amerge=inputs=2[a]", "-map", "[a]",
           "-ar", "8000", "-ac", "2", "-t", "5", str(out))
    a = load_audio(out)
    assert a.source_sample_rate == 8000 and a.n_channels == 2 and a.sample_rate == 16000
    assert a.duration == pytest.approx(5.0, abs=0.01)
    assert len(a.channels[0]) == len(a.channels[1]) == pytest.approx(5 * 16000, abs=2)
    # each channel still carries its own source: compare energy envelopes (100 ms frames)
    ref_it = load_audio(it).channels[0][: len(a.channels[0])]
    ref_fr = load_audio(fr).channels[0][: len(a.channels[0])]

    def env(x):
        n = len(x) // 1600 * 1600
        return np.sqrt((x[:n].reshape(-1, 1600) ** 2).mean(axis=1))

    assert np.corrcoef(env(a.channels[0]), env(ref_it))[0, 1] > 0.95
    assert np.corrcoef(env(a.channels[1]), env(ref_fr))[0, 1] > 0.95
    assert np.corrcoef(env(a.channels[0]), env(ref_fr))[0, 1] < 0.7


@pytest.mark.parametrize(
    "ext,codec",
    [("mp3", ["-c:a", "libmp3lame", "-b:a", "32k"]),
     ("ogg", ["-c:a", "libopus", "-b:a", "24k"]),
     ("flac", ["-c:a", "flac"]),
     ("m4a", ["-c:a", "aac", "-b:a", "48k"])],
)
def test_compressed_formats(eval_audio_dir, tmp_path, ext, codec):
    src = eval_audio_dir / "leopard_test_de.wav"
    out = tmp_path / f"clip.{ext}"
    ffmpeg("-i", str(src), *codec, str(out))
    a = load_audio(out)
    assert len(a.channels) == 1 and a.sample_rate == 16000
    assert a.duration == pytest.approx(wav_duration(src), abs=0.08)  # codec padding
    ref = load_audio(src).channels[0]
    n = min(len(ref), len(a.channels[0]))
    assert np.sqrt(np.mean(a.channels[0][:n] ** 2)) == pytest.approx(np.sqrt(np.mean(ref[:n] ** 2)), rel=0.2)


def test_checksum(eval_audio_dir):
    p = eval_audio_dir / "stereo_diarization.wav"
    assert audio_checksum(p) == hashlib.sha256(p.read_bytes()).hexdigest()


# ----- bad inputs: one clear line each -----

def test_missing_file(tmp_path):
    assert "file not found" in str(one_line_error(tmp_path / "nope.wav"))


def test_directory(tmp_path):
    assert "directory" in str(one_line_error(tmp_path))


def test_zero_bytes(tmp_path):
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    assert "0 bytes" in str(one_line_error(p))


def test_zero_length_audio(eval_audio_dir, tmp_path):
    p = tmp_path / "header_only.wav"
    with wave.open(str(p), "wb") as w:  # a valid WAV header with no samples
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
    assert "zero length" in str(one_line_error(p))


def test_truncated_wav(eval_audio_dir, tmp_path):
    data = (eval_audio_dir / "leopard_test_it.wav").read_bytes()
    p = tmp_path / "cut.wav"
    p.write_bytes(data[: len(data) // 2])
    assert "truncated" in str(one_line_error(p))


@pytest.mark.parametrize("ext,codec", [("mp3", ["-c:a", "libmp3lame"]), ("m4a", ["-c:a", "aac"]),
                                       ("flac", ["-c:a", "flac"])])
def test_truncated_compressed(eval_audio_dir, tmp_path, ext, codec):
    full = tmp_path / f"full.{ext}"
    ffmpeg("-i", str(eval_audio_dir / "leopard_test_fr.wav"), *codec, str(full))
    data = full.read_bytes()
    p = tmp_path / f"cut.{ext}"
    p.write_bytes(data[: len(data) // 3])
    err = str(one_line_error(p))
    assert "truncated" in err or "corrupt" in err or "not a recognised audio file" in err


def test_corrupt_payload(eval_audio_dir, tmp_path):
    full = tmp_path / "full.mp3"
    ffmpeg("-i", str(eval_audio_dir / "leopard_test_it.wav"), "-c:a", "libmp3lame", str(full))
    data = bytearray(full.read_bytes())
    rng = np.random.default_rng(1)
    for i in range(2000, len(data), 50):
        data[i] = int(rng.integers(256))
    p = tmp_path / "damaged.mp3"
    p.write_bytes(bytes(data))
    assert "corrupt" in str(one_line_error(p))


def test_random_bytes(tmp_path):
    p = tmp_path / "noise.mp3"
    p.write_bytes(np.random.default_rng(2).bytes(30000))
    assert "not a recognised audio file" in str(one_line_error(p))


def test_text_renamed_wav(tmp_path):
    p = tmp_path / "notes.wav"
    p.write_text("Call notes: customer asked about the invoice.\n" * 20)
    assert "not a recognised audio file" in str(one_line_error(p))


def test_text_file(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("just text\n")
    assert "not a recognised audio file" in str(one_line_error(p))


@pytest.mark.parametrize("name", ["picture.png", "picture.wav"])
def test_image_is_unsupported_container(tmp_path, name):
    p = tmp_path / name
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=8x8", "-frames:v", "1", "-f", "image2", "-c:v", "png", str(p))
    assert "unsupported container" in str(one_line_error(p))


def test_video_without_audio(tmp_path):
    p = tmp_path / "screen.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=16x16:d=1", "-c:v", "mpeg4", str(p))
    assert "no audio stream" in str(one_line_error(p))


def test_over_four_hours_uses_declared_duration(tmp_path):
    # 4 h 01 min of silence as FLAC (a few MB): its header declares the length, nothing is decoded
    p = tmp_path / "long.flac"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", str(4 * 3600 + 60), "-c:a", "flac", str(p))
    err = str(one_line_error(p))
    assert "too long" in err and "4:01:00" in err


def test_custom_duration_limit(eval_audio_dir):
    err = str(one_line_error(eval_audio_dir / "stereo_diarization.wav", max_duration_s=2))
    assert "too long" in err
    assert load_audio(eval_audio_dir / "stereo_diarization.wav", max_duration_s=6).duration == pytest.approx(5.0)
