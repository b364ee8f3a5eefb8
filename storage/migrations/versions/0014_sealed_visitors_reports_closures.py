"""Approved visitors, daily reports and closed-out sessions MAC'd and sealed under the station key (storage.seals):
a visitor, a report's content or a session closure written into the file by hand is named by `gate verify` and not
trusted (the gate, the sync, the case opening).

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import context, op

from storage.seals import reseal_table

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = ("visitors", "daily_reports", "session_closures")


def upgrade() -> None:
    key = context.config.attributes.get("station_key")
    if key is None:
        raise RuntimeError("this migration needs the station key: run it through storage.migrate.upgrade(engine, key)")
    # Visitors and closures keep their MACs in the seals table (storage.seals.SIDE); a report carries its own.
    with op.batch_alter_table("daily_reports") as batch:
        batch.add_column(sa.Column("mac", sa.String(64), nullable=True))
    conn = op.get_bind()
    for table in TABLES:  # the rows as they stand when the station first seals them
        reseal_table(conn, key, table, trust_all=True)


def downgrade() -> None:
    conn = op.get_bind()
    for table in TABLES:
        conn.exec_driver_sql("DELETE FROM seals WHERE name = ? OR name LIKE ?", (f"table:{table}", f"row:{table}:%"))
    with op.batch_alter_table("daily_reports") as batch:
        batch.drop_column("mac")
