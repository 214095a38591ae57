"""Audio: a copy of a recording with the spans of its transcript silenced (or toned), streamed."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from ..errors import AudioError

# --------------------------------------------------------------------------------------------
# Audio
# --------------------------------------------------------------------------------------------

def _span_times(spans: Iterable[Any]) -> list[tuple[float, float]]:
    out = []
    for sp in spans:
        if isinstance(sp, dict):
            s, e = float(sp["start"]), float(sp["end"])
        else:
            s, e = float(sp[0]), float(sp[1])
        if e > s:
            out.append((s, e))
    return out


_ENCODERS = {".wav": ["pcm_s16le"], ".flac": ["flac"], ".mp3": ["libmp3lame", "mp3"],
             ".ogg": ["libvorbis", "flac"], ".m4a": ["aac"]}  # (Opus would resample to 48 kHz)


def _masked_ranges(spans: Iterable[Any], rate: int, pad: float) -> list[tuple[int, int]]:
    """Sample ranges [a, b) to hide, sorted and merged."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(_span_times(spans)):
        a, b = max(0, int(round((s - pad) * rate))), int(round((e + pad) * rate))
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def redact_audio(src_path: str | Path, dst_path: str | Path, spans: Iterable[Any], mode: str = "silence",
                 pad: float = 0.0, tone_hz: float = 1000.0, sample_rate: int | None = 16000) -> Path:
    """Write a copy of ``src_path`` with the time spans silenced (or replaced by a tone).

    ``spans``: the records of :func:`redact_transcript` (dicts with ``start``/``end`` seconds) or
    ``(start, end)`` pairs. The copy is written at ``sample_rate`` (default 16 kHz, what the
    transcript was made from; None keeps the source's rate), mono for a mono source, else stereo.
    The output container and codec follow ``dst_path``'s extension (WAV and FLAC: 16-bit PCM).
    ``pad`` widens each span on both sides.

    Streamed: the source is decoded block by block (``qa.audio.iter_audio``), each block is masked
    and encoded at once, so memory stays a few blocks whatever the recording's length (a 4-hour
    48 kHz stereo file no longer needs gigabytes). On any error the partial output is removed.
    """
    import av
    import numpy as np

    from ..audio import iter_audio

    src_path, dst_path = Path(src_path), Path(dst_path)
    if mode not in ("silence", "tone"):
        raise ValueError("mode must be 'silence' or 'tone'")
    ext = dst_path.suffix.lower()
    if ext not in _ENCODERS:
        raise AudioError(f"cannot write {ext or 'files without an extension'}: use one of {', '.join(_ENCODERS)}",
                         str(dst_path))
    codec = next((c for c in _ENCODERS[ext] if c in av.codecs_available), None)
    if codec is None:
        raise AudioError(f"no encoder for {ext} in this PyAV build", str(dst_path))
    info: list = []
    blocks = iter_audio(src_path, sample_rate, max_duration_s=None, info=info)
    try:
        first = next(blocks)
    except StopIteration:  # pragma: no cover - iter_audio raises for an empty stream
        raise AudioError("no audio samples", str(src_path)) from None
    rate = sample_rate or info[0].source_sample_rate
    n_ch = first.shape[0]
    layout = "mono" if n_ch == 1 else "stereo"
    ranges = _masked_ranges(spans, rate, pad)
    pcm = codec in ("pcm_s16le", "flac")
    dst_path.parent.mkdir(parents=True, exist_ok=True)

    def masked(block: np.ndarray, pos: int) -> np.ndarray:
        end = pos + block.shape[1]
        for a, b in ranges:
            if b <= pos:
                continue
            if a >= end:
                break
            lo, hi = max(a, pos) - pos, min(b, end) - pos
            if mode == "silence":
                block[:, lo:hi] = 0.0
            else:
                t = (np.arange(lo, hi) + pos - a) / rate
                block[:, lo:hi] = (0.2 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
        return block

    try:
        with av.open(str(dst_path), "w") as out:
            ost = out.add_stream(codec, rate=rate, layout=layout)
            frame_size = 4096 if pcm else (ost.codec_context.frame_size or 1024)
            pending: list[np.ndarray] = []
            npending = 0
            written = 0

            def emit(chunk: np.ndarray) -> None:
                nonlocal written
                if pcm:
                    data = np.clip(np.round(chunk * 32768.0), -32768, 32767).astype(np.int16)
                    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data.T.reshape(1, -1)), format="s16",
                                                       layout=layout)
                else:
                    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout=layout)
                frame.sample_rate = rate
                frame.pts = written
                written += chunk.shape[1]
                for packet in ost.encode(frame):
                    out.mux(packet)

            pos = 0
            for block in _chain(first, blocks):
                block = masked(block, pos)
                pos += block.shape[1]
                pending.append(block)
                npending += block.shape[1]
                if npending >= frame_size:
                    joined = np.concatenate(pending, axis=1) if len(pending) > 1 else pending[0]
                    whole = npending - npending % frame_size
                    for k in range(0, whole, frame_size):
                        emit(joined[:, k:k + frame_size])
                    rest = joined[:, whole:]
                    pending, npending = ([rest.copy()], rest.shape[1]) if rest.shape[1] else ([], 0)
            if npending:
                emit(np.concatenate(pending, axis=1))
            for packet in ost.encode(None):
                out.mux(packet)
    except BaseException as e:
        dst_path.unlink(missing_ok=True)
        if isinstance(e, (AudioError, KeyboardInterrupt, SystemExit, MemoryError)):
            raise
        raise AudioError(f"cannot redact audio: {type(e).__name__}: {e}", str(src_path)) from None
    return dst_path


def _chain(first, rest):
    yield first
    yield from rest
