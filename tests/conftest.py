"""Shared fixtures. Keep this file small: put fixtures used by one test file in that file."""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

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


# ------------------------------------------------------------------ bytecode of the test run
@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    """Where PYTHONDONTWRITEBYTECODE is set, in a virtual environment installed without .pyc files
    (uv does not write them), every Python process of the run compiles every module it imports
    from source again: the xdist workers, each `qa` command a test runs, each worker of its pools.
    That is about 6 s of CPU for one `qa train` (10.0 s against 3.7 s with the bytecode cached;
    scikit-learn, spaCy, torch, numpy: thousands of files). The run keeps that bytecode in a folder
    of its own instead (PYTHONPYCACHEPREFIX, under pytest's temporary folder of the run: nothing is
    written beside the sources or into the environment), so each module is compiled once per run
    (the standard library too: Python then reads bytecode only from that folder). Nothing changes
    where bytecode is written anyway or a PYTHONPYCACHEPREFIX is already chosen."""
    if hasattr(config, "workerinput") or os.environ.get("PYTHONPYCACHEPREFIX"):
        return  # an xdist worker inherits the controller's environment
    if not (sys.dont_write_bytecode or os.environ.get("PYTHONDONTWRITEBYTECODE")):
        return
    prefix = str(config._tmp_path_factory.getbasetemp() / "pycache")
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = prefix
    sys.pycache_prefix, sys.dont_write_bytecode = prefix, False


# ------------------------------------------------------------------ CPU threads under pytest-xdist
# Each xdist worker gets its share of the cores for the engines it starts (Whisper through
# CTranslate2, torch, BLAS), and so do the `qa` processes it runs: unshared, two workers each
# starting a Whisper with a thread per core ask for twice as many threads as there are cores, and the
# threads that wait for a core still cost CPU. Results do not depend on the thread count (the tests
# of qa/transcribe/faster.py's own default clear the setting).
def _share_the_cores() -> None:
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 0)
    if workers > 1:
        share = str(max(1, (os.cpu_count() or 1) // workers))
        for var in ("QA_WHISPER_THREADS", "OMP_NUM_THREADS"):
            os.environ.setdefault(var, share)


_share_the_cores()


# ------------------------------------------------------------------ scheduling under pytest-xdist
# `make test` runs `pytest -n 2 --dist worksteal` (issue 15): tests are shared out one by one and an
# idle worker takes over the other's pending tests. `--dist loadfile` (a file whole on one worker,
# so its module fixtures are built once) was tried and measured slower on a fresh clone: 18 min 20 s
# of pytest against 10 min 57 s before, because the longest file (test_ingest) then runs on one
# worker alone. The tests are collected longest files first (measured with --durations on 2 shared
# cores), so that the heavy tests start early; the other files follow in collection order.
SLOWEST_FIRST = (
    "test_ingest", "test_demo", "test_demo_agreement", "test_calibration_cli", "test_transcribe_openai",
    "test_dashboard_browser", "test_transcribe", "test_cli_transcribe", "test_train", "test_samples",
    "test_kokoro_voices", "test_festival_voices", "test_pipeline", "test_dashboard_extra", "test_roles",
    "test_redact", "test_login_http", "test_security_inputs", "test_agreement", "test_real_call_rules",
    "test_dashboard_apptest", "test_dashboard_ui", "test_dashboard_security",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))  # stable: order inside a file kept


def run_folder(tmp_path_factory) -> Path:
    """This test run's folder, shared by the xdist workers (above each worker's own)."""
    root = tmp_path_factory.getbasetemp()
    return root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root


def once_per_run(tmp_path_factory, key: str, produce):
    """``produce(folder)`` run once per test run and its (picklable) value shared by the xdist
    workers: a module fixture is otherwise built again on each worker that runs one of its tests
    (``--dist worksteal`` shares a file's tests out). The first worker to ask runs it under a lock
    and saves the value; the others wait for it and load it. ``folder`` is a fresh folder shared by
    the workers, for what ``produce`` writes (read it, never write to it). A failure is not saved:
    the next worker to ask tries again."""
    root = run_folder(tmp_path_factory)
    folder, saved = root / f"once-{key}", root / f"once-{key}.pickle"
    with open(root / f"once-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not saved.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            value = produce(folder)
            saved.write_bytes(pickle.dumps(value))
        return pickle.loads(saved.read_bytes())


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """(data folder, the finished process) of `qa demo --no-serve --synthetic 40` on a fresh data
    folder: the eight sample recordings transcribed by Whisper and scored into a new store, minutes
    of CPU, so done once per run and shared by the xdist workers (the first to ask runs it, under a
    lock; the other waits for it). tests/test_demo.py checks what it prints, tests/test_demo_agreement.py
    the evaluations it stored against samples/expected.csv. Read it, never write to it."""
    args = [sys.executable, "-m", "qa.cli", "demo", "--no-serve", "--synthetic", "40"]

    def run_demo(data: Path):
        env = {**os.environ, "QA_DATA_DIR": str(data)}
        env.pop("QA_DATABASE_URL", None)
        return data, subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)

    return once_per_run(tmp_path_factory, "demo-run", run_demo)


@pytest.fixture(scope="session")
def trained_empatia(tmp_path_factory) -> Path:
    """A copy of modelli/ whose empatia model was just trained by ``qa train --criterion empatia``
    from its shipped data: the recipe's own model (its card's features, tfidf), so that a candidate
    of the same recipe is no worse than it. About 35 s of CPU: done once per test run and shared by
    the xdist workers (tests/test_calibration_cli.py, tests/test_train.py). Copy it, never write to it."""
    def train(folder: Path) -> Path:
        d = folder / "modelli"
        shutil.copytree(ROOT / "modelli", d)
        env = {**os.environ, "QA_MODELS_DIR": str(d)}
        good = subprocess.run([sys.executable, "-m", "qa", "train", "--criterion", "empatia"], capture_output=True,
                              text=True, env=env, timeout=1800)
        assert good.returncode == 0, good.stdout + good.stderr
        assert "empatia: ok" in good.stdout
        return d

    return once_per_run(tmp_path_factory, "trained-empatia", train)
