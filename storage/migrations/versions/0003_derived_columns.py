"""Derived columns on screenings (the latest reading's source, the mask state) for fast exports and reports.

They are not part of the hash chain (old rows keep verifying); `verify` checks that they agree with the hashed content.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("screenings") as batch:
        batch.add_column(sa.Column("source", sa.String(64)))
        batch.add_column(sa.Column("mask_state", sa.String(8)))
    op.execute("UPDATE screenings SET source = json_extract(readings, '$[#-1].source'), "
               "mask_state = json_extract(mask, '$.state')")


def downgrade() -> None:
    with op.batch_alter_table("screenings") as batch:
        batch.drop_column("mask_state")
        batch.drop_column("source")
