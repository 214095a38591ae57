"""File paths read from stored data, checked before any file is opened or served.

A path that comes from data (``calls.audio_path`` / ``calls.redacted_audio_path``, a transcript
JSON, an upload) names a file only the data directory may hold: ``safe_data_path`` resolves it
(symbolic links and ``..`` followed) and refuses, with one line, anything outside
``qa.config.data_dir()``, anything that is not a regular file, and (``suffixes``) any other kind
of file — so a row or a transcript can never make the dashboard serve ``/etc/passwd``, the
database file or a colleague's original recording under another name.
"""

from __future__ import annotations

from pathlib import Path

from .. import config
from ..errors import StoreError

# what the audio player serves (the containers ingest reads)
AUDIO_SUFFIXES = (".wav", ".wave", ".mp3", ".ogg", ".oga", ".opus", ".flac", ".m4a", ".mp4", ".aac", ".webm",
                  ".mka", ".aif", ".aiff", ".caf", ".w64")


def safe_data_path(path: str | Path | None, suffixes: tuple[str, ...] | None = None,
                   root: str | Path | None = None) -> Path:
    """The resolved file ``path`` names, when it lies inside the data directory (``root``,
    default ``qa.config.data_dir()``) after following symbolic links, is a regular file and
    (``suffixes``) has one of those extensions. StoreError (one line) otherwise. A relative
    path is taken relative to the data directory."""
    if path is None or not str(path).strip():
        raise StoreError("no file is stored for this")
    if "\x00" in str(path):
        raise StoreError("refused: the stored file name is not valid")
    base = Path(root).expanduser().resolve() if root is not None else config.data_dir()
    p = Path(path).expanduser()
    try:
        resolved = (p if p.is_absolute() else base / p).resolve()
    except (OSError, RuntimeError):  # a symbolic-link loop
        raise StoreError(f"refused: {p.name!r} cannot be resolved") from None
    if resolved != base and base not in resolved.parents:
        raise StoreError(f"refused: {p.name!r} is outside the data directory")
    if not resolved.is_file():
        raise StoreError(f"file {p.name!r} not found in the data directory")
    if suffixes is not None and resolved.suffix.lower() not in suffixes:
        raise StoreError(f"refused: {p.name!r} is not an audio file")
    return resolved
