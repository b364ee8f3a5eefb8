"""Upstream: a station role bound to its gate moves only its own gate's registry row (``stations``).

u0013 bound a role to its gate for INSERT. The README's grants also let a station role UPDATE ``last_sync_at`` and
``last_seq`` in ``stations`` (its sync keeps them), and u0010's policy let it do so on any gate of its school: whoever
had the north gate's password could set the south gate's ``last_sync_at`` (the bureau then counts south as reported,
and the other gates believe south has sent everything) or its ``last_seq`` (south's next screenings taken for re-sends
and looked up across days). A restrictive policy for UPDATE now keeps such a role to its own gate's row; another
gate's row is not seen by its UPDATE (0 rows). A role left unbound (NULL: shared by a school's gates) is unchanged.
Frozen: restates the schema.

Revision ID: u0015
Revises: u0014
"""
from alembic import op

revision = "u0015"
down_revision = "u0014"
branch_labels = None
depends_on = None

# as u0013's, uncorrelated: the role's gate is worked out once per statement
OWN_GATE = ("(station_id IN (SELECT r.station_id FROM gate_role_schools r WHERE r.role_name = current_user) "
            "OR NOT EXISTS (SELECT 1 FROM gate_role_schools r WHERE r.role_name = current_user "
            "AND r.station_id IS NOT NULL))")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE POLICY gate_own_station_row ON stations AS RESTRICTIVE FOR UPDATE USING {OWN_GATE} "
                   f"WITH CHECK {OWN_GATE}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS gate_own_station_row ON stations")
