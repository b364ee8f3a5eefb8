"""Upstream: a station role may be bound to its one gate (PostgreSQL row-level security on top of u0010's school).

``gate_role_schools.station_id``: the gate a role sends for. When the owner fills it (README: one role per gate), the
role inserts only rows whose ``station_id`` is that gate's, into every table that has one: whoever took the north
gate's password cannot send a close, a screening or a registry row under the south gate's id (a truant's case closed
for the whole school with one INSERT). A restrictive policy: it narrows u0010's school policy, for INSERT only (the
role still reads the school's other gates, which the sync pulls). Left NULL (a role shared by the gates of one
school, as before) nothing changes. Frozen: restates the schema.

Revision ID: u0013
Revises: u0012
"""
import sqlalchemy as sa
from alembic import op

revision = "u0013"
down_revision = "u0012"
branch_labels = None
depends_on = None

STATION_TABLES = ("stations", "screenings", "daily_reports", "audit_events", "calibrations", "clearances", "cases",
                  "roster_versions")
# uncorrelated, as u0010's: the role's gate is worked out once per statement
OWN_GATE = ("(station_id IN (SELECT r.station_id FROM gate_role_schools r WHERE r.role_name = current_user) "
            "OR NOT EXISTS (SELECT 1 FROM gate_role_schools r WHERE r.role_name = current_user "
            "AND r.station_id IS NOT NULL))")


def upgrade() -> None:
    op.add_column("gate_role_schools", sa.Column("station_id", sa.String(64), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in STATION_TABLES:
        op.execute(f"CREATE POLICY gate_own_station ON {table} AS RESTRICTIVE FOR INSERT WITH CHECK {OWN_GATE}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in STATION_TABLES:
            op.execute(f"DROP POLICY IF EXISTS gate_own_station ON {table}")
    op.drop_column("gate_role_schools", "station_id")
