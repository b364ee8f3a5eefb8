"""Upstream: calibration records from every station.

Revision ID: u0002
Revises: u0001
"""
import sqlalchemy as sa
from alembic import op

revision = "u0002"
down_revision = "u0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calibrations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("sensor", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("due", sa.Float),
        sa.Column("result", sa.String(8), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("calibrations")
