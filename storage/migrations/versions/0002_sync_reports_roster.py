"""Sync checkpoint and quarantine, daily reports, hash-chained audit events, purge anchors, visitors, station secret.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_state",
        sa.Column("upstream", sa.String(64), primary_key=True),  # a hash of the upstream URL without password
        sa.Column("last_seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_success", sa.Float),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", sa.Float),
    )
    op.create_table(
        "quarantine",
        sa.Column("outbox_seq", sa.Integer, primary_key=True),
        sa.Column("upstream", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_table(
        "daily_reports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "chain_anchors",
        sa.Column("chain", sa.String(32), primary_key=True),
        sa.Column("last_purged_seq", sa.Integer, nullable=False),
        sa.Column("last_purged_hash", sa.String(64), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_table(
        "visitors",
        sa.Column("visitor_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("host", sa.String(128), nullable=False),
        sa.Column("day", sa.String(10)),  # approved for this day only; NULL = until removed
        sa.Column("approved_by", sa.String(64), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_table(
        "station_secret",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    for table in ("station_secret", "visitors", "chain_anchors", "audit_events", "daily_reports", "quarantine",
                  "sync_state"):
        op.drop_table(table)
