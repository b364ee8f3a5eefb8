"""Upstream: screenings, daily reports, audit events from many stations, keyed by the station-made UUID.

Revision ID: u0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "u0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screenings",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("entrant_id", sa.String(64)),
        sa.Column("operator", sa.String(64)),
        sa.Column("follows", sa.String(36)),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("threshold_c", sa.Float, nullable=False),
        sa.Column("temperature_c", sa.Float),
        sa.Column("mask", sa.Text, nullable=False),
        sa.Column("readings", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_up_screenings_station_seq", "screenings", ["station_id", "seq"])
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
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("daily_reports")
    op.drop_index("ix_up_screenings_station_seq", "screenings")
    op.drop_table("screenings")
