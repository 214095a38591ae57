"""Inputs ingest could not store: ``FailuresMixin``, the part of ``Store`` behind
``qa failures`` (one row per path: reason, checksum if known, first/last time, attempts)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from .base import StoreBase
from .schema import Failure, now


class FailuresMixin(StoreBase):
    """The ``failures`` table (mixed into ``Store``)."""

    def record_failure(self, path: str, reason: str, checksum: str | None = None) -> None:
        """Note that ``path`` failed (again): reason and last time updated, attempts counted."""
        with self.session() as s:
            row = s.scalar(select(Failure).where(Failure.path == path))
            if row is None:
                s.add(Failure(path=path, file_name=Path(path).name, checksum=checksum, reason=reason))
            else:
                row.reason, row.last_at, row.attempts = reason, now(), row.attempts + 1
                row.checksum = checksum or row.checksum

    def clear_failure(self, path: str) -> None:
        """Forget the failure of ``path`` (nothing happens when there is none)."""
        with self.session() as s:
            s.execute(Failure.__table__.delete().where(Failure.path == path))

    def failures(self) -> list[Failure]:
        """Every recorded failure, by file name then path."""
        with self.session() as s:
            return list(s.scalars(select(Failure).order_by(Failure.file_name, Failure.path)))
