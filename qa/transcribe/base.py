"""The interface every transcription engine implements.

An engine transcribes ONE channel of 16 kHz mono float32 audio. The pipeline in
``qa.transcribe`` decodes the recording (``qa.audio``), splits channels, calls the engine per
channel, labels speakers (channel -> agent/customer, or ``qa.analysis.roles`` for mono) and merges the
segments in time order into a ``qa.model.Transcript``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..constants import SAMPLE_RATE
from ..model import Segment

__all__ = ["SAMPLE_RATE", "ChannelResult", "Engine"]


@dataclass
class ChannelResult:
    """What an engine returns for one channel: segments with speaker='unknown' (the pipeline
    sets it), word timestamps where available, and the detected language."""

    segments: list[Segment]
    language: str | None = None
    language_probability: float | None = None
    info: dict = field(default_factory=dict)


class Engine(Protocol):
    """A transcription engine: one channel of audio in, timed segments (and the detected language) out."""
    name: str

    def transcribe_channel(self, audio: np.ndarray, language: str | None = None) -> ChannelResult:
        """``audio``: float32 mono at SAMPLE_RATE in [-1, 1]; ``language``: it/de/fr/en or None (detect)."""
        ...
