"""The lemma tables of spacy-lookups-data through the model cache (qa.rubric.lemmas): the cached
table is the package's table, a damaged or unwritable cache only means reading the package again."""

from __future__ import annotations

import os
import random

import pytest
from spacy.lookups import load_lookups

from qa.rubric.lemmas import LemmaTable, _cache_path, lemma_table


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_MODEL_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def package_table(lang: str):
    return load_lookups(lang, ["lemma_lookup"]).get_table("lemma_lookup")


@pytest.mark.parametrize("lang", ["it", "fr"])
def test_cached_table_is_the_package_table(cache, lang):
    first = lemma_table(lang)  # read from the package, cache written
    path = _cache_path(lang)
    assert path.parent == cache and path.is_file() and path.suffix == ".npz"
    again = lemma_table(lang)  # read from the cache
    pkg = package_table(lang)
    assert len(first) == len(again) == len(pkg)
    cached = dict(again.items())
    for k in random.Random(0).sample(sorted(pkg.keys()), 2000):
        v = pkg[k]
        assert cached[k] == (v if isinstance(v, str) else (v[0] if v else ""))  # French lemmas: lists of one
    words = {"it": ["andato", "case", "parlavano", "Roma", "zzzz"], "fr": ["allées", "été", "parlaient", "zzzz"]}[lang]
    for w in words:
        got = pkg.get(w)
        want = None if got is None else (got if isinstance(got, str) else got[0])
        assert again.get(w) == first.get(w) == want, w
        assert (w in again) == (w in pkg)


def test_every_cached_value_equals_the_package_value(cache):
    lemma_table("de")
    cached = dict(lemma_table("de").items())
    pkg = package_table("de")
    assert cached == {k: v for k, v in pkg.items()}


def test_damaged_cache_is_read_from_the_package_and_rewritten(cache):
    lemma_table("en")
    path = _cache_path("en")
    path.write_bytes(path.read_bytes()[:1000])  # truncated
    table = lemma_table("en")
    assert isinstance(table, LemmaTable) and table.get("children") == "child"
    assert path.stat().st_size > 100_000  # written again, whole
    assert [p.name for p in cache.iterdir()] == [path.name]  # no temporary file left


def test_unwritable_cache_folder_still_gives_the_table(tmp_path, monkeypatch):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    monkeypatch.setenv("QA_MODEL_CACHE", str(blocked / "cache"))  # a folder cannot be made under a file
    table = lemma_table("en")
    assert table.get("children") == "child"
    assert not os.path.isdir(blocked / "cache")
