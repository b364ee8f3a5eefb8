"""Upstream: the server stamps when a gate last synced (issue 16, G2).

``stations.last_sync_at`` is the time the station's sync claims, by the station's clock, and a station role may
UPDATE it (its sync keeps it): whoever had a station's password could write any plausible time (an earlier one, or
one up to the readers' ten minutes of clock skew ahead) and the bureau, the school's report and the other gates
believed the gate had synced after a check ended. ``synced_at`` is stamped by a trigger no station role can bypass
(it owns neither the table nor the trigger; the column cannot be set past it): a station role's write of the
registry's bookkeeping (``last_sync_at``, ``last_seq``) stamps the server's clock, whatever time it claims; the
owner's own sessions (an owner-run sync, the owner's tools, who may write any column anyway) keep the time they
give. Every reader's late / provisional rule reads ``synced_at`` (still not believed past the reader's clock + skew,
storage.provisional); ``last_sync_at`` is the station's claim, kept beside it. On SQLite (a single school's file, no
roles) the sync writes ``synced_at`` itself.

Revision ID: u0018
Revises: u0017
"""
import sqlalchemy as sa
from alembic import op

revision = "u0018"
down_revision = "u0017"
branch_labels = None
depends_on = None

STAMP = """
CREATE FUNCTION gate_stamp_sync() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    server double precision := extract(epoch FROM clock_timestamp());
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.last_sync_at IS NOT DISTINCT FROM OLD.last_sync_at
            AND NEW.last_seq IS NOT DISTINCT FROM OLD.last_seq THEN
        NEW.synced_at := OLD.synced_at;  -- no sync's bookkeeping moved: the stamp neither
    ELSIF NEW.last_sync_at IS NULL THEN
        NEW.synced_at := NULL;  -- registered, never synced
    ELSIF pg_has_role(current_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID), 'MEMBER') THEN
        NEW.synced_at := NEW.last_sync_at;  -- the owner's session (may write anything anyway): its clock
    ELSE
        NEW.synced_at := server;  -- a station role: the server's clock, whatever it claims
    END IF;
    RETURN NEW;
END $$
"""


TRIGGER = ("CREATE TRIGGER gate_stamp_sync BEFORE INSERT OR UPDATE ON stations "
           "FOR EACH ROW EXECUTE FUNCTION gate_stamp_sync()")
UNDO = ("DROP TRIGGER IF EXISTS gate_stamp_sync ON stations", "DROP FUNCTION IF EXISTS gate_stamp_sync()")


def upgrade() -> None:
    op.add_column("stations", sa.Column("synced_at", sa.Float))
    op.execute("UPDATE stations SET synced_at = last_sync_at")  # what was claimed before (the readers' skew rule)
    # SQLite: no roles, and the sync writes synced_at itself (storage.stations)
    for sql in (STAMP, "REVOKE ALL ON FUNCTION gate_stamp_sync() FROM PUBLIC", TRIGGER) * _on_postgresql():
        op.execute(sql)


def downgrade() -> None:
    for sql in UNDO * _on_postgresql():
        op.execute(sql)
    op.drop_column("stations", "synced_at")


def _on_postgresql() -> int:
    return int(op.get_bind().dialect.name == "postgresql")
