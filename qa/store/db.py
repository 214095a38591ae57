"""Opening the store: engine settings per backend and schema upgrade (Alembic) on open."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from ..errors import StoreError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
WRITE_OPTION = "qa_write"  # execution option of write transactions (BEGIN IMMEDIATE on SQLite)


def alembic_config() -> Config:
    """The Alembic configuration of the store's migrations (``qa/store/migrations``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """The newest migration's revision id."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def make_engine(url: str) -> Engine:
    """A SQLAlchemy engine for ``url``: SQLite in WAL mode with foreign keys on (its folder created),
    PostgreSQL through psycopg 3; StoreError for text that is not a database URL."""
    try:
        u = make_url(url)
    except ArgumentError:
        raise StoreError(f"not a database URL: {url!r}") from None
    backend = u.get_backend_name()
    if backend == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(u, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            # the driver's own transaction handling starts a transaction only before the first
            # INSERT/UPDATE/DELETE, so the reads of a read-modify-write ran outside it; SQLAlchemy
            # emits BEGIN itself instead (``_sqlite_begin``)
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers (dashboard) never block the writer
            cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            # writers (``StoreBase.write_session``) take the write lock at once: one writer at a
            # time, and what it reads is what it then changes; readers never wait (WAL)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")

        return engine
    if backend == "postgresql":
        if u.drivername == "postgresql":  # plain postgresql:// -> psycopg 3 (the driver we ship)
            u = u.set(drivername="postgresql+psycopg")
        return create_engine(u, pool_pre_ping=True)
    return create_engine(u)


def upgrade_to_head(engine: Engine) -> str:
    """Bring the schema to the newest migration; returns the revision. Safe to call from
    several processes at once (PostgreSQL: advisory lock; SQLite: the write lock)."""
    head = head_revision()
    try:
        with engine.connect() as conn:
            if MigrationContext.configure(conn).get_current_revision() == head:
                return head
        with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(7412001)"))
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except OperationalError as e:
        raise StoreError(f"cannot open the store at {engine.url.render_as_string(hide_password=True)}: "
                         f"{str(e.orig).strip().splitlines()[0] if e.orig else e}") from None
    except SQLAlchemyError as e:
        raise StoreError(f"schema upgrade failed: {type(e).__name__}: {e}") from None
    return head
