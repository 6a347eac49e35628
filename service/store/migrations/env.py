"""Alembic's environment: run on the connection `store.schema` hands over, never from a URL here."""

from __future__ import annotations

from alembic import context

from signoff_service.store.models import Base

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=Base.metadata,
    # SQLite cannot alter most of a table in place; batch mode rebuilds it instead.
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
