"""Editing the phrase lists (``collections:``) of a rubric file through the form: add, remove, replace
or set the phrases of one list in one language, each checked against the phrase syntax. A list
inherited through ``extends:`` is first copied whole into this file, and the copy is dropped again
when the edits make it equal to the parent's (see ``qa.rubric.editing``)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ..config import LANGUAGES
from ..errors import RubricError
from .formview import RubricForm, need_lang
from .phrase import PatternError, parse_phrase
from .yamlrt import (append_key, delete_key, edit_seq, insert_ordered, lang_phrases, replace_value, same, section,
                     styled_like)

SECTION_ORDER = ("negation", "negation_idioms", "negation_window", "names", "collections", "conditions", "criteria")  # top-level keys


class PhraseEdits(RubricForm):
    """The phrase-list edits of ``RubricDocument``; every change is made in this file's YAML only."""

    def add_phrase(self, collection: str, lang: str, phrase: str) -> None:
        """Add a phrase (checked against the phrase syntax) at the end of ``@collection`` in ``lang``."""
        current = self._current_phrases(collection, lang)
        p = self._check_phrase(collection, lang, phrase)
        if p in current:
            raise RubricError(f"{p!r} is already in @{collection} ({lang})", self.source_name)
        self._write_phrases(collection, lang, current + [p])

    def remove_phrase(self, collection: str, lang: str, phrase: str) -> None:
        """Remove a phrase from ``@collection`` in ``lang`` (a list never becomes empty)."""
        current = self._current_phrases(collection, lang)
        p = " ".join(str(phrase).split())
        if p not in current:
            raise RubricError(f"{p!r} is not in @{collection} ({lang})", self.source_name)
        self._write_phrases(collection, lang, [x for x in current if x != p])

    def replace_phrase(self, collection: str, lang: str, old: str, new: str) -> None:
        """Replace phrase ``old`` of ``@collection`` in ``lang`` by ``new``, in its place."""
        current = self._current_phrases(collection, lang)
        o = " ".join(str(old).split())
        if o not in current:
            raise RubricError(f"{o!r} is not in @{collection} ({lang})", self.source_name)
        n = self._check_phrase(collection, lang, new)
        if n != o and n in current:
            raise RubricError(f"{n!r} is already in @{collection} ({lang})", self.source_name)
        self._write_phrases(collection, lang, [n if x == o else x for x in current])

    def set_phrases(self, collection: str, lang: str, phrases: Iterable[str]) -> None:
        """Replace the whole list of ``@collection`` in ``lang`` (order kept, as the form lists it)."""
        self._current_phrases(collection, lang)
        if isinstance(phrases, str):
            raise RubricError("give the phrases as a list", self.source_name)
        new = [self._check_phrase(collection, lang, p) for p in phrases]
        dup = next((p for i, p in enumerate(new) if p in new[:i]), None)
        if dup is not None:
            raise RubricError(f"{dup!r} is twice in the list for @{collection} ({lang})", self.source_name)
        self._write_phrases(collection, lang, new)

    def _current_phrases(self, collection: str, lang: str) -> list[str]:
        body, label = self._need_collection(collection, self._view())
        need_lang(lang, self.source_name)
        if not isinstance(body, Mapping):
            raise RubricError(f"collection '@{collection.lstrip('@')}' in {label} is not a list of phrases per "
                              "language: edit it in the YAML", self.source_name)
        return lang_phrases(body, lang)

    def _check_phrase(self, collection: str, lang: str, phrase: Any) -> str:
        name = str(collection).lstrip("@")
        if not isinstance(phrase, str) or not phrase.strip():
            raise RubricError(f"@{name} ({lang}): a phrase must be a non-empty text", self.source_name)
        p = " ".join(phrase.split())
        if p.startswith("@"):
            view = self._view()
            if p[1:] == name:
                raise RubricError(f"@{name} ({lang}): a collection cannot include itself", self.source_name)
            self._need_collection(p[1:], view)
            return p
        try:
            parse_phrase(p)
        except PatternError as e:
            raise RubricError(f"invalid phrase {p!r} in @{name} ({lang}): {e} (phrase syntax: "
                              "docs/RUBRIC_LANGUAGE.md)", self.source_name) from None
        return p

    def _write_phrases(self, collection: str, lang: str, new: list[str]) -> None:
        name = str(collection).lstrip("@")
        if not new:
            raise RubricError(f"@{name} ({lang}): a phrase list cannot be empty (every language needs at least "
                              "one phrase)", self.source_name)
        if new == self._current_phrases(name, lang):
            return
        body = self._own_collection(name)
        seq = body.get(lang)
        if isinstance(seq, CommentedSeq):
            edit_seq(seq, new)
        else:
            fresh = CommentedSeq(styled_like(seq if isinstance(seq, str) else None, p) for p in new)
            fresh.fa.set_flow_style()
            if lang in body:
                replace_value(body, lang, fresh)
            else:
                insert_ordered(body, lang, fresh, LANGUAGES)
        self._drop_if_inherited_again(name)

    def _own_collection(self, name: str) -> CommentedMap:
        own = self._data.get("collections")
        if isinstance(own, CommentedMap) and name in own:
            return own[name]
        body, label = self._need_collection(name, self._view(ancestors_only=True))
        copy = CommentedMap()
        for lang in body:
            items = body[lang]
            if isinstance(items, CommentedSeq):
                seq = CommentedSeq(items)  # the same (immutable, quoted) strings; no comments
                if items.fa.flow_style():
                    seq.fa.set_flow_style()
            else:
                seq = items
            copy[lang] = seq
        append_key(section(self._data, "collections", SECTION_ORDER), name, copy)
        return copy

    def _drop_if_inherited_again(self, name: str) -> None:
        """Remove this file's copy of collection ``name`` when it says exactly what the files it
        extends say."""
        inherited = self._view(ancestors_only=True).collections
        own = self._data.get("collections")
        if not isinstance(own, CommentedMap) or name not in own or name not in inherited \
                or not same(own[name], inherited[name][0]):
            return
        delete_key(own, name)
        if not own:
            delete_key(self._data, "collections")
