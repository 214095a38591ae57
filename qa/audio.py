"""Audio ingest: decode a recording with PyAV (FFmpeg), resample to 16 kHz float32, one array
per channel.

Stereo call recordings carry one party per channel (which one is the agent is decided later,
in ``qa.transcribe``); mono recordings have a single channel. Every failure is an
``AudioError`` with one line meant for a person: missing file, empty file, no audio in it,
an unsupported container, a corrupt or truncated file, a recording over ``max_duration_s``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from .errors import AudioError

from .constants import SAMPLE_RATE  # noqa: E402,F401 (16 kHz, re-exported: qa.audio.SAMPLE_RATE)
MAX_DURATION_S = 4 * 3600

# FFmpeg demuxer names we accept (WAV, MP3, Ogg (Opus/Vorbis), FLAC, M4A/MP4 (AAC/ALAC),
# WebM/Matroska (Opus), AIFF, Wave64, CAF). Anything else is an "unsupported container".
SUPPORTED_FORMATS = {
    "wav": "WAV",
    "w64": "Wave64",
    "mp3": "MP3",
    "ogg": "Ogg",
    "flac": "FLAC",
    "aac": "AAC",
    "mov,mp4,m4a,3gp,3g2,mj2": "M4A/MP4",
    "matroska,webm": "WebM/Matroska",
    "aiff": "AIFF",
    "caf": "CAF",
}

# A file whose header declares more audio than can be decoded is truncated. Tolerance: codec
# padding and rounding in headers are a few frames at most.
_TRUNCATION_TOLERANCE_S = 0.5
_TRUNCATION_TOLERANCE_FRACTION = 0.02


@dataclass
class DecodedAudio:
    """A decoded recording: ``channels`` are float32 mono arrays at ``sample_rate`` (16 kHz)."""

    channels: list[np.ndarray]
    sample_rate: int = SAMPLE_RATE
    duration: float = 0.0  # seconds
    source_sample_rate: int | None = None
    n_channels: int = 0  # channels in the source (2 for a dual-channel call recording)
    format: str = ""  # container, e.g. "wav", "ogg", "mov,mp4,m4a,3gp,3g2,mj2"
    codec: str = ""  # e.g. "pcm_s16le", "opus"
    extra: dict = field(default_factory=dict)

    def mono(self) -> np.ndarray:
        """All channels mixed down to one."""
        if len(self.channels) == 1:
            return self.channels[0]
        return np.mean(np.stack(self.channels), axis=0).astype(np.float32)


def audio_checksum(path: str | Path) -> str:
    """SHA-256 (hex) of the file's bytes, for de-duplication in the store."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _ffmpeg_reason(err: Exception) -> str:
    msg = getattr(err, "strerror", None) or str(err)
    return " ".join(str(msg).split()).rstrip(".").lower()


def _declared_duration(container, stream) -> float | None:
    """Duration the file's header declares, without decoding (None when it declares none)."""
    if stream.duration is not None and stream.time_base is not None:
        d = float(stream.duration * stream.time_base)
        if d > 0:
            return d
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    return None


def _wav_declared_duration(path: Path) -> float | None:
    """Duration that a RIFF/WAVE header declares (FFmpeg clamps it to the file size, which
    hides truncation). None for placeholder sizes that streaming recorders write."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, byte_rate = 12, 0
    while pos + 8 <= len(head):
        cid, size = head[pos:pos + 4], int.from_bytes(head[pos + 4:pos + 8], "little")
        if cid == b"fmt " and pos + 20 <= len(head):
            byte_rate = int.from_bytes(head[pos + 16:pos + 20], "little")
        elif cid == b"data":
            if byte_rate <= 0 or size == 0 or size >= 0x7FFFFFF0:
                return None
            return size / byte_rate
        pos += 8 + size + (size & 1)
    return None


@dataclass
class AudioInfo:
    """What the header of an opened recording says (``open_audio``)."""

    format: str
    codec: str
    source_sample_rate: int | None
    source_channels: int
    declared: float | None  # seconds the header declares (None: it declares none)


def _open_checked(path: str | Path, max_duration_s: float | None):
    """Open ``path`` with PyAV after the checks every reader shares; returns (container, stream, info).
    Raises ``AudioError`` (one line) for a missing, empty, unsupported, audio-less or too long file."""
    p = Path(path)
    src = str(path)
    if not p.exists():
        raise AudioError("file not found", src)
    if p.is_dir():
        raise AudioError("is a directory, not an audio file", src)
    try:
        size = p.stat().st_size
    except OSError as e:
        raise AudioError(f"cannot read file: {e.strerror}", src) from None
    if size == 0:
        raise AudioError("empty file (0 bytes)", src)

    try:
        container = av.open(src, metadata_errors="ignore")
    except av.error.InvalidDataError:
        raise AudioError("not a recognised audio file (corrupt, truncated, or not audio at all)", src) from None
    except PermissionError:
        raise AudioError("permission denied", src) from None
    except (av.error.FFmpegError, OSError, UnicodeDecodeError, ValueError) as e:
        raise AudioError(f"cannot open as audio: {_ffmpeg_reason(e)}", src) from None
    try:
        fmt = container.format.name
        if fmt not in SUPPORTED_FORMATS:
            kinds = ", ".join(sorted(set(SUPPORTED_FORMATS.values())))
            raise AudioError(f"unsupported container {fmt!r} (supported: {kinds})", src)
        if not container.streams.audio:
            raise AudioError(f"no audio stream in this {SUPPORTED_FORMATS[fmt]} file", src)
        stream = container.streams.audio[0]
        cc = stream.codec_context
        declared = _declared_duration(container, stream)
        if fmt == "wav":
            declared = _wav_declared_duration(p) or declared
        if max_duration_s is not None and declared is not None and declared > max_duration_s:
            raise AudioError(
                f"recording too long: {_hms(declared)} (the limit is {_hms(max_duration_s)})", src
            )
    except BaseException:
        container.close()
        raise
    info = AudioInfo(format=fmt, codec=cc.name, source_sample_rate=cc.sample_rate or None,
                     source_channels=cc.channels or 0, declared=declared)
    return container, stream, info


def iter_audio(path: str | Path, sample_rate: int | None = SAMPLE_RATE,
               max_duration_s: float | None = MAX_DURATION_S, info: list | None = None):
    """Decode ``path`` block by block: yields float32 arrays shaped (channels, samples) at
    ``sample_rate`` (None: the source's rate), 1 channel for mono sources, else 2 (more are
    mixed down to stereo by FFmpeg's resampler). Memory stays that of one decoded frame whatever
    the length of the recording. ``info``: a list that receives the ``AudioInfo`` first.

    The checks of ``load_audio`` hold while streaming: ``AudioError`` for a file that cannot be
    opened, corrupt data, a recording over ``max_duration_s``, samples that are not finite, and
    at the end a truncated file (less audio than its header declares) or no audio at all."""
    src = str(path)
    container, stream, ai = _open_checked(path, max_duration_s)
    if info is not None:
        info.append(ai)
    rate = sample_rate or ai.source_sample_rate or SAMPLE_RATE
    with container:
        out_channels = 1 if ai.source_channels == 1 else 2
        resampler = av.AudioResampler(format="fltp", layout="mono" if out_channels == 1 else "stereo", rate=rate)
        n = 0
        limit = None if max_duration_s is None else int(max_duration_s * rate) + 1

        def blocks(frames):
            for out in frames:
                a = out.to_ndarray()
                if a.dtype != np.float32:
                    a = a.astype(np.float32)
                if not np.isfinite(a).all():
                    raise AudioError("corrupt audio data: samples that are not finite numbers", src)
                yield a

        try:
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler run on sample counts, not on possibly broken timestamps
                for a in blocks(resampler.resample(frame)):
                    n += a.shape[1]
                    if limit is not None and n > limit:
                        raise AudioError(f"recording too long: over {_hms(max_duration_s)} (the limit)", src)
                    yield a
            for a in blocks(resampler.resample(None)):
                n += a.shape[1]
                yield a
        except AudioError:
            raise
        except (av.error.FFmpegError, ValueError) as e:
            raise AudioError(f"corrupt audio data: {_ffmpeg_reason(e)}", src) from None

    if n == 0:
        raise AudioError("no audio in this file (zero length)", src)
    duration = n / rate
    if max_duration_s is not None and duration > max_duration_s:
        raise AudioError(f"recording too long: {_hms(duration)} (the limit is {_hms(max_duration_s)})", src)
    declared = ai.declared
    if declared is not None and declared - duration > max(
        _TRUNCATION_TOLERANCE_S, _TRUNCATION_TOLERANCE_FRACTION * declared
    ):
        raise AudioError(
            f"truncated file: the header declares {declared:.1f} s of audio but only {duration:.1f} s could be decoded",
            src,
        )


def load_audio(path: str | Path, max_duration_s: float | None = MAX_DURATION_S) -> DecodedAudio:
    """Decode ``path`` into 16 kHz float32 channels (1 for mono, 2 for stereo).

    Sources with more than two channels are mixed down to stereo by FFmpeg's resampler.
    Raises ``AudioError`` (one line, ``source`` = the path) for every unusable input.
    The channels are filled in place (one array per channel, sized from the header's duration and
    grown when the header says less), so the peak is about the decoded audio itself: 4 hours of
    stereo are 1.8 GB of float32, not two or three copies of it.
    """
    meta: list[AudioInfo] = []
    buf: np.ndarray | None = None
    n = 0
    for a in iter_audio(path, SAMPLE_RATE, max_duration_s, info=meta):
        if buf is None:
            declared = meta[0].declared or 0.0
            cap = max(int(declared * SAMPLE_RATE) + SAMPLE_RATE, a.shape[1])
            buf = np.empty((a.shape[0], cap), dtype=np.float32)
        k = a.shape[1]
        if n + k > buf.shape[1]:
            grown = np.empty((buf.shape[0], max(n + k, int(buf.shape[1] * 1.5))), dtype=np.float32)
            grown[:, :n] = buf[:, :n]
            buf = grown
        buf[:, n:n + k] = a
        n += k
    ai = meta[0]
    # each channel is a contiguous row of the buffer; copied only when the spare tail is large
    # (a header that declared no duration), so that the slack is let go
    channels = [buf[i, :n] for i in range(buf.shape[0])]
    if buf.shape[1] - n > max(SAMPLE_RATE * 2, n // 10):
        channels = [c.copy() for c in channels]
    del buf
    return DecodedAudio(
        channels=channels,
        sample_rate=SAMPLE_RATE,
        duration=n / SAMPLE_RATE,
        source_sample_rate=ai.source_sample_rate,
        n_channels=ai.source_channels or len(channels),
        format=ai.format,
        codec=ai.codec,
    )
