"""Upstream: each screening's session of the school day (晨检 morning, 午检 noon ...), for the school's report.

Revision ID: u0005
Revises: u0004
"""
import sqlalchemy as sa
from alembic import op

revision = "u0005"
down_revision = "u0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("screenings", sa.Column("session", sa.String(64)))


def downgrade() -> None:
    op.drop_column("screenings", "session")
