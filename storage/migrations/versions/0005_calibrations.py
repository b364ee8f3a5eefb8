"""Calibration records (full blackbody calibrations and daily checks), synced upward.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calibrations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("sensor", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),  # full | daily-check
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("due", sa.Float),
        sa.Column("result", sa.String(8), nullable=False),  # pass | fail
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("content", sa.Text, nullable=False),  # the whole record as JSON
    )
    op.create_index("ix_calibrations_sensor_at", "calibrations", ["sensor", "at"])


def downgrade() -> None:
    op.drop_index("ix_calibrations_sensor_at", "calibrations")
    op.drop_table("calibrations")
