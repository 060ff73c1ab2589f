"""Alembic runs this with the connection the store opened (inspector.store.database.upgrade)."""

from alembic import context

from inspector.store.tables import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
