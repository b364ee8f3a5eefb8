"""Upstream: each station's database role sees and writes only its own school's rows (PostgreSQL row-level security).

``gate_role_schools`` says which school a role belongs to (``*``: every school, for the bureau's read-only role); the
database's owner fills it (README). Every table with a ``school_id`` gets one policy: a role sees, inserts and updates
only the rows of its schools; a role not listed sees nothing and sends nothing (closed by default: a station role the
owner forgot is refused in one line, not let in). The owner bypasses the policies. The mapping itself is readable, one
row each, and written by the owner only (no policy lets anyone else insert). A day partition read directly, not through
``screenings``, is refused to everyone but the owner (row-level security on, no policy). Frozen: restates the schema.

Revision ID: u0010
Revises: u0009
"""
import sqlalchemy as sa
from alembic import op

revision = "u0010"
down_revision = "u0009"
branch_labels = None
depends_on = None

SCHOOL_TABLES = ("schools", "stations", "screenings", "daily_reports", "audit_events", "calibrations", "clearances",
                 "cases", "roster_versions", "roster_people", "bureau_exports")
# uncorrelated: PostgreSQL works out the role's schools once per statement, not once per row
MINE = ("(school_id IN (SELECT r.school_id FROM gate_role_schools r WHERE r.role_name = current_user) "
        "OR EXISTS (SELECT 1 FROM gate_role_schools r WHERE r.role_name = current_user AND r.school_id = '*'))")


def upgrade() -> None:
    op.create_table(
        "gate_role_schools",
        sa.Column("role_name", sa.String(64), nullable=False),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("role_name", "school_id", name="pk_up_gate_role_schools"),
    )
    if op.get_bind().dialect.name != "postgresql":
        return  # an SQLite upstream is one file: whoever can open it can read it all
    op.execute("ALTER TABLE gate_role_schools ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY gate_own_mapping ON gate_role_schools FOR SELECT USING (role_name = current_user)")
    for table in SCHOOL_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY gate_own_school ON {table} USING {MINE} WITH CHECK {MINE}")
    partitions = op.get_bind().execute(sa.text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'screenings'::regclass")).scalars().all()
    for name in partitions:
        op.execute(f'ALTER TABLE "{name}" ENABLE ROW LEVEL SECURITY')


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in SCHOOL_TABLES:
            op.execute(f"DROP POLICY IF EXISTS gate_own_school ON {table}")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.drop_table("gate_role_schools")
