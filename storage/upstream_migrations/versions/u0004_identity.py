"""Upstream: the database's own identity, a random id made once, so a station can tell this database from another
one at a different URL, or from a new database later put at the same URL.

Revision ID: u0004
Revises: u0003
"""
import time
import uuid

import sqlalchemy as sa
from alembic import op

revision = "u0004"
down_revision = "u0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "gate_upstream_identity",
        sa.Column("singleton", sa.Integer, primary_key=True),  # always 1: one identity per database
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.CheckConstraint("singleton = 1", name="ck_gate_upstream_identity_one"),
    )
    op.bulk_insert(table, [{"singleton": 1, "id": str(uuid.uuid4()), "created_at": time.time()}])


def downgrade() -> None:
    op.drop_table("gate_upstream_identity")
