"""Hostile inputs (issue 14): rubric YAML that expands without limit, oversized rubrics, ``extends:``
reaching outside the rubric folders; uploads over the size cap, streamed to disk, originals removed
with ``QA_KEEP_ORIGINALS=0``. Each is refused with one line and nothing is lost."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa.cli import main as qa_main
from qa.errors import EXIT_FAILED, RubricError
from qa.rubric import load_rubric, load_rubric_text, validate_rubric, validate_rubric_text
from qa.rubric.yamlsrc import MAX_RUBRIC_BYTES, MAX_YAML_VALUES

pytestmark = pytest.mark.security

RUBRICS = Path(__file__).resolve().parents[1] / "rubriche"


def _bomb(levels: int) -> str:
    """The "billion laughs": each level lists the previous one nine times (9**levels values)."""
    lines = ["rubric: risate", "version: 1", "extends: comune", 'description: &l0 ["ha","ha","ha","ha","ha","ha","ha","ha","ha"]']
    lines.append("criteria:")
    lines.append("  saluto:")
    lines.append("    x0: *l0")
    for i in range(1, levels + 1):
        lines.append(f"    x{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_with_its_line():
    text = _bomb(6)  # 9**7 = 4.8 million values from a 440-byte text
    assert len(text) < 500
    errors = validate_rubric_text(text, "risate.yaml")
    assert len(errors) == 1
    e = errors[0]
    assert "aliases expand to more than" in e.message and e.source == "risate.yaml"
    # the innermost list whose expansion passes the limit: x5 (line 12) holds 9**6 values
    assert 9 ** 5 < MAX_YAML_VALUES < 9 ** 6
    assert e.line == 7 + 5
    assert str(e).startswith("risate.yaml:12: ")
    with pytest.raises(RubricError, match="aliases expand"):
        load_rubric_text(text, "risate.yaml")
    # deeper bombs (9**31 values) are refused the same way: the check counts, it never expands
    deep = validate_rubric_text(_bomb(30), "risate.yaml")
    assert [(e.line, e.message) for e in deep] == [(12, e.message)]


def test_alias_bomb_file_through_the_cli(tmp_path, capsys):
    p = tmp_path / "risate.yaml"
    p.write_text(_bomb(6), encoding="utf-8")
    assert qa_main(["rubric", "validate", str(p)]) == EXIT_FAILED
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"{p}:12: YAML aliases expand to more than")


def test_aliases_within_the_limit_still_work():
    # a small anchor reused is ordinary YAML and stays allowed
    text = ("rubric: mia\nversion: x1\nextends: comune\ncriteria:\n  saluto:\n    weight: &w 3\n"
            "  congedo:\n    weight: *w\n")
    rub = load_rubric_text(text, "mia.yaml")
    assert rub.criterion("saluto").weight == rub.criterion("congedo").weight == 3.0


def test_self_referencing_alias_is_refused():
    text = "rubric: x\nversion: 1\ndescription: &a [1, *a]\n"
    errors = validate_rubric_text(text, "x.yaml")
    assert len(errors) == 1 and errors[0].line == 3
    assert "refers to the list or mapping that contains it" in errors[0].message


def test_oversized_rubric_is_refused_unread(tmp_path, capsys):
    big = "rubric: grande\nversion: 1\n" + "# " + "x" * MAX_RUBRIC_BYTES + "\n"
    errors = validate_rubric_text(big, "grande.yaml")
    assert len(errors) == 1 and "rubric too large" in errors[0].message
    p = tmp_path / "grande.yaml"
    p.write_text(big, encoding="utf-8")
    assert qa_main(["rubric", "validate", str(p)]) == EXIT_FAILED
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{p}: rubric too large: over {MAX_RUBRIC_BYTES // 1024} KiB (refused unread)"]
    # the bundled rubrics are well within the limit
    assert max(q.stat().st_size for q in RUBRICS.glob("*.yaml")) * 4 < MAX_RUBRIC_BYTES


@pytest.mark.parametrize("target", ["/dev/zero", "/etc/passwd", "../../../../../../etc/passwd",
                                    "/etc/hostname.yaml"])
def test_extends_outside_the_rubric_folders_is_refused(target):
    text = f"rubric: mia\nversion: x1\nextends: {target}\n"
    errors = validate_rubric_text(text, "mia.yaml")
    assert len(errors) == 1, errors
    assert errors[0].line == 3 and "outside the rubric folders" in errors[0].message
    with pytest.raises(RubricError, match="outside the rubric folders"):
        load_rubric_text(text, "mia.yaml")


def test_extends_symlink_escaping_is_refused(tmp_path, monkeypatch):
    rubrics = tmp_path / "rubriche"
    rubrics.mkdir()
    for q in RUBRICS.glob("*.yaml"):
        (rubrics / q.name).write_bytes(q.read_bytes())
    outside = tmp_path / "fuori"
    outside.mkdir()
    (outside / "base.yaml").write_bytes((RUBRICS / "comune.yaml").read_bytes())
    (rubrics / "base.yaml").symlink_to(outside / "base.yaml")
    (rubrics / "zero.yaml").symlink_to("/dev/zero")
    monkeypatch.setenv("QA_RUBRICS_DIR", str(rubrics))
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path / "data"))
    for name in ("base", "zero"):
        child = rubrics / f"figlia_{name}.yaml"
        child.write_text(f"rubric: figlia\nversion: 1\nextends: {name}\n", encoding="utf-8")
        errors = validate_rubric(child)
        assert len(errors) == 1 and errors[0].line == 3, errors
        assert "outside the rubric folders" in errors[0].message
        errors = validate_rubric_text(child.read_text(encoding="utf-8"), "figlia.yaml")
        assert len(errors) == 1 and "outside the rubric folders" in errors[0].message
    # a link inside the folder is fine, and the shipped chain still loads from the copy
    (rubrics / "alias.yaml").symlink_to(rubrics / "comune.yaml")
    ok = rubrics / "figlia_ok.yaml"
    ok.write_text("rubric: figlia\nversion: 1\nextends: alias\n", encoding="utf-8")
    assert validate_rubric(ok) == []
    assert load_rubric(rubrics / "assistenza.yaml").criterion("saluto")


def test_a_device_or_folder_as_rubric_is_refused(tmp_path, capsys):
    assert qa_main(["rubric", "validate", "/dev/zero"]) == EXIT_FAILED
    assert capsys.readouterr().err.strip().splitlines() == ["/dev/zero: not a regular file"]
    with pytest.raises(RubricError, match="not a regular file"):
        load_rubric(tmp_path)


# ------------------------------------------------------------------------------------------ uploads
EVAL_AUDIO = Path(os.environ.get("QA_EVAL_DIR", "/work/shared/eval")) / "audio"


def _uploaded(name: str, data: bytes):
    """What st.file_uploader hands the page: Streamlit's own UploadedFile."""
    from streamlit.proto.Common_pb2 import FileURLs
    from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec

    return UploadedFile(UploadedFileRec("id-" + name, name, "audio/wav", data), FileURLs())


def _long_wav(tmp_path: Path, seconds: int) -> bytes:
    """Real speech: the evaluation call looped by ffmpeg to ``seconds`` (48 kHz stereo WAV)."""
    import subprocess

    dst = tmp_path / f"long{seconds}.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-stream_loop", "-1", "-i", str(EVAL_AUDIO / "stereo_diarization.wav"),
                    "-t", str(seconds), "-ar", "48000", "-ac", "2", "-c:a", "pcm_s16le", str(dst)], check=True)
    data = dst.read_bytes()
    dst.unlink()
    return data


def test_upload_is_streamed_to_disk_without_a_second_copy(tmp_path):
    import tracemalloc

    from qa.dashboard.uploads import save_upload

    data = _long_wav(tmp_path, 300)  # 55 MB
    f = _uploaded("chiamata lunga.wav", data)
    batch = tmp_path / "batch"
    batch.mkdir()
    tracemalloc.start()
    try:
        p = save_upload(batch, f.name, f)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert p.name == "chiamata_lunga.wav" and p.stat().st_size == len(data)
    assert p.read_bytes() == data
    assert peak < 4 * 1024 * 1024, f"saving allocated {peak / 1e6:.0f} MB at once"
    assert [x.name for x in batch.iterdir()] == [p.name]  # no partial file left behind


def test_upload_over_the_cap_is_refused_and_earlier_files_stay(tmp_path, monkeypatch):
    from qa.dashboard.uploads import max_upload_bytes, save_upload
    from qa.errors import QAError

    monkeypatch.setenv("QA_MAX_UPLOAD_MB", "2")
    assert max_upload_bytes() == 2 * 1024 * 1024
    small = (EVAL_AUDIO / "stereo_diarization.wav").read_bytes()
    assert len(small) < 2 * 1024 * 1024
    big = _long_wav(tmp_path, 30)  # 5.8 MB
    batch = tmp_path / "batch"
    batch.mkdir()
    kept = save_upload(batch, "prima.wav", _uploaded("prima.wav", small))
    # declared size (Streamlit's UploadedFile.size) over the cap: refused before writing
    with pytest.raises(QAError) as ei:
        save_upload(batch, "grande.wav", _uploaded("grande.wav", big))
    assert str(ei.value) == "grande.wav: file larger than the upload limit of 2 MB (QA_MAX_UPLOAD_MB)"
    # a stream that does not say its size: refused while it is written, the partial file removed
    src = tmp_path / "grande.wav"
    src.write_bytes(big)
    with open(src, "rb") as stream:
        with pytest.raises(QAError, match="larger than the upload limit of 2 MB"):
            save_upload(batch, "grande.wav", stream)
    assert sorted(x.name for x in batch.iterdir()) == ["prima.wav"]
    assert kept.read_bytes() == small


def test_bad_upload_cap_is_one_line_and_serve_passes_the_cap(monkeypatch, capsys):
    from qa.commands.serve import serve_command

    monkeypatch.setenv("QA_MAX_UPLOAD_MB", "300")
    cmd = serve_command()
    assert cmd[cmd.index("--server.maxUploadSize") + 1] == "300"
    monkeypatch.setenv("QA_MAX_UPLOAD_MB", "tanti")
    assert qa_main(["serve"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["qa: error: QA_MAX_UPLOAD_MB must be a positive whole number of MB, not 'tanti'"]
    # the script-level config of `streamlit run` has the same default cap
    import tomllib

    conf = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text())
    assert conf["server"]["maxUploadSize"] == 1024


@pytest.mark.slow
def test_uploaded_originals_are_deleted_with_keep_originals_off(tmp_path, monkeypatch):
    """QA_KEEP_ORIGINALS=0: the store keeps its redacted copy, the uploaded original is deleted once
    its call is stored; a file that fails stays (nothing lost) and so does the metadata CSV."""
    from qa.dashboard.uploads import ingest_uploads, new_batch_dir, save_upload
    from qa.store import open_store

    data = tmp_path / "data"
    monkeypatch.setenv("QA_DATA_DIR", str(data))
    monkeypatch.setenv("QA_KEEP_ORIGINALS", "0")
    store = open_store(f"sqlite:///{tmp_path / 'up.db'}")
    batch = new_batch_dir(data)
    good = save_upload(batch, "chiamata.wav", _uploaded("chiamata.wav", (EVAL_AUDIO / "stereo_diarization.wav").read_bytes()))
    bad = save_upload(batch, "rotto.wav", b"this is a text file, not audio\n" * 20)
    meta = save_upload(batch, "meta.csv", b"file,agent_id\nchiamata.wav,A1\n", allowed=(".csv",))
    seen = []
    messages = ingest_uploads(store, [good, bad], meta, on_file=lambda p, m: seen.append((p.name, len(m))))
    assert seen == [("chiamata.wav", 0), ("rotto.wav", 1)]
    assert len(messages) == 1 and messages[0].startswith("rotto.wav: ")
    assert not good.exists()  # the original is gone ...
    call = store.get_call("chiamata")
    assert call is not None and call.audio_path == call.redacted_audio_path  # ... the redacted copy is kept
    assert Path(call.audio_path).is_file() and (data / "recordings") in Path(call.audio_path).parents
    assert bad.exists() and meta.exists()  # a failure loses nothing
    # the failed file fixed and uploaded again: every file stored, the batch folder is emptied
    bad.unlink()
    again = save_upload(batch, "chiamata2.wav", _uploaded("c.wav", _long_wav(tmp_path, 8)))
    assert ingest_uploads(store, [again], meta) == []
    assert not batch.exists()
    store.close()
