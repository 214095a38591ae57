"""The lookup lemmas of spacy-lookups-data, loaded fast.

spacy-lookups-data ships each language's lemma table as gzipped JSON: 1.4-1.9 s of CPU to read
per language in every process that scores (each CLI command, each worker of an ingest pool). The
first process writes the table, as it was read, into the model cache (``qa.config.model_cache_dir``)
as plain arrays (numpy ``.npz``, no pickle: the keys are spaCy's 64-bit string hashes, the values
one UTF-8 text); later processes read that in about a tenth of the time. The cache file is named
by the language and the package's version, so a new spacy-lookups-data is read again; a cache
folder that cannot be written, or a damaged cache file, only means reading the package again.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Iterator

import numpy as np
from spacy.strings import get_string_id

_SEP = "\x00"


class LemmaTable:
    """A word -> lemma lookup with the interface of spaCy's ``Table`` that the project uses
    (``get``, ``in``, ``items``): keys are hashed the way spaCy hashes them; a value is one lemma
    ("" where the package gives none)."""

    __slots__ = ("_d",)

    def __init__(self, by_hash: dict[int, str]):
        self._d = by_hash

    def get(self, word: str, default: str | None = None) -> str | None:
        """The lemma of ``word`` (case-sensitive), else ``default``."""
        return self._d.get(get_string_id(word), default)

    def __contains__(self, word: str) -> bool:
        return get_string_id(word) in self._d

    def __len__(self) -> int:
        return len(self._d)

    def items(self) -> Iterator[tuple[int, str]]:
        """(key hash, lemma) pairs."""
        return iter(self._d.items())


def _cache_path(lang: str) -> Path | None:
    from ..config import model_cache_dir

    try:
        version = metadata.version("spacy-lookups-data")
    except metadata.PackageNotFoundError:
        return None
    return model_cache_dir() / f"lemmas-{lang}-{version}.npz"


def _read_cache(path: Path) -> LemmaTable | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = z["keys"]
            values = z["values"].tobytes().decode("utf-8").split(_SEP)
    except (OSError, ValueError, KeyError, UnicodeDecodeError, zipfile.BadZipFile):
        return None
    if len(values) != len(keys):
        return None
    return LemmaTable(dict(zip(keys.tolist(), values)))


def _write_cache(path: Path, table: dict[int, str]) -> None:
    if any(_SEP in v for v in table.values()):
        return  # cannot be written as one separated text (no such lemma in the four languages)
    keys = np.fromiter(table.keys(), dtype=np.uint64, count=len(table))
    values = np.frombuffer(_SEP.join(table.values()).encode("utf-8"), dtype=np.uint8)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, keys=keys, values=values)
        os.replace(tmp, path)  # atomic: a reader never sees half a file
    except OSError:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def lemma_table(lang: str) -> LemmaTable:
    """The ``lemma_lookup`` table of spacy-lookups-data for ``lang``, from the cache when it is there."""
    path = _cache_path(lang)
    if path is not None and path.is_file():
        cached = _read_cache(path)
        if cached is not None:
            return cached
    from spacy.lookups import load_lookups

    # French lemmas are lists (of one lemma, nearly always): the first one is the lemma the project uses
    table = {k: v if isinstance(v, str) else (str(v[0]) if v else "")
             for k, v in load_lookups(lang, ["lemma_lookup"]).get_table("lemma_lookup").items()}
    if path is not None:
        _write_cache(path, table)
    return LemmaTable(table)
