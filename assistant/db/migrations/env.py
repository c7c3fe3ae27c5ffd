"""Alembic environment: run migrations on the connection Relance hands over (never a URL)."""

from __future__ import annotations

from alembic import context

from assistant.db.engine import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `assistant.db.migrations` drives Alembic
    raise RuntimeError("run migrations through `relance db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=metadata(),
    render_as_batch=True,  # SQLite cannot ALTER most things: batch mode copies the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
