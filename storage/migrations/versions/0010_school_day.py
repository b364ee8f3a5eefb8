"""The school day: each screening's session, a teacher's classes, follow-up cases and the sessions closed out.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: SQLite adds it in place, a log of millions of screenings is not copied.
    op.add_column("screenings", sa.Column("session", sa.String(64)))
    op.create_index("ix_screenings_day_session", "screenings", ["day", "session"])
    op.add_column("users", sa.Column("classes", sa.Text, nullable=False, server_default=""))
    op.create_table(
        "cases",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), unique=True, nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("event", sa.String(8), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("entrant_id", sa.String(64), nullable=False),
        sa.Column("class_name", sa.String(64), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("session", sa.String(64)),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("screening_id", sa.String(36)),
        sa.Column("outcome", sa.String(16)),
        sa.Column("symptoms", sa.Text, nullable=False, server_default="[]"),
        sa.Column("onset", sa.String(10)),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False, server_default=""),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_cases_case", "cases", ["case_id"])
    op.create_index("ix_cases_entrant", "cases", ["entrant_id"])
    op.create_table(
        "session_closures",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("session", sa.String(64), primary_key=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("cases", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("session_closures")
    op.drop_table("cases")
    with op.batch_alter_table("users") as b:
        b.drop_column("classes")
    op.drop_index("ix_screenings_day_session", "screenings")
    with op.batch_alter_table("screenings") as b:
        b.drop_column("session")
