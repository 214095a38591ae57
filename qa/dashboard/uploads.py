"""Saving browser uploads: names can never escape the data directory, files are streamed to disk
under a size cap, and uploaded originals are deleted once stored when ``QA_KEEP_ORIGINALS=0``."""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
import uuid
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO, Callable

from ..errors import QAError

# the formats the issue names for uploads (qa ingest reads more: qa.constants.AUDIO_EXTENSIONS)
UPLOAD_EXTENSIONS = (".wav", ".mp3", ".ogg", ".opus", ".flac", ".m4a")
CHUNK_BYTES = 1 << 20  # written 1 MiB at a time


def max_upload_bytes() -> int:
    """The upload cap in bytes (``QA_MAX_UPLOAD_MB``, default 1024 MB)."""
    from ..config import max_upload_mb

    return max_upload_mb() * 1024 * 1024


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


def _too_large(limit: int) -> str:
    return f"file larger than the upload limit of {limit // (1024 * 1024)} MB (QA_MAX_UPLOAD_MB)"


def save_upload(batch_dir: Path, name: str, data: bytes | BinaryIO, allowed: tuple[str, ...] = UPLOAD_EXTENSIONS,
                max_bytes: int | None = None) -> Path:
    """Write one uploaded file into ``batch_dir``; QAError (one line) if it is refused.

    ``data``: bytes, or a binary file object (Streamlit's ``UploadedFile``) that is read and
    written CHUNK_BYTES at a time, never copied whole in memory. ``max_bytes`` (default
    ``QA_MAX_UPLOAD_MB``): a larger file is refused (its declared ``size`` first, else while it is
    written); the part written is removed, files saved before it stay."""
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    clean = safe_name(name)
    if not clean.lower().endswith(allowed):
        raise QAError(f"not a supported file type (use {', '.join(allowed)})", name)
    declared = len(data) if isinstance(data, (bytes, bytearray, memoryview)) else getattr(data, "size", None)
    if declared == 0:
        raise QAError("empty file (0 bytes)", name)
    if declared is not None and declared > limit:
        raise QAError(_too_large(limit), name)
    target = (batch_dir / clean).resolve()
    root = batch_dir.resolve()
    if root not in target.parents:
        raise QAError("file name not allowed", name)
    stem, suffix, i = target.stem, target.suffix, 1
    while target.exists():
        target = root / f"{stem}-{i}{suffix}"
        i += 1
    part = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")  # never taken for a finished upload
    written = 0
    try:
        with open(part, "xb") as out:
            if isinstance(data, (bytes, bytearray, memoryview)):
                view = memoryview(data)
                for k in range(0, len(view), CHUNK_BYTES):
                    out.write(view[k:k + CHUNK_BYTES])
                written = len(view)
            else:
                if hasattr(data, "seek"):
                    data.seek(0)
                while True:
                    block = data.read(CHUNK_BYTES)
                    if not block:
                        break
                    written += len(block)
                    if written > limit:
                        raise QAError(_too_large(limit), name)
                    out.write(block)
        if written == 0:
            raise QAError("empty file (0 bytes)", name)
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return target


def ingest_uploads(store, paths: list[Path], metadata_path: Path | None = None, *, keep_originals: bool | None = None,
                   on_file: Callable[[Path, list[str]], None] | None = None) -> list[str]:
    """Ingest uploaded files one by one (progress and refusals per file); the refusals as
    ``"name: reason"`` lines.

    ``keep_originals`` (default ``QA_KEEP_ORIGINALS``): on, the store refers to the uploaded file
    (kept under ``uploads/``); off, the store keeps its own copy (the redacted one when redaction is
    on) and the uploaded original is deleted once its call is stored (or was already stored), and
    the metadata CSV once every file of the batch is. A file that fails is kept where it is, so
    nothing is lost and it can be ingested again."""
    from ..ingest import IngestSettings, ingest, keep_originals_setting

    keep = keep_originals_setting() if keep_originals is None else keep_originals
    settings = IngestSettings(keep_originals=keep)
    messages: list[str] = []
    all_done = True
    for p in paths:
        mine: list[str] = []
        try:
            report = ingest([str(p)], store, settings, metadata_csv=str(metadata_path) if metadata_path else None,
                            workers=1, progress=False)
            for path, reason in report.failures:
                mine.append(f"{Path(path).name}: {reason}")
            ok = report.failed == 0 and report.stored + report.skipped == 1
        except QAError as e:
            mine.append(f"{p.name}: {e.message}")
            ok = False
        if ok and not keep:
            Path(p).unlink(missing_ok=True)
        all_done = all_done and ok
        messages.extend(mine)
        if on_file is not None:
            on_file(Path(p), mine)
    if not keep and all_done:
        if metadata_path is not None:
            Path(metadata_path).unlink(missing_ok=True)
        for d in {Path(p).parent for p in paths}:
            try:
                d.rmdir()  # only when empty
            except OSError:
                pass
    return messages
