"""Upstream: the school's roster, sent by its stations when the config allows it (`[upstream] share_roster`), for the
school's report across its gates. Insert-only: each roster import is a new version; the newest version counts.
Frozen: restates the schema.

Revision ID: u0008
Revises: u0007
"""
import sqlalchemy as sa
from alembic import op

revision = "u0008"
down_revision = "u0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roster_versions",
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("people", sa.Integer, nullable=False),
        sa.Column("sent_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("school_id", "version", name="pk_up_roster_versions"),
    )
    op.create_table(
        "roster_people",
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("roster_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("class_name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("school_id", "version", "roster_id", name="pk_up_roster_people"),
    )


def downgrade() -> None:
    op.drop_table("roster_people")
    op.drop_table("roster_versions")
