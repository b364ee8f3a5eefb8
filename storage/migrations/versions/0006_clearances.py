"""Clearances: a confirmed fever is let back in only with a recorded clearance (hash-chained, synced upward).

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clearances",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("entrant_id", sa.String(64), nullable=False),
        sa.Column("fever_screening_id", sa.String(36), nullable=False),
        sa.Column("fever_at", sa.Float, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("cleared_by", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_clearances_entrant", "clearances", ["entrant_id"])


def downgrade() -> None:
    op.drop_index("ix_clearances_entrant", "clearances")
    op.drop_table("clearances")
