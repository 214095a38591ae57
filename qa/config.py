"""Settings shared by the CLI and the dashboard, read from the environment.

QA_DATA_DIR       data directory (recordings, SQLite store, model cache); default ~/.local/share/ascolto
QA_DATABASE_URL   SQLAlchemy URL of the store; default sqlite:///$QA_DATA_DIR/ascolto.db
QA_MODEL_CACHE    where assembled Whisper models are kept; default $QA_DATA_DIR/models
QA_RUBRICS_DIR    rubric directory; default $QA_DATA_DIR/rubriche once a rubric was published from
                  the dashboard (a copy of the bundled ones plus the published versions), else
                  the bundled rubriche/
QA_MODELS_DIR     trained-model directory; default the bundled modelli/
QA_MAX_UPLOAD_MB  largest file the dashboard accepts for upload, in MB; default 1024 (also
                  Streamlit's server.maxUploadSize under `qa serve`)
QA_KEEP_ORIGINALS 0: the store keeps only its own (redacted) copy of a recording, and an uploaded
                  original is deleted once its call is stored; default 1 (read by qa.ingest)
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def _bundled_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"bundled folder {package!r} not found; is ascolto installed?")
    return Path(list(spec.submodule_search_locations)[0])


def data_dir() -> Path:
    """``QA_DATA_DIR``, else ``~/.local/share/ascolto``, as an absolute path (not created here)."""
    d = Path(os.environ.get("QA_DATA_DIR") or Path.home() / ".local" / "share" / "ascolto")
    return d.expanduser().resolve()


def database_url() -> str:
    """``QA_DATABASE_URL``, else the SQLite file ``ascolto.db`` in ``data_dir()``."""
    url = os.environ.get("QA_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{data_dir() / 'ascolto.db'}"


def model_cache_dir() -> Path:
    """``QA_MODEL_CACHE`` (where assembled Whisper models are kept), else ``models/`` in ``data_dir()``."""
    d = os.environ.get("QA_MODEL_CACHE")
    return Path(d).expanduser().resolve() if d else data_dir() / "models"


def bundled_rubrics_dir() -> Path:
    """The ``rubriche`` folder installed with the package; RuntimeError when it cannot be found."""
    return _bundled_dir("rubriche")


def published_rubrics_dir() -> Path:
    """``rubriche/`` in ``data_dir()``: where the dashboard publishes rubric versions (may not exist)."""
    return data_dir() / "rubriche"


def rubrics_dir() -> Path:
    """The rubric directory in use: ``QA_RUBRICS_DIR``, else the published folder once it holds a
    ``*.yaml``, else the bundled ``rubriche/``."""
    d = os.environ.get("QA_RUBRICS_DIR")
    if d:
        return Path(d).expanduser().resolve()
    published = published_rubrics_dir()
    if published.is_dir() and any(published.glob("*.yaml")):
        return published
    return bundled_rubrics_dir()


def models_dir() -> Path:
    """The trained-model directory: ``QA_MODELS_DIR``, else the bundled ``modelli/`` (RuntimeError when
    that cannot be found)."""
    d = os.environ.get("QA_MODELS_DIR")
    return Path(d).expanduser().resolve() if d else _bundled_dir("modelli")


DEFAULT_MAX_UPLOAD_MB = 1024


def _env_whole(name: str, default: int, minimum: int, what: str) -> int:
    """Whole-number setting ``name`` (``default`` when unset or empty); QAError naming ``what`` for a
    value that is not a whole number of at least ``minimum``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        from .errors import QAError

        raise QAError(f"{name} must be {what}, not {raw!r}")
    return value


def max_upload_mb() -> int:
    """``QA_MAX_UPLOAD_MB`` (default 1024): the largest upload in MB. QAError for a value that is not
    a positive whole number."""
    return _env_whole("QA_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB, 1, "a positive whole number of MB")


def whisper_threads() -> int:
    """``QA_WHISPER_THREADS``: CPU threads of each Whisper decoder; 0 or unset: every core (see
    qa/transcribe/faster.py). QAError for a value that is not a whole number."""
    return _env_whole("QA_WHISPER_THREADS", 0, 0, "a whole number of threads (0: every core)") \
        or max(1, os.cpu_count() or 1)


from .constants import CALL_TYPES  # noqa: E402,F401 (re-exported)
from .constants import LANGS as LANGUAGES  # noqa: E402
