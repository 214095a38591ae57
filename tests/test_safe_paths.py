"""qa.store.paths.safe_data_path: a path read from data opens a file only inside the data
directory (issue 14), on real files and real symbolic links."""

from __future__ import annotations

import os

import pytest

from qa.errors import StoreError
from qa.store.paths import AUDIO_SUFFIXES, safe_data_path

pytestmark = pytest.mark.security


@pytest.fixture
def data(tmp_path, monkeypatch):
    d = tmp_path / "data"
    (d / "recordings").mkdir(parents=True)
    (d / "recordings" / "a.redacted.wav").write_bytes(b"RIFF....WAVE")
    (d / "ascolto.db").write_bytes(b"SQLite format 3\x00")
    (tmp_path / "secret.wav").write_bytes(b"not yours")
    monkeypatch.setenv("QA_DATA_DIR", str(d))
    return d


def test_a_file_inside_the_data_dir_is_returned_resolved(data):
    assert safe_data_path(str(data / "recordings" / "a.redacted.wav"), AUDIO_SUFFIXES) == \
        (data / "recordings" / "a.redacted.wav").resolve()
    assert safe_data_path("recordings/a.redacted.wav") == (data / "recordings" / "a.redacted.wav").resolve()


@pytest.mark.parametrize("path", ["/etc/passwd", "{tmp}/secret.wav", "{data}/recordings/../../secret.wav",
                                  "../secret.wav", "{data}/../data-evil/x.wav"])
def test_paths_outside_the_data_dir_are_refused_with_one_line(data, path):
    p = path.format(tmp=data.parent, data=data)
    with pytest.raises(StoreError) as e:
        safe_data_path(p, AUDIO_SUFFIXES)
    assert "\n" not in str(e.value) and "outside the data directory" in str(e.value)


def test_a_symbolic_link_out_of_the_data_dir_is_refused(data):
    link = data / "recordings" / "b.redacted.wav"
    os.symlink(data.parent / "secret.wav", link)
    with pytest.raises(StoreError, match="outside the data directory"):
        safe_data_path(link, AUDIO_SUFFIXES)
    loop = data / "recordings" / "loop.wav"
    os.symlink(loop, loop)
    with pytest.raises(StoreError):
        safe_data_path(loop, AUDIO_SUFFIXES)


def test_other_files_of_the_data_dir_and_missing_ones_are_refused(data):
    with pytest.raises(StoreError, match="not an audio file"):
        safe_data_path(data / "ascolto.db", AUDIO_SUFFIXES)
    with pytest.raises(StoreError, match="not found"):
        safe_data_path(data / "recordings" / "gone.wav", AUDIO_SUFFIXES)
    with pytest.raises(StoreError, match="not found"):
        safe_data_path(data / "recordings", AUDIO_SUFFIXES)  # a folder
    for empty in (None, "", "  "):
        with pytest.raises(StoreError, match="no file"):
            safe_data_path(empty)
    with pytest.raises(StoreError, match="not valid"):
        safe_data_path(str(data / "recordings" / "a.wav\x00.txt"))
