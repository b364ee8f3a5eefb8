"""Initial schema: screenings (hash-chained), outbox, entrants.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screenings",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("station_id", sa.String(64), nullable=False),
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
    op.create_index("ix_screenings_day", "screenings", ["day"])
    op.create_index("ix_screenings_entrant", "screenings", ["entrant_id"])
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "entrants",
        sa.Column("roster_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("group", sa.String(64), nullable=False, server_default=""),
        sa.Column("kind", sa.String(16), nullable=False, server_default="pupil"),
    )


def downgrade() -> None:
    op.drop_table("entrants")
    op.drop_table("outbox")
    op.drop_index("ix_screenings_entrant", "screenings")
    op.drop_index("ix_screenings_day", "screenings")
    op.drop_table("screenings")
