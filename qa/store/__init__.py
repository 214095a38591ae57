"""The call store: SQLAlchemy 2 over SQLite (default, a WAL file in QA_DATA_DIR) or PostgreSQL
(QA_DATABASE_URL), and the only package of Ascolto that talks to the database.

``open_store()`` opens it and upgrades the schema to the newest Alembic migration. ``Store``
(``qa.store.repository``, composed of ``calls``, ``reviews``, ``users``, ``rubrics``,
``failures``) is the write API and loads single calls; the named reads are
``qa.store.queries`` (dashboard), ``qa.store.labels`` (human reviews for calibration and
training), ``qa.store.rescoring`` (rubric version per call), ``qa.store.export`` (``qa export``);
``qa.store.synthetic`` fills a store for benchmarks, the demo and UI tests. docs/STORE.md
describes the layout."""

from __future__ import annotations

from .. import config
from .db import head_revision, make_engine, upgrade_to_head
from .repository import CallRecord, Store, evaluation_from_row, parse_timestamp
from .schema import ROLES, Base

__all__ = ["open_store", "Store", "CallRecord", "ROLES", "Base", "evaluation_from_row", "parse_timestamp",
           "head_revision"]


def open_store(url: str | None = None, upgrade: bool = True) -> Store:
    """Open the store at ``url`` (default: ``qa.config.database_url()``), schema upgraded to head."""
    engine = make_engine(url or config.database_url())
    if upgrade:
        try:
            upgrade_to_head(engine)
        except BaseException:
            engine.dispose()
            raise
    return Store(engine)
