"""What every part of ``Store`` shares: the engine, one-transaction sessions, and the look-ups
(call by ``call_id``, user id by name) that the calls, reviews and users parts all need.

``session_of(source)`` lets the read modules (``qa.store.queries``, ``qa.store.labels``,
``qa.store.rescoring``) take either a ``Store`` or a ``Session`` already open.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ..errors import StoreError
from .db import WRITE_OPTION
from .schema import Call, User


@contextmanager
def session_of(source: Any) -> Iterator[Session]:
    """``source`` itself when it is an open ``Session``, else a new one-transaction session of
    the ``Store`` ``source`` (committed on success, rolled back on error)."""
    if isinstance(source, Session):
        yield source
    else:
        with source.session() as s:
            yield s


class StoreBase:
    """The engine and the session factory; the base of ``qa.store.Store``.

    Returned ORM objects are detached but loaded (``expire_on_commit=False``): read their
    columns freely, change them only through ``Store`` methods."""

    def __init__(self, engine: Engine):
        """Wrap an engine made by ``qa.store.db.make_engine`` (``open_store`` does this)."""
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False)

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Close the engine's connections (the store can't be used afterwards)."""
        self.engine.dispose()

    def __enter__(self) -> "StoreBase":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error. For the
        store's own modules (``qa.store``); code outside it calls the named functions instead."""
        with self._sessions() as s:
            with s.begin():
                yield s

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """``session()`` for a read-modify-write: on SQLite it takes the write lock at BEGIN
        (BEGIN IMMEDIATE), so no other writer commits between what it reads and what it writes;
        on PostgreSQL the writers lock the call row they change (``_call(..., lock=True)``)."""
        with self._write_sessions() as s:
            with s.begin():
                yield s

    @staticmethod
    def _call(s: Session, call_id: str, lock: bool = False) -> Call:
        """The call row of ``call_id``; StoreError when there is none. ``lock``: SELECT ... FOR
        UPDATE (PostgreSQL): writers of one call's evaluations, reviews and disputes take turns."""
        q = select(Call).where(Call.call_id == call_id)
        call = s.scalar(q.with_for_update() if lock else q)
        if call is None:
            raise StoreError(f"no call {call_id!r} in the store")
        return call

    @staticmethod
    def _user_id(s: Session, username: str | None) -> int | None:
        """The users.id of ``username`` (None for no name or an unknown one)."""
        return None if not username else s.scalar(select(User.id).where(User.username == username))
