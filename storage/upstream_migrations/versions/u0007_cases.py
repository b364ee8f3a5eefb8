"""Upstream: follow-up case events (opened by the station, closed by a teacher or the school doctor), keyed by
school like every upstream table, for the school's report across its gates. Frozen: restates the schema.

Revision ID: u0007
Revises: u0006
"""
import sqlalchemy as sa
from alembic import op

revision = "u0007"
down_revision = "u0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("event", sa.String(8), nullable=False),
        sa.Column("entrant_id", sa.String(64), nullable=False),
        sa.Column("class_name", sa.String(64), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("session", sa.String(64)),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("screening_id", sa.String(36)),
        sa.Column("outcome", sa.String(16)),
        sa.Column("symptoms", sa.Text, nullable=False),
        sa.Column("onset", sa.String(10)),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("school_id", "id", name="pk_up_cases"),
    )
    op.create_index("ix_up_cases_school_day", "cases", ["school_id", "day"])


def downgrade() -> None:
    op.drop_table("cases")
