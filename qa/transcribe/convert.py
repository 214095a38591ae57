"""Turn a CTranslate2 Whisper model (what faster-whisper runs) into an openai-whisper checkpoint.

Both engines must run the SAME weights, and the project ships them once, in CTranslate2 format
(``qa.transcribe.models``). This module reads the CTranslate2 ``model.bin`` (a flat container of
named arrays, written by ``ctranslate2.specs.model_spec.ModelSpec._serialize``) and renames the
arrays to the names of ``whisper.model.Whisper`` (openai-whisper), un-fusing what the
CTranslate2 converter fused:

- self-attention: one ``linear_0`` of shape [3*d, d] = query, key, value (key has no bias in
  Whisper; CTranslate2 stores zeros for it);
- cross-attention: ``linear_0`` = query, ``linear_1`` of shape [2*d, d] = key, value,
  ``linear_2`` = output;
- the output projection is an alias of the token embedding (tied, as in Whisper).

The result is ``{"dims": {...}, "model_state_dict": {...}}`` in float16, which
``whisper.load_model(path)`` loads. ``openai_checkpoint(ct2_dir)`` caches it in
``qa.config.model_cache_dir()`` under the SHA-256 of the source ``model.bin``, written atomically.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import re
import struct
import tempfile
from pathlib import Path

import numpy as np

from ..config import model_cache_dir
from ..errors import ModelError

# ctranslate2/specs/model_spec.py: _dtype_to_type_id (order of the DataType enum in types.h).
_CT2_DTYPES = {0: "float32", 1: "int8", 2: "int16", 3: "int32", 4: "float16", 5: "bfloat16"}
_SUPPORTED_BINARY_VERSION = 6  # ctranslate2 >= 3 writes version 6

# Bump when the mapping below changes: old cached checkpoints are then ignored.
CONVERSION_VERSION = 1


def read_ct2_model(model_bin: str | Path) -> tuple[dict[str, np.ndarray], dict[str, str], str]:
    """Read every array of a CTranslate2 ``model.bin``.

    Returns ``(arrays, aliases, spec_name)``; arrays are numpy copies (bfloat16 is widened to
    float32), aliases map an alias name to the array name it points to.
    """
    path = Path(model_bin)
    try:
        f = open(path, "rb")
    except OSError as e:
        raise ModelError(f"cannot read the CTranslate2 model: {e.strerror}", str(path)) from None
    with f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        pos = 0

        def take(fmt: str):
            nonlocal pos
            try:
                values = struct.unpack_from(fmt, buf, pos)
            except struct.error:
                raise ModelError("truncated or corrupt CTranslate2 model.bin", str(path)) from None
            pos += struct.calcsize(fmt)
            return values[0]

        def string() -> str:
            nonlocal pos
            n = take("<H")
            raw = buf[pos : pos + n - 1]
            pos += n
            return raw.decode("utf-8")

        version = take("<I")
        if version != _SUPPORTED_BINARY_VERSION:
            raise ModelError(
                f"unsupported CTranslate2 model.bin version {version} (expected {_SUPPORTED_BINARY_VERSION})",
                str(path),
            )
        spec_name = string()
        take("<I")  # spec revision
        arrays: dict[str, np.ndarray] = {}
        for _ in range(take("<I")):
            name = string()
            shape = tuple(take("<I") for _ in range(take("<B")))
            type_id = take("<B")
            nbytes = take("<I")
            if type_id not in _CT2_DTYPES or pos + nbytes > len(buf):
                raise ModelError("truncated or corrupt CTranslate2 model.bin", str(path))
            dtype = _CT2_DTYPES[type_id]
            if dtype == "bfloat16":  # numpy has no bfloat16: widen to float32 bit-exactly
                bits = np.frombuffer(buf, dtype="<u2", count=nbytes // 2, offset=pos).astype(np.uint32)
                value = (bits << 16).view(np.float32)
            else:
                np_dtype = np.dtype(dtype).newbyteorder("<")
                value = np.frombuffer(buf, dtype=np_dtype, count=nbytes // np_dtype.itemsize, offset=pos).copy()
            arrays[name] = value.reshape(shape)
            pos += nbytes
        aliases = {}
        for _ in range(take("<I")):
            alias = string()
            aliases[alias] = string()
    return arrays, aliases, spec_name


def _layers(arrays: dict[str, np.ndarray], part: str) -> int:
    found = {int(m.group(1)) for k in arrays if (m := re.match(rf"{part}/layer_(\d+)/", k))}
    if not found or found != set(range(len(found))):
        raise ModelError(f"the CTranslate2 model has no consecutive {part} layers")
    return len(found)


def _scalar(arrays: dict[str, np.ndarray], name: str) -> int:
    if name not in arrays:
        raise ModelError(f"the CTranslate2 model lacks {name!r}")
    return int(arrays[name].reshape(-1)[0])


def ct2_to_openai_state(
    arrays: dict[str, np.ndarray], aliases: dict[str, str] | None = None
) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """Map CTranslate2 Whisper arrays to openai-whisper ``(dims, state_dict)`` (numpy arrays)."""
    aliases = aliases or {}

    def get(name: str) -> np.ndarray:
        name = aliases.get(name, name)
        if name not in arrays:
            raise ModelError(f"the CTranslate2 model lacks {name!r} (is it a Whisper model?)")
        value = arrays[name]
        if value.dtype not in (np.float16, np.float32):
            raise ModelError(
                f"{name!r} is {value.dtype}: quantized CTranslate2 models cannot be converted, "
                "use a float16/float32 model"
            )
        return value

    sd: dict[str, np.ndarray] = {}

    def linear(dst: str, src: str, bias: bool = True) -> None:
        sd[f"{dst}.weight"] = get(f"{src}/weight")
        if bias:
            sd[f"{dst}.bias"] = get(f"{src}/bias")

    def norm(dst: str, src: str) -> None:
        sd[f"{dst}.weight"] = get(f"{src}/gamma")
        sd[f"{dst}.bias"] = get(f"{src}/beta")

    def split(dst_prefix: str, src: str, names: tuple[str, ...]) -> None:
        w, b = get(f"{src}/weight"), get(f"{src}/bias")
        n = len(names)
        if w.shape[0] % n or b.shape[0] != w.shape[0]:
            raise ModelError(f"{src!r} has shape {w.shape}, not {n} fused projections")
        for name, wi, bi in zip(names, np.split(w, n), np.split(b, n)):
            sd[f"{dst_prefix}.{name}.weight"] = wi
            if name == "key":  # Whisper's key projection has no bias; CTranslate2 stores zeros
                if np.any(bi != 0):
                    raise ModelError(f"{src!r}: non-zero key bias, not an openai-whisper model")
            else:
                sd[f"{dst_prefix}.{name}.bias"] = bi

    def block(dst: str, src: str, cross: bool) -> None:
        split(f"{dst}.attn", f"{src}/self_attention/linear_0", ("query", "key", "value"))
        linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        if cross:
            linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
            split(f"{dst}.cross_attn", f"{src}/attention/linear_1", ("key", "value"))
            linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
            norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
        linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
        linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
        norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")

    n_audio_layer = _layers(arrays, "encoder")
    n_text_layer = _layers(arrays, "decoder")

    linear("encoder.conv1", "encoder/conv1")
    linear("encoder.conv2", "encoder/conv2")
    sd["encoder.positional_embedding"] = get("encoder/position_encodings/encodings")
    for i in range(n_audio_layer):
        block(f"encoder.blocks.{i}", f"encoder/layer_{i}", cross=False)
    norm("encoder.ln_post", "encoder/layer_norm")

    sd["decoder.token_embedding.weight"] = get("decoder/embeddings/weight")
    sd["decoder.positional_embedding"] = get("decoder/position_encodings/encodings")
    for i in range(n_text_layer):
        block(f"decoder.blocks.{i}", f"decoder/layer_{i}", cross=True)
    norm("decoder.ln", "decoder/layer_norm")

    # Whisper ties the output projection to the token embedding: refuse a model where they differ.
    proj = aliases.get("decoder/projection/weight", "decoder/projection/weight")
    if proj != "decoder/embeddings/weight" and proj in arrays:
        if not np.array_equal(arrays[proj], arrays["decoder/embeddings/weight"]):
            raise ModelError("the output projection is not tied to the token embedding: not an openai-whisper model")

    conv1 = sd["encoder.conv1.weight"]
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(sd["encoder.positional_embedding"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": _scalar(arrays, "encoder/num_heads"),
        "n_audio_layer": n_audio_layer,
        "n_vocab": int(sd["decoder.token_embedding.weight"].shape[0]),
        "n_text_ctx": int(sd["decoder.positional_embedding"].shape[0]),
        "n_text_state": int(sd["decoder.token_embedding.weight"].shape[1]),
        "n_text_head": _scalar(arrays, "decoder/num_heads"),
        "n_text_layer": n_text_layer,
    }
    return dims, sd


def alignment_heads_dump(heads: list[list[int]] | list[tuple[int, int]], n_layer: int, n_head: int) -> bytes:
    """The (layer, head) pairs of a CTranslate2 config.json in the form of
    ``whisper.Whisper.set_alignment_heads`` (base85 of a gzipped boolean mask)."""
    import base64
    import gzip

    mask = np.zeros((n_layer, n_head), dtype=bool)
    for layer, head in heads:
        mask[int(layer), int(head)] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))


def _require_torch():
    try:
        import torch
    except ImportError:
        raise ModelError("the openai-whisper engine needs the extra: pip install 'ascolto[openai-whisper]'") from None
    return torch


def ct2_to_openai_checkpoint(ct2_dir: str | Path, out_path: str | Path) -> Path:
    """Convert the CTranslate2 Whisper model in ``ct2_dir`` to an openai-whisper checkpoint at
    ``out_path`` (written atomically). Returns ``out_path``."""
    torch = _require_torch()
    ct2_dir, out_path = Path(ct2_dir), Path(out_path)
    model_bin = ct2_dir / "model.bin"
    if not model_bin.is_file():
        raise ModelError("not a CTranslate2 model directory (no model.bin)", str(ct2_dir))
    arrays, aliases, spec_name = read_ct2_model(model_bin)
    if spec_name != "WhisperSpec":
        raise ModelError(f"a {spec_name}, not a Whisper model", str(ct2_dir))
    dims, state = ct2_to_openai_state(arrays, aliases)
    checkpoint = {
        "dims": dims,
        "model_state_dict": {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float16)) for k, v in state.items()},
    }
    config = ct2_dir / "config.json"
    if config.is_file():
        heads = json.loads(config.read_text(encoding="utf-8")).get("alignment_heads")
        if heads:  # whisper.load_model ignores extra keys; OpenAIWhisperEngine applies it
            checkpoint["alignment_heads"] = [[int(a), int(b)] for a, b in heads]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=out_path.name + ".", suffix=".tmp", dir=out_path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(checkpoint, fh)
        os.replace(tmp, out_path)  # atomic: readers see the whole file or none
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out_path


def file_sha256(path: str | Path, chunk: int = 1 << 22) -> str:
    """SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def openai_checkpoint(ct2_dir: str | Path, cache_dir: str | Path | None = None) -> Path:
    """The openai-whisper checkpoint for the CTranslate2 model in ``ct2_dir``, converted once
    and cached in ``cache_dir`` (default ``model_cache_dir()/openai-whisper``) under the
    SHA-256 of its ``model.bin``: a changed source gives a new file, never a stale one."""
    ct2_dir = Path(ct2_dir)
    model_bin = ct2_dir / "model.bin"
    if not model_bin.is_file():
        raise ModelError("not a CTranslate2 model directory (no model.bin)", str(ct2_dir))
    digest = file_sha256(model_bin)
    cache = Path(cache_dir) if cache_dir is not None else model_cache_dir() / "openai-whisper"
    out = cache / f"{digest[:32]}-v{CONVERSION_VERSION}.pt"
    if out.is_file():
        return out
    try:
        return ct2_to_openai_checkpoint(ct2_dir, out)
    except OSError as e:
        raise ModelError(f"cannot write the converted model: {e.strerror}", str(out)) from None
