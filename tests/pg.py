"""PostgreSQL helpers for the store tests (imported by tests/test_store*.py, test_ingest*.py,
test_export.py; tests/conftest.py belongs to someone else).

Each test gets its own schema in the server's ``test`` database (127.0.0.1:5432, trust auth),
named uniquely so pytest-xdist workers never meet, and dropped afterwards. Override the server
with QA_TEST_PG (a SQLAlchemy URL without search_path). If the server is down the tests FAIL:
it is part of the test environment (.ci/run starts it), not optional.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

PG_SERVER = os.environ.get("QA_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def pg_schema_url(prefix: str = "qa_test") -> Iterator[str]:
    """A URL whose search_path is a brand-new schema; the schema is dropped on exit."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        sep = "&" if "?" in PG_SERVER else "?"
        yield f"{PG_SERVER}{sep}options={quote(f'-csearch_path={name}')}"
    finally:
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        finally:
            admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    with pg_schema_url() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> Iterator[str]:
    """Runs a test once on a SQLite file and once on a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        with pg_schema_url() as url:
            yield url
