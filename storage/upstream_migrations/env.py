"""Alembic environment for the upstream database (many stations), separate from the station's own log."""
from alembic import context

from storage.upstream import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run upstream migrations through storage.upstream.upgrade()")
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
