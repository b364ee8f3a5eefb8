"""The follow-up cases of the school's other gates (their opens and closes), pulled from the upstream by every sync.

A chained table like ``school_records`` (keyed under the station key, its end sealed): a pulled case event edited,
slipped in or cut out of the file is named by `gate verify`, and the case list trusts the chain only up to it
(storage.pulled_cases).

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import context, op

from storage.chain import GENESIS
from storage.seals import ChainSeal

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "school_cases",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(160), unique=True, nullable=False),
        sa.Column("origin", sa.String(64), nullable=False),
        sa.Column("origin_seq", sa.Integer, nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("entrant_id", sa.String(64), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("pulled_at", sa.Float, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_school_cases_case_id", "school_cases", ["case_id"])
    key = context.config.attributes.get("station_key")
    if key is not None:  # sealed empty from the start: a row slipped in or cut off later shows
        ChainSeal(key).reset(op.get_bind(), "school_cases", table, GENESIS)


def downgrade() -> None:
    op.drop_table("school_cases")
