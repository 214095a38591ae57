"""Engines, their options and the transcription stage: decoded audio -> Transcript.

``transcribe_audio`` runs the engine once per channel (stereo: the agent on one channel, the
customer on the other) or once on the mixed-down audio (mono: every segment's speaker is then
``unknown``; the pipeline's roles stage, ``qa.pipeline.assign_roles``, tells agent from
customer), and merges the segments in time order (overlaps allowed: that is overtalk).

Engines are looked up by name in ``ENGINES`` and imported lazily; ``get_engine`` keeps one
instance per (engine, model, options) per process because loading a model takes seconds.
"""

from __future__ import annotations

import importlib
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..audio import MAX_DURATION_S, DecodedAudio
from ..constants import LANGS
from ..errors import QAError
from ..model import Segment, Transcript
from .base import ChannelResult, Engine

# name -> (module, class, pip extra that provides its dependencies)
ENGINES: dict[str, tuple[str, str, str | None]] = {
    "faster-whisper": ("qa.transcribe.faster", "FasterWhisperEngine", None),
    "openai-whisper": ("qa.transcribe.openai_engine", "OpenAIWhisperEngine", "openai-whisper"),
}
AGENT_CHANNELS = ("left", "right", "mono")
_CHANNEL_NAMES = ("left", "right")


class RoleWarning(UserWarning):
    """Speakers of a mono recording could not be told apart (e.g. no role model yet)."""


@dataclass
class TranscribeOptions:
    """How to transcribe: engine and model, language (None: detected), which channel is the agent,
    the longest recording accepted, and engine-specific options (e.g. ``{"vad": False}``)."""

    engine: str = "faster-whisper"
    model: str = "base"
    language: str | None = None  # None/"auto" = detect; else one of qa.constants.LANGS
    agent_channel: str = "left"  # left | right | mono (mono on a stereo file = mix down)
    max_duration_s: float = MAX_DURATION_S
    engine_options: dict[str, Any] = field(default_factory=dict)  # e.g. {"vad": False}

    def normalised(self) -> "TranscribeOptions":
        """A checked copy ("auto" language -> None); QAError (one line) for an unknown engine,
        language or agent channel."""
        lang = (self.language or "").strip().lower() or None
        if lang == "auto":
            lang = None
        if lang is not None and lang not in LANGS:
            raise QAError(f"unsupported language {self.language!r}: use auto or one of {', '.join(LANGS)}")
        if self.agent_channel not in AGENT_CHANNELS:
            raise QAError(f"agent channel must be one of {', '.join(AGENT_CHANNELS)}, got {self.agent_channel!r}")
        if self.engine not in ENGINES:
            raise QAError(f"unknown engine {self.engine!r}: use one of {', '.join(ENGINES)}")
        return TranscribeOptions(self.engine, str(self.model or "base"), lang, self.agent_channel,
                                 self.max_duration_s, dict(self.engine_options))


_engines: dict[tuple, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(name: str = "faster-whisper", model: str = "base", **options: Any) -> Engine:
    """The engine ``name`` with ``model`` loaded, one instance per process and arguments."""
    if name not in ENGINES:
        raise QAError(f"unknown engine {name!r}: use one of {', '.join(ENGINES)}")
    key = (name, str(model), tuple(sorted(options.items())))
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            module_name, class_name, extra = ENGINES[name]
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as e:
                if extra and e.name and e.name.split(".")[0] in ("torch", "whisper"):
                    raise QAError(f"engine {name!r} needs torch and openai-whisper: "
                                  f"install the extra: pip install 'ascolto[{extra}]'") from None
                if e.name == module_name:
                    raise QAError(f"engine {name!r} is not available in this installation") from None
                raise
            engine = getattr(module, class_name)(model=model, **options)
            _engines[key] = engine
    return engine


def _majority_language(results: list[ChannelResult]) -> str | None:
    """The language most of the speech is in (weighted by transcribed characters)."""
    weight: Counter[str] = Counter()
    for r in results:
        if r.language:
            weight[r.language] += sum(len(s.text) for s in r.segments) + 1e-3 * (r.language_probability or 0.5)
    return weight.most_common(1)[0][0] if weight else None


def _engine_info(engine: Engine, options: TranscribeOptions) -> dict[str, Any]:
    describe = getattr(engine, "describe", None)
    if callable(describe):
        info = dict(describe())
    else:
        info = {"name": getattr(engine, "name", options.engine), "model": options.model}
        if getattr(engine, "version", None):
            info["version"] = engine.version
    info.setdefault("model", options.model)
    return info


def _run(engine: Engine, audio, language: str | None, progress: Callable[[float], None] | None) -> ChannelResult:
    if progress is not None:
        try:
            return engine.transcribe_channel(audio, language, progress=progress)
        except TypeError as e:  # an engine without progress reporting
            if "progress" not in str(e):
                raise
    return engine.transcribe_channel(audio, language)


def transcribe_audio(
    audio: DecodedAudio,
    options: TranscribeOptions | None = None,
    source: str | Path = "",
    metadata: dict[str, Any] | None = None,
    call_id: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> Transcript:
    """The transcription stage: one decoded recording (``qa.audio.load_audio``) -> Transcript.

    ``source``: the recording's path (its name goes into ``extra.audio.file``, its stem is the
    call_id when neither ``call_id`` nor ``metadata["call_id"]`` gives one). ``metadata``:
    agent_id, agent_name, team, ... (a ``qa.metadata`` row). ``progress(seconds)`` receives the
    seconds of audio done so far (summed over channels). Speakers of a mono recording are left
    ``unknown``: roles are the next stage.
    """
    options = (options or TranscribeOptions()).normalised()
    p = Path(source)
    meta = dict(metadata or {})
    meta.pop("file", None)
    cid = call_id or meta.pop("call_id", None) or p.stem
    meta.pop("call_id", None)

    engine = get_engine(options.engine, options.model, **options.engine_options)

    done = [0.0] * len(audio.channels)  # seconds transcribed per channel (channels may run concurrently)
    progress_lock = threading.Lock()

    def channel_progress(index: int):
        if progress is None:
            return None

        def report(seconds: float):
            with progress_lock:
                done[index] = max(done[index], min(seconds, audio.duration))
                progress(sum(done))
        return report

    segments: list[Segment] = []
    results: list[ChannelResult] = []
    split = len(audio.channels) == 2 and options.agent_channel != "mono"
    if split:
        jobs = [(i, channel) for i, channel in enumerate(audio.channels)]
        if int(getattr(engine, "parallel_channels", 1) or 1) > 1:
            # both channels at once: the engine decodes them on separate workers
            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="qa-channel") as pool:
                futures = [pool.submit(_run, engine, ch, options.language, channel_progress(i))
                           for i, ch in jobs]
                channel_results = [f.result() for f in futures]
        else:
            channel_results = [_run(engine, ch, options.language, channel_progress(i))
                               for i, ch in jobs]
        for (i, _), r in zip(jobs, channel_results):
            name = _CHANNEL_NAMES[i]
            speaker = "agent" if name == options.agent_channel else "customer"
            results.append(r)
            for s in r.segments:
                s.speaker = speaker
                s.extra["channel"] = name
                segments.append(s)
        segments.sort(key=lambda s: (s.start, s.end))
    else:
        r = _run(engine, audio.mono(), options.language, channel_progress(0))
        results.append(r)
        segments = sorted(r.segments, key=lambda s: (s.start, s.end))
        for s in segments:
            s.speaker = "unknown"

    language = options.language or _majority_language(results)
    return Transcript(
        call_id=str(cid),
        segments=segments,
        language=language,
        duration=audio.duration,
        metadata=meta,
        extra={
            "engine": _engine_info(engine, options),
            "audio": {
                "file": p.name,
                "format": audio.format,
                "codec": audio.codec,
                "channels": audio.n_channels,
                "sample_rate": audio.source_sample_rate,
                "agent_channel": options.agent_channel if split else "mono",
            },
        },
    )


__all__ = ["ENGINES", "AGENT_CHANNELS", "RoleWarning", "TranscribeOptions", "get_engine", "transcribe_audio",
           "Engine", "ChannelResult"]
