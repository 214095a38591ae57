"""Saving browser uploads: names can never escape the data directory."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..errors import QAError

AUDIO_EXTENSIONS = (".wav", ".mp3", ".ogg", ".opus", ".flac", ".m4a")
MAX_UPLOAD_BYTES = 1 << 30  # 1 GiB per file


def safe_name(name: str) -> str:
    """A plain file name made from whatever the browser sent: no directories, no '..', no
    hidden files, no control or shell characters; accents folded."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name  # drop / and \\ directories
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._-")
    base = re.sub(r"\.{2,}", ".", base)
    if not base:
        base = f"upload-{uuid.uuid4().hex[:8]}"
    if len(base) > 150:  # keep the extension: the whitelist check reads it
        stem, dot, ext = base.rpartition(".")
        base = f"{stem[:150 - len(ext) - 1].rstrip('._-')}.{ext}" if dot and stem and len(ext) <= 10 else base[:150]
    return base


def new_batch_dir(data_dir: Path) -> Path:
    """A new, empty folder for one batch of uploads under ``data_dir/uploads``."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    d = (data_dir / "uploads" / f"{stamp}-{uuid.uuid4().hex[:6]}")
    d.mkdir(parents=True, exist_ok=False)
    return d


def save_upload(batch_dir: Path, name: str, data: bytes, allowed: tuple[str, ...] = AUDIO_EXTENSIONS) -> Path:
    """Write one uploaded file into ``batch_dir``; QAError (one line) if it is refused."""
    clean = safe_name(name)
    if not clean.lower().endswith(allowed):
        raise QAError(f"not a supported file type (use {', '.join(allowed)})", name)
    if len(data) == 0:
        raise QAError("empty file (0 bytes)", name)
    if len(data) > MAX_UPLOAD_BYTES:
        raise QAError("file larger than 1 GiB", name)
    target = (batch_dir / clean).resolve()
    root = batch_dir.resolve()
    if root not in target.parents:
        raise QAError("file name not allowed", name)
    stem, suffix, i = target.stem, target.suffix, 1
    while target.exists():
        target = root / f"{stem}-{i}{suffix}"
        i += 1
    target.write_bytes(data)
    return target
