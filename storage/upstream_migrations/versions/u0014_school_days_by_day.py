"""Upstream: the bureau's daily rollup found by day (an index on ``school_days (day, school_id)``).

`gate bureau daily` reads one day of ``school_days`` (u0012), whose key starts with the school: without this index
PostgreSQL reads the whole rollup for one day, a row a school and day ever screened (a province's year: 20,000
schools x 365 days = 7.3 M rows) to keep 20,000. With it, the day's rows only. Frozen: restates the schema.

Revision ID: u0014
Revises: u0013
"""
from alembic import op

revision = "u0014"
down_revision = "u0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_up_school_days_day", "school_days", ["day", "school_id"])


def downgrade() -> None:
    op.drop_index("ix_up_school_days_day", table_name="school_days")
