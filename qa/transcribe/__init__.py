"""Recording -> Transcript.

The transcription stage itself is ``transcribe_audio`` (``qa.transcribe.core``): engines are
looked up by name in ``ENGINES`` and imported lazily; ``get_engine`` keeps one instance per
(engine, model, options) per process because loading a model takes seconds. Whisper model
assembly from the bundled packages is ``qa.transcribe.models``.

``transcribe_file`` is the first three stages of ``qa.pipeline`` (decode -> transcribe ->
roles) for one file, kept here as the short way to get a transcript from a recording.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..model import Transcript
from .base import ChannelResult, Engine
from .core import AGENT_CHANNELS, ENGINES, RoleWarning, TranscribeOptions, get_engine, transcribe_audio


def transcribe_file(
    path: str | Path,
    options: TranscribeOptions | None = None,
    metadata: dict[str, Any] | None = None,
    call_id: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> Transcript:
    """Transcribe one recording into a Transcript (FORMATS.md): ``qa.pipeline.transcribe_recording``
    (decode, transcribe, roles of a mono call).

    ``metadata``: agent_id, agent_name, team, ... (a ``qa.metadata`` row); its ``call_id``
    is used when ``call_id`` is not given, else the file stem. ``progress(seconds)`` receives
    the seconds of audio done so far (summed over channels). When the speakers of a mono call
    cannot be told apart (no role model), they stay ``unknown``, ``extra.roles`` says why and a
    ``RoleWarning`` is issued.
    """
    from ..pipeline import roles_failure, transcribe_recording

    transcript = transcribe_recording(path, options, metadata=metadata, call_id=call_id, progress=progress)
    reason = roles_failure(transcript)
    if reason is not None:
        warnings.warn(f"{path}: speakers left unknown: {reason}", RoleWarning, stacklevel=2)
    return transcript


__all__ = ["ENGINES", "AGENT_CHANNELS", "RoleWarning", "TranscribeOptions", "get_engine", "transcribe_audio",
           "transcribe_file", "Engine", "ChannelResult"]
