"""Alembic environment: lawwatch runs migrations programmatically (``pipeline.db.upgrade``), never from an ini."""

from __future__ import annotations

from alembic import context

from lawwatch.pipeline.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = config.attributes["engine"]
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():  # pragma: no cover - lawwatch never renders SQL scripts
    raise SystemExit("lawwatch migrations run online only: use `lawwatch db upgrade`")
run_migrations_online()
