"""The school's fevers, certificate cases and clearances recorded at the other gates, pulled from the upstream.

A chained table like the log's own chains (keyed under the station key, its end sealed): a pulled fever deleted from
the file is seen by `gate verify`, and the fever memory refuses to screen on it (storage.school_records).

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import context, op

from storage.chain import GENESIS
from storage.seals import ChainSeal

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "school_records",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(160), unique=True, nullable=False),
        sa.Column("origin", sa.String(64), nullable=False),
        sa.Column("origin_seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("entrant_id", sa.String(64), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("pulled_at", sa.Float, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_school_records_entrant_id", "school_records", ["entrant_id"])
    key = context.config.attributes.get("station_key")
    if key is not None:  # sealed empty from the start: a row slipped in or cut off later shows
        ChainSeal(key).reset(op.get_bind(), "school_records", table, GENESIS)


def downgrade() -> None:
    op.drop_table("school_records")
