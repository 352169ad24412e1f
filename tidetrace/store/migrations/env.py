"""Alembic environment: runs on the connection tidetrace hands over in ``config.attributes``."""

from alembic import context

from tidetrace.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
