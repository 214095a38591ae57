"""The default engine: faster-whisper (CTranslate2), int8 on CPU.

- The Silero VAD bundled with faster-whisper skips silence: each channel of a dual-channel
  call is silent about half the time (the other party is talking).
- The VAD's speech threshold is 0.35, not Silero's 0.5: on 8 kHz telephone audio (band-limited,
  which Silero was not trained on) 0.5 drops whole sentences of some voices, while 0.35 keeps them
  and lets almost no more silence through (bench/transcribe_faster.py, tests/test_festival_voices.py).
- Language detection is restricted to the languages the project supports
  (``qa.config.LANGUAGES``): Whisper's best guess among it/de/fr/en, not e.g. Spanish for a
  short Italian reply.
- Word timestamps are on. Segment ``confidence`` = exp(avg_logprob), the geometric mean of the
  decoder's token probabilities for that segment (in [0, 1]); words carry their own
  ``probability``.
- ``batched=True`` uses faster-whisper's BatchedInferencePipeline. On the 2-core CPU this was
  measured on (bench/transcribe_faster.py) it does not pay, so it is off by default.
- ``workers`` (default 2): CTranslate2 ``num_workers``, i.e. how many channels may be decoded at
  the same time from different threads. ``transcribe_file`` runs the two channels of a stereo
  call concurrently when ``parallel_channels`` > 1. Whisper's beam search uses several cores
  poorly, so on a small CPU two channels with ``cpu_threads`` split between them finish sooner
  than one after the other with all threads each (bench/transcribe_faster.py).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Sequence

import numpy as np

from .. import config
from ..errors import ModelError
from ..model import Segment, Word
from ..whisper_models import is_bundled, resolve_model
from .base import SAMPLE_RATE, ChannelResult

# Shortest stretch of speech worth sending to Whisper (VAD blips, clicks).
_MIN_SPEECH_S = 0.2


def _one_line(e: Exception) -> str:
    text = " ".join(str(e).split())
    return text[:300] + ("..." if len(text) > 300 else "")


class FasterWhisperEngine:
    name = "faster-whisper"

    def __init__(
        self,
        model: str = "base",
        compute_type: str = "int8",
        cpu_threads: int = 0,
        vad: bool = True,
        batched: bool = False,
        batch_size: int = 8,
        beam_size: int = 5,
        languages: Sequence[str] | None = config.LANGUAGES,
        workers: int = 2,
        vad_threshold: float = 0.35,
    ):
        from faster_whisper import WhisperModel
        import faster_whisper

        self.model_name = str(model)
        self.compute_type = compute_type
        self.vad = vad
        self.batched = batched
        self.batch_size = batch_size
        self.beam_size = beam_size
        self.languages = tuple(languages) if languages else None
        self.workers = max(1, int(workers))
        self.vad_threshold = float(vad_threshold)
        if cpu_threads <= 0:
            # all cores, split between the concurrent workers (CTranslate2's own default is 4
            # threads per worker whatever the machine has)
            cpu_threads = max(1, (os.cpu_count() or 1) // self.workers)
        self.cpu_threads = cpu_threads
        self.version = faster_whisper.__version__
        self.model_path = resolve_model(self.model_name)
        try:
            self.model = WhisperModel(
                self.model_path,
                device="cpu",
                compute_type=compute_type,
                cpu_threads=cpu_threads,
                num_workers=self.workers,
                local_files_only=is_bundled(self.model_name) or self.model_path != self.model_name,
            )
        except Exception as e:  # download failures, corrupt folders, bad compute types
            if self.model_path == self.model_name:  # an official name faster-whisper tried to fetch
                raise ModelError(
                    f"Whisper model '{self.model_name}' is not bundled and could not be downloaded "
                    f"({type(e).__name__}); use --model base, or a path to a CTranslate2 model folder"
                ) from None
            raise ModelError(f"cannot load Whisper model '{self.model_name}': {_one_line(e)}") from None
        self._pipeline = None
        if batched:
            from faster_whisper import BatchedInferencePipeline

            self._pipeline = BatchedInferencePipeline(self.model)
        # at most `workers` CTranslate2 calls at a time per engine object
        self._lock = threading.BoundedSemaphore(self.workers)

    @property
    def parallel_channels(self) -> int:
        return self.workers

    def describe(self) -> dict:
        return {"name": self.name, "model": self.model_name, "version": self.version,
                "compute_type": self.compute_type, "vad": self.vad, "batched": self.batched,
                "cpu_threads": self.cpu_threads, "workers": self.workers,
                "vad_threshold": self.vad_threshold if self.vad else None}

    # ----- language -----
    def detect_language(self, audio: np.ndarray) -> tuple[str | None, float | None]:
        """Most probable language (restricted to ``self.languages``) and its probability."""
        if self.vad:
            from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

            chunks = get_speech_timestamps(audio, VadOptions(threshold=self.vad_threshold))
            if not chunks:
                return None, None
            pieces, _ = collect_chunks(audio, chunks)
            audio = np.concatenate(pieces)
        if audio.size < _MIN_SPEECH_S * SAMPLE_RATE:
            return None, None
        _, _, probs = self.model.detect_language(audio)
        if self.languages:
            probs = [(lang, p) for lang, p in probs if lang in self.languages] or probs
        lang, p = max(probs, key=lambda lp: lp[1])
        return lang, float(p)

    # ----- transcription -----
    def transcribe_channel(
        self,
        audio: np.ndarray,
        language: str | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> ChannelResult:
        """Transcribe one channel (float32 mono, 16 kHz). ``progress(seconds_done)`` is called
        as segments come out, when given."""
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        with self._lock:
            lang_prob = None
            if language is None:
                language, lang_prob = self.detect_language(audio)
                if language is None:  # no speech at all on this channel
                    return ChannelResult(segments=[], language=None, info={"speech": 0.0})
            kwargs = dict(language=language, beam_size=self.beam_size, word_timestamps=True,
                          vad_filter=self.vad)
            if self.vad:
                kwargs["vad_parameters"] = {"threshold": self.vad_threshold}
            if self._pipeline is not None:
                if not self.vad:  # the batched pipeline needs chunks: fixed 30 s windows (seconds)
                    total = audio.size / SAMPLE_RATE
                    kwargs["clip_timestamps"] = [{"start": float(t), "end": float(min(t + 30, total))}
                                                 for t in range(0, math.ceil(total), 30)]
                seg_iter, info = self._pipeline.transcribe(audio, batch_size=self.batch_size, **kwargs)
            else:
                seg_iter, info = self.model.transcribe(audio, **kwargs)
            segments: list[Segment] = []
            for s in seg_iter:
                text = s.text.strip()
                if progress is not None:
                    progress(float(s.end))
                if not text:
                    continue
                words = [
                    Word(w.word.strip(), float(w.start), float(max(w.end, w.start)), float(w.probability))
                    for w in (s.words or [])
                    if w.word.strip()
                ]
                start, end = float(s.start), float(max(s.end, s.start))
                if words:  # word timings are finer than the segment's 20 ms grid and VAD edges
                    start, end = min(start, words[0].start), max(end, words[-1].end)
                segments.append(
                    Segment(
                        speaker="unknown",
                        start=max(0.0, start),
                        end=end,
                        text=text,
                        words=words,
                        confidence=min(1.0, math.exp(s.avg_logprob)),
                        extra={"no_speech_prob": round(float(s.no_speech_prob), 4)},
                    )
                )
        return ChannelResult(
            segments=segments,
            language=language,
            language_probability=lang_prob,
            info={"speech": round(float(getattr(info, "duration_after_vad", 0.0) or 0.0), 3)},
        )
