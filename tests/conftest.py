"""Shared fixtures. Keep this file small: put fixtures used by one test file in that file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

# Real evaluation material from outside the project (/work/shared/eval, see its README).
EVAL_DIR = Path(os.environ.get("QA_EVAL_DIR") or Path(__file__).resolve().parents[2] / "shared" / "eval")


@pytest.fixture(scope="session")
def eval_audio_dir() -> Path:
    d = EVAL_DIR / "audio"
    assert (d / "references.json").is_file(), f"evaluation audio not found in {d} (set QA_EVAL_DIR)"
    return d


@pytest.fixture(scope="session")
def audio_references(eval_audio_dir) -> dict:
    return json.loads((eval_audio_dir / "references.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory) -> Path:
    """Assembled Whisper models go to a per-session (per xdist worker) folder, never to ~."""
    d = tmp_path_factory.getbasetemp() / "model-cache"
    os.environ["QA_MODEL_CACHE"] = str(d)
    return d


@pytest.fixture(scope="session", autouse=True)
def isolated_data_dir(tmp_path_factory) -> Path:
    """No test ever reads or writes the user's real data directory or store."""
    d = tmp_path_factory.getbasetemp() / "qa-data"
    d.mkdir(exist_ok=True)
    os.environ.setdefault("QA_DATA_DIR", str(d))
    os.environ.pop("QA_DATABASE_URL", None)
    return d
