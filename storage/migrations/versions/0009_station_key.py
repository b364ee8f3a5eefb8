"""Secrets out of the log: the station key file holds the pseudonymisation secret; the log keeps only the key's
public fingerprint (so a key file of another log is refused) in a new ``seals`` table.

The key file is written (with the old secret) before this runs; ``storage.migrate.upgrade`` passes the key in the
Alembic config's attributes as ``station_key``.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import context, op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    key = context.config.attributes.get("station_key")
    if key is None:
        raise RuntimeError("this migration needs the station key: run it through storage.migrate.upgrade(engine, key)")
    seals = op.create_table(
        "seals",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
    )
    fp = key.fingerprint
    op.bulk_insert(seals, [{"name": "station-key", "rows": 0, "digest": fp,
                            "mac": key.seal(f"seal\nstation-key\n0\n{fp}".encode())}])
    op.drop_table("station_secret")


def downgrade() -> None:
    raise NotImplementedError("the pseudonymisation secret lives in the key file now; restore a backup instead")
