"""The sync checkpoint belongs to one upstream database: its identity is kept with the checkpoint, and a record can be
quarantined by more than one upstream.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _quarantine_keyed_by(key: list[str]) -> None:
    # SQLite cannot change a primary key in place: build the new table, copy, swap.
    op.create_table(
        "quarantine_new",
        sa.Column("outbox_seq", sa.Integer, nullable=False),
        sa.Column("upstream", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint(*key),
    )
    op.execute("INSERT OR IGNORE INTO quarantine_new SELECT outbox_seq, upstream, kind, record_id, error, at "
               "FROM quarantine")
    op.drop_table("quarantine")
    op.rename_table("quarantine_new", "quarantine")


def upgrade() -> None:
    # NULL for checkpoints made before identities existed: they confirm nothing until the next sync re-sends.
    op.add_column("sync_state", sa.Column("identity", sa.String(36)))
    _quarantine_keyed_by(["outbox_seq", "upstream"])


def downgrade() -> None:
    _quarantine_keyed_by(["outbox_seq"])
    op.drop_column("sync_state", "identity")
