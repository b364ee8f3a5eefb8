"""Upstream: the bureau's district exports for auditors, one row per school included (school first in the key).
Frozen: restates the schema.

Revision ID: u0009
Revises: u0008
"""
import sqlalchemy as sa
from alembic import op

revision = "u0009"
down_revision = "u0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bureau_exports",
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("export_id", sa.String(36), nullable=False),
        sa.Column("day_from", sa.String(10), nullable=False),
        sa.Column("day_to", sa.String(10), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("exported_by", sa.String(64), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("school_id", "export_id", name="pk_up_bureau_exports"),
    )


def downgrade() -> None:
    op.drop_table("bureau_exports")
