"""Upstream: clearances of confirmed fevers from every station.

Revision ID: u0003
Revises: u0002
"""
import sqlalchemy as sa
from alembic import op

revision = "u0003"
down_revision = "u0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clearances",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
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


def downgrade() -> None:
    op.drop_table("clearances")
