"""Alembic environment for the store. Run programmatically by ``qa.store.open_store``, which
passes an open connection in ``config.attributes["connection"]``."""

from alembic import context

from qa.store.schema import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    """Run the migrations on the connection ``open_store`` passed, or on an engine built from the
    settings when Alembic's command line runs this file."""
    connection = context.config.attributes.get("connection")
    if connection is None:  # `alembic` command line: build an engine from the settings
        from sqlalchemy import create_engine

        from qa.config import database_url

        url = context.config.get_main_option("sqlalchemy.url") or database_url()
        with create_engine(url).connect() as conn:
            _run(conn)
            conn.commit()
        return
    _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE on SQLite
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
