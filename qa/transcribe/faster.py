"""The default engine: faster-whisper (CTranslate2), int8 on CPU.

- The Silero VAD bundled with faster-whisper skips silence: each channel of a dual-channel
  call is silent about half the time (the other party is talking).
- The VAD's speech threshold is 0.35, not Silero's 0.5: on 8 kHz telephone audio (band-limited,
  which Silero was not trained on) 0.5 drops whole sentences of some voices, while 0.35 keeps them
  and lets almost no more silence through (bench/transcribe_faster.py, tests/test_festival_voices.py).
- Speech stretches found by the VAD are decoded with ``vad_gap_s`` (default 1 s) of silence between
  them, not glued end to end as faster-whisper's own ``vad_filter`` does. Glued, the turns of one
  party (separated in the call by the other party's turns) run into each other: Whisper merges
  several turns into one segment spanning the other party's talk, and drops or garbles the first
  words of a turn. With the gap each turn comes back as its own segment, its times mapped back to
  the recording (bench/transcribe_faster.py, tests/test_transcribe.py). ``vad_gap_s=0`` is
  faster-whisper's plain ``vad_filter``.
- Language detection is restricted to the languages the project supports
  (``qa.constants.LANGS``): Whisper's best guess among it/de/fr/en, not e.g. Spanish for a
  short Italian reply.
- Word timestamps are on. Segment ``confidence`` = exp(avg_logprob), the geometric mean of the
  decoder's token probabilities for that segment (in [0, 1]); words carry their own
  ``probability``.
- ``batched=True`` uses faster-whisper's BatchedInferencePipeline. On the 2-core CPU this was
  measured on (bench/transcribe_faster.py) it does not pay, so it is off by default.
- ``workers`` (default 2): CTranslate2 ``num_workers``, i.e. how many channels may be decoded at
  the same time from different threads. ``transcribe_file`` runs the two channels of a stereo
  call concurrently when ``parallel_channels`` > 1. Whisper's beam search uses several cores
  poorly, so on a small CPU two channels at once finish sooner than one after the other
  (bench/transcribe_faster.py).
- ``cpu_threads`` (default: all cores) is per worker. A mono recording (one channel, one worker)
  then uses every core: 1.74x faster in wall time on 2 cores than with the cores split between the
  workers. Two channels at once then ask for twice as many threads as there are cores, which cost
  nothing measurable on a dual-channel call (RTF 0.113-0.116 against 0.115-0.120, 2 cores).
  The environment variable ``QA_WHISPER_THREADS`` (``qa.config.whisper_threads``, a whole number) replaces "all cores" as
  that default, for a process that shares the machine with others doing the same (the test suite
  gives each of its pytest-xdist workers its share of the cores: tests/conftest.py); unset, empty
  or 0 means all cores. An explicit ``cpu_threads`` always wins.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from itertools import groupby

import numpy as np

from ..config import whisper_threads
from ..constants import LANGS
from ..errors import ModelError
from ..model import Segment, Word
from .models import is_bundled, resolve_model
from .base import SAMPLE_RATE, ChannelResult

# Shortest stretch of speech worth sending to Whisper (VAD blips, clicks).
_MIN_SPEECH_S = 0.2


def _one_line(e: Exception) -> str:
    text = " ".join(str(e).split())
    return text[:300] + ("..." if len(text) > 300 else "")


class FasterWhisperEngine:
    """The default engine: faster-whisper (CTranslate2 int8 on CPU) with the silero VAD (see the module docstring)."""
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
        languages: Sequence[str] | None = LANGS,
        workers: int = 2,
        vad_threshold: float = 0.35,
        vad_gap_s: float = 1.0,
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
        self.vad_gap_s = max(0.0, float(vad_gap_s))
        if cpu_threads <= 0:
            # all cores for each worker (CTranslate2's own default is 4 threads per worker whatever
            # the machine has): a mono file keeps every core busy; see the module notes
            cpu_threads = whisper_threads()
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
        self._reuse_encoder_output()

    def _reuse_encoder_output(self) -> None:
        """Language detection encodes the first 30 s window of a channel and transcription encodes
        it again (faster-whisper 1.2 does not pass the first on): remember each thread's last
        encoder output by a hash of its input features and hand it back when the same features
        come again. The encoder is deterministic, so this changes no result; on a short clip it
        saves one of its two encoder passes, the largest cost of a clip (bench/transcribe.py)."""
        import hashlib

        encode = self.model.encode
        last = threading.local()

        def encode_once(features: np.ndarray):
            key = hashlib.blake2b(np.ascontiguousarray(features).data, digest_size=16).digest()
            hit = getattr(last, "value", None)
            if hit is not None and hit[0] == key:
                return hit[1]
            out = encode(features)
            last.value = (key, out)
            return out

        self.model.encode = encode_once

    @property
    def parallel_channels(self) -> int:
        """How many channels may be decoded at the same time (one per CTranslate2 worker)."""
        return self.workers

    def describe(self) -> dict:
        """The engine, model and settings, as written into ``Transcript.extra.engine``."""
        return {"name": self.name, "model": self.model_name, "version": self.version,
                "compute_type": self.compute_type, "vad": self.vad, "batched": self.batched,
                "cpu_threads": self.cpu_threads, "workers": self.workers,
                "vad_threshold": self.vad_threshold if self.vad else None,
                "vad_gap_s": self.vad_gap_s if self.vad else None}

    # ----- language -----
    def detect_language(self, audio: np.ndarray, speech_only: bool = False) -> tuple[str | None, float | None]:
        """Most probable language (restricted to ``self.languages``) and its probability.
        ``speech_only``: the audio is already the VAD's speech, not to be filtered again."""
        if self.vad and not speech_only:
            from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

            chunks = get_speech_timestamps(audio, VadOptions(threshold=self.vad_threshold))
            if not chunks:
                return None, None
            pieces, _ = collect_chunks(audio, chunks)
            audio = np.concatenate(pieces)
        if audio.size < _MIN_SPEECH_S * SAMPLE_RATE:
            return None, None
        # the features of the first window exactly as transcribe() will cut them (it leaves out the
        # last frame), so that window's encoder output is reused (_reuse_encoder_output)
        features = self.model.feature_extractor(audio)
        features = features[..., : min(features.shape[-1] - 1, self.model.feature_extractor.nb_max_frames)]
        _, _, probs = self.model.detect_language(features=features)
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
            timeline = None
            if self.vad and self.vad_gap_s > 0 and self._pipeline is None:
                timeline = _SpeechTimeline.build(audio, self.vad_threshold, self.vad_gap_s)
                if timeline is None:  # no speech at all on this channel
                    return ChannelResult(segments=[], language=language, info={"speech": 0.0})
                audio = timeline.audio
            if language is None:
                # on the audio Whisper will decode, so that its first window is encoded only once
                language, lang_prob = self.detect_language(audio, speech_only=timeline is not None)
                if language is None:  # no speech at all on this channel
                    return ChannelResult(segments=[], language=None, info={"speech": 0.0})
            own_vad = self.vad and timeline is None  # faster-whisper's vad_filter (speech glued)
            kwargs = dict(language=language, beam_size=self.beam_size, word_timestamps=True,
                          vad_filter=own_vad)
            if own_vad:
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
            start_at = end_at = float  # identity when the audio was not rebuilt
            if timeline is not None:
                start_at, end_at = timeline.start_at, timeline.end_at
            for s in seg_iter:
                text = s.text.strip()
                if progress is not None:
                    progress(end_at(float(s.end)))
                if not text:
                    continue
                words, raw, stretch_of = [], [], []
                for w in s.words or []:
                    if w.word.strip():
                        w_start = start_at(float(w.start))
                        words.append(Word(w.word.strip(), w_start, max(w_start, end_at(float(w.end))),
                                          float(w.probability)))
                        raw.append(w.word)
                        if timeline is not None:
                            stretch_of.append(timeline.stretch_of((float(w.start) + float(w.end)) / 2))
                start = start_at(float(s.start))
                end = max(start, end_at(float(max(s.end, s.start))))
                confidence = min(1.0, math.exp(s.avg_logprob))
                extra = {"no_speech_prob": round(float(s.no_speech_prob), 4)}
                if len(set(stretch_of)) > 1:
                    # Whisper ran words of separate speech stretches into one segment: between them
                    # this party was silent (the other was talking), so they are separate turns
                    for _, run in groupby(range(len(words)), key=stretch_of.__getitem__):
                        run = list(run)
                        i, j = run[0], run[-1] + 1
                        part = words[i:j]
                        segments.append(Segment(speaker="unknown", start=max(0.0, part[0].start), end=part[-1].end,
                                                text="".join(raw[i:j]).strip(), words=part,
                                                confidence=confidence, extra=dict(extra)))
                    continue
                if words:  # word timings are finer than the segment's 20 ms grid and VAD edges
                    start, end = min(start, words[0].start), max(end, words[-1].end)
                segments.append(
                    Segment(
                        speaker="unknown",
                        start=max(0.0, start),
                        end=end,
                        text=text,
                        words=words,
                        confidence=confidence,
                        extra=extra,
                    )
                )
        return ChannelResult(
            segments=segments,
            language=language,
            language_probability=lang_prob,
            info={"speech": round(timeline.speech_s if timeline is not None
                                  else float(getattr(info, "duration_after_vad", 0.0) or 0.0), 3)},
        )


class _SpeechTimeline:
    """The speech stretches of a channel (Silero VAD, as faster-whisper finds them) laid end to end
    with ``gap_s`` of silence between them, and the map from that audio's times back to the
    recording's. A time inside a gap maps to the start of the next stretch (``start_at``) or to
    the end of the previous one (``end_at``)."""

    def __init__(self, audio: np.ndarray, new_starts: np.ndarray, orig_starts: np.ndarray, lengths: np.ndarray):
        self.audio = audio
        self._new = new_starts
        self._orig = orig_starts
        self._len = lengths
        self.speech_s = float(lengths.sum())

    @classmethod
    def build(cls, audio: np.ndarray, threshold: float, gap_s: float) -> "_SpeechTimeline | None":
        """The speech stretches the VAD finds, joined with ``gap_s`` of silence between them (None: no
        speech)."""
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        chunks = get_speech_timestamps(audio, VadOptions(threshold=threshold))
        if not chunks:
            return None
        gap = np.zeros(int(round(gap_s * SAMPLE_RATE)), dtype=np.float32)
        pieces, new_starts, orig_starts, lengths = [], [], [], []
        pos = 0
        for i, c in enumerate(chunks):
            if i:
                pieces.append(gap)
                pos += gap.size
            piece = audio[c["start"]:c["end"]]
            pieces.append(piece)
            new_starts.append(pos / SAMPLE_RATE)
            orig_starts.append(c["start"] / SAMPLE_RATE)
            lengths.append(piece.size / SAMPLE_RATE)
            pos += piece.size
        return cls(np.concatenate(pieces), np.array(new_starts), np.array(orig_starts), np.array(lengths))

    def _locate(self, t: float) -> tuple[int, float]:
        i = max(0, int(np.searchsorted(self._new, t, side="right")) - 1)
        return i, t - self._new[i]

    def stretch_of(self, t: float) -> int:
        """Index of the speech stretch a time of the rebuilt audio belongs to (in a gap: the
        nearer of the two stretches around it)."""
        i, into = self._locate(t)
        if into >= self._len[i] and i + 1 < self._len.size and t - (self._new[i] + self._len[i]) > self._new[i + 1] - t:
            return i + 1
        return i

    def start_at(self, t: float) -> float:
        """Time in the original audio of a segment start at ``t`` in the rebuilt audio."""
        i, into = self._locate(t)
        if into >= self._len[i] and i + 1 < self._len.size:  # in the gap after stretch i
            return float(self._orig[i + 1])
        return float(self._orig[i] + min(into, self._len[i]))

    def end_at(self, t: float) -> float:
        """Time in the original audio of a segment end at ``t`` in the rebuilt audio."""
        i, into = self._locate(t)
        return float(self._orig[i] + min(into, self._len[i]))
