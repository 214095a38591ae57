"""Constants every stage shares: the languages, the call types, the audio sample rate and the
file extensions the pipeline reads. Defined once here; other modules import them.

``LANGS``             the languages of the project, Italian first (rubrics, language data, UI)
``CALL_TYPES``        the call types a rubric or a call's metadata may name
``SAMPLE_RATE``       what ``qa.audio`` decodes to and every transcription engine reads (Hz)
``AUDIO_EXTENSIONS``  recording files ``qa ingest`` picks up in a folder (decoded by PyAV)
``TRANSCRIPT_EXTENSIONS``  transcript files (docs/FORMATS.md JSON)
``REVIEW_FLAG``       the evaluation flag of a result a call model doubts (``qa.learning.active``)
"""

from __future__ import annotations

LANGS: tuple[str, ...] = ("it", "de", "fr", "en")
CALL_TYPES: tuple[str, ...] = ("acquisizione", "assistenza", "fidelizzazione", "riacquisizione")
SAMPLE_RATE = 16000
AUDIO_EXTENSIONS: frozenset[str] = frozenset({
    ".wav", ".wave", ".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".mp4", ".aac", ".webm",
    ".mka", ".aif", ".aiff", ".caf", ".w64"})
TRANSCRIPT_EXTENSIONS: frozenset[str] = frozenset({".json"})
REVIEW_FLAG = "review"
