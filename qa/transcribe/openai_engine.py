"""The ``openai-whisper`` engine: the reference implementation of Whisper (PyTorch).

An optional extra (``pip install 'ascolto[openai-whisper]'``): the default engine
(faster-whisper) is several times faster on the same model. This one exists to check the
default against the reference and for sites that already run openai-whisper.

It runs the SAME weights as the default engine: the CTranslate2 model that
``qa.transcribe.models.resolve_model`` assembles offline is converted once to an openai-whisper
checkpoint (``qa.transcribe.convert``) and cached beside it. Nothing is downloaded: an official
model name that is not bundled is used only if openai-whisper already has it in its cache.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..constants import LANGS
from ..errors import AudioError, ModelError
from ..model import Segment, Word
from .base import SAMPLE_RATE, ChannelResult

EXTRA_HINT = "the openai-whisper engine needs the extra: pip install 'ascolto[openai-whisper]'"

# Models that qa.transcribe.models ships as CTranslate2 packages (converted here).
BUNDLED = ("base", "small")

# Shortest stretch of speech worth sending to Whisper (as qa.transcribe.faster).
_MIN_SPEECH_S = 0.2


def _import_whisper():
    try:
        import torch
        import whisper
    except ImportError:
        raise ModelError(EXTRA_HINT) from None
    return whisper, torch


def _official_cached(whisper, name: str) -> Path | None:
    """The checkpoint openai-whisper would download for ``name``, if it is already cached
    (checked against the SHA-256 in its URL, as whisper does), else None."""
    url = whisper._MODELS.get(name)
    if url is None:
        return None
    root = os.path.join(os.getenv("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "whisper")
    path = Path(root) / os.path.basename(url)
    if not path.is_file():
        return None
    from .convert import file_sha256

    if file_sha256(path) != url.split("/")[-2]:
        raise ModelError(f"the cached openai-whisper model {name!r} fails its checksum; delete it", str(path))
    return path


def _load_checkpoint(whisper, path: Path, device: str):
    try:
        return whisper.load_model(str(path), device=device)
    except ModelError:
        raise
    except Exception as e:  # torch.load / load_state_dict raise many kinds
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ModelError(f"not a loadable openai-whisper checkpoint ({first})", str(path)) from None


class OpenAIWhisperEngine:
    """``model``: "base" or "small" (the bundled weights), a CTranslate2 Whisper model directory,
    an openai-whisper ``.pt`` checkpoint, or an official openai-whisper name already in its cache.
    ``device``: "cpu" or "cuda". ``cpu_threads`` sets torch's thread count (process-wide).
    Everything around the decoder is what the default engine (``qa.transcribe.faster``) does,
    so that the two differ only in the Whisper implementation: faster-whisper's Silero VAD
    keeps the speech (``vad``), language detection on the first 30 s of speech is restricted
    to ``languages``, decoding uses faster-whisper's defaults (beam 5, temperature fallback,
    conditioning on previous text), segment ``confidence`` = exp(avg_logprob)."""

    name = "openai-whisper"

    def __init__(
        self,
        model: str = "base",
        device: str = "cpu",
        cpu_threads: int | None = None,
        beam_size: int = 5,
        vad: bool = True,
        languages: Sequence[str] | None = LANGS,
        cache_dir: str | Path | None = None,
    ):
        self._whisper, self._torch = _import_whisper()
        if cpu_threads:
            self._torch.set_num_threads(int(cpu_threads))
        self.model_name = str(model)
        self.device = device
        self.beam_size = beam_size
        self.vad = vad
        self.languages = tuple(languages) if languages else None
        self.checkpoint, heads = self._checkpoint_for(self.model_name, cache_dir)
        self.model = _load_checkpoint(self._whisper, self.checkpoint, device)
        if isinstance(heads, list):  # (layer, head) pairs from a CTranslate2 config.json
            from .convert import alignment_heads_dump

            dims = self.model.dims
            heads = alignment_heads_dump(heads, dims.n_text_layer, dims.n_text_head)
        if heads is not None:  # word timestamps use the same heads as faster-whisper
            self.model.set_alignment_heads(heads)
        self._lock = threading.Lock()  # whisper's word timing hooks the model: one call at a time

    def describe(self) -> dict:
        """The engine, model and settings, as written into ``Transcript.extra.engine``."""
        return {"name": self.name, "model": self.model_name, "version": self._whisper.__version__,
                "device": self.device, "vad": self.vad}

    # ----- model resolution -----
    def _checkpoint_for(self, model: str, cache_dir) -> tuple[Path, bytes | list | None]:
        from .convert import openai_checkpoint

        path = Path(model).expanduser()
        if path.is_dir():
            return self._converted(openai_checkpoint(path, cache_dir), path)
        if path.is_file():
            return path, None
        if model in BUNDLED:
            from .models import resolve_model

            try:
                ct2_dir = Path(resolve_model(model))
            except ModelError:
                cached = _official_cached(self._whisper, model)
                if cached is None:  # e.g. 'small' not installed, or its packages unusable
                    raise
                return cached, self._whisper._ALIGNMENT_HEADS[model]
            return self._converted(openai_checkpoint(ct2_dir, cache_dir), ct2_dir)
        cached = _official_cached(self._whisper, model)
        if cached is not None:
            return cached, self._whisper._ALIGNMENT_HEADS[model]
        if model in self._whisper._MODELS:
            raise ModelError(
                f"openai-whisper model {model!r} is not available offline (Ascolto never downloads models); "
                f"use one of {', '.join(BUNDLED)}, a CTranslate2 model directory or a .pt checkpoint"
            )
        raise ModelError(
            f"unknown Whisper model {model!r}: use one of {', '.join(BUNDLED)}, "
            "a CTranslate2 model directory or an openai-whisper .pt checkpoint"
        )

    @staticmethod
    def _converted(checkpoint: Path, ct2_dir: Path) -> tuple[Path, list | None]:
        """The checkpoint and the alignment heads of the CTranslate2 model's config.json."""
        import json

        config = ct2_dir / "config.json"
        heads = json.loads(config.read_text(encoding="utf-8")).get("alignment_heads") if config.is_file() else None
        return checkpoint, heads or None

    # ----- transcription -----
    def _detect_language(self, audio) -> tuple[str, float | None]:
        """Language of the first 30 s, as whisper.transcribe does it, with its probability."""
        from whisper.audio import N_FRAMES, N_SAMPLES, log_mel_spectrogram, pad_or_trim

        if not self.model.is_multilingual:
            return "en", None
        mel = log_mel_spectrogram(audio, self.model.dims.n_mels, padding=N_SAMPLES)
        segment = pad_or_trim(mel[:, :N_FRAMES], N_FRAMES).to(self.model.device).to(self._dtype)
        _, probs = self.model.detect_language(segment)
        if self.languages:
            probs = {k: v for k, v in probs.items() if k in self.languages} or probs
        language = max(probs, key=probs.get)
        return language, float(probs[language])

    @property
    def _dtype(self):
        return self._torch.float16 if self.device != "cpu" else self._torch.float32

    def transcribe_channel(self, audio: np.ndarray, language: str | None = None) -> ChannelResult:
        """``audio``: float32 mono at 16 kHz; ``language``: it/de/fr/en or None (detect)."""
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        if audio.ndim != 1:
            raise AudioError(f"an engine takes one channel (1-D audio), got shape {audio.shape}")
        info: dict = {}
        duration = audio.size / SAMPLE_RATE
        ts_map = None
        if self.vad and audio.size:
            from faster_whisper.vad import SpeechTimestampsMap, collect_chunks, get_speech_timestamps

            chunks = get_speech_timestamps(audio)
            info["speech"] = round(sum(c["end"] - c["start"] for c in chunks) / SAMPLE_RATE, 3)
            if chunks:
                audio = np.concatenate(collect_chunks(audio, chunks)[0])
                ts_map = SpeechTimestampsMap(chunks, SAMPLE_RATE)
            else:
                audio = audio[:0]
        if audio.size < _MIN_SPEECH_S * SAMPLE_RATE:  # no speech on this channel
            return ChannelResult([], language, None, info)
        tensor = self._torch.from_numpy(audio)
        probability = None
        with self._lock, self._torch.inference_mode():
            if language is None:
                language, probability = self._detect_language(tensor)
            result = self._whisper.transcribe(
                self.model,
                tensor,
                language=language,
                task="transcribe",
                beam_size=self.beam_size,
                best_of=self.beam_size,
                word_timestamps=True,
                condition_on_previous_text=True,
                fp16=self.device != "cpu",
                verbose=None,
            )
        segments = [s for s in (_segment(r, ts_map, duration) for r in result["segments"]) if s is not None]
        return ChannelResult(segments, result.get("language") or language, probability, info)


def _segment(raw: dict, ts_map, duration: float) -> Segment | None:
    """A whisper result segment as a ``Segment``, on the time line of the original channel
    (undoing the VAD cut as faster-whisper's ``restore_speech_timestamps`` does)."""
    text = raw["text"].strip()
    if not text:
        return None
    words = []
    for w in raw.get("words") or []:
        ws, we = float(w["start"]), float(max(w["end"], w["start"]))
        if ts_map is not None:  # both ends in the chunk of the word's middle
            chunk = ts_map.get_chunk_index((ws + we) / 2)
            ws, we = ts_map.get_original_time(ws, chunk), ts_map.get_original_time(we, chunk)
        if w["word"].strip():
            words.append(Word(w["word"].strip(), ws, we, float(w["probability"])))
    if ts_map is not None:
        start = ts_map.get_original_time(float(raw["start"]))
        end = ts_map.get_original_time(float(raw["end"]), is_end=True)
    else:
        start, end = float(raw["start"]), float(raw["end"])
    if words:  # the segment covers its words
        start, end = min(start, words[0].start), max(end, words[-1].end)
    start = min(max(0.0, start), duration)
    end = min(max(start, end), duration)
    for w in words:
        w.start = min(max(start, w.start), end)
        w.end = min(max(w.start, w.end), end)
    avg_logprob = raw.get("avg_logprob")
    return Segment(
        speaker="unknown",
        start=start,
        end=end,
        text=text,
        words=words,
        confidence=None if avg_logprob is None else min(1.0, math.exp(float(avg_logprob))),
        extra={"no_speech_prob": round(float(raw.get("no_speech_prob", 0.0)), 4)},
    )
