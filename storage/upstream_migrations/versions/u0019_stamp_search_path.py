"""Upstream: the sync stamp's trigger looks up the table's owner in pg_catalog only (issue 16, G2; hole a16d H1).

u0018's ``gate_stamp_sync()`` ran with ``search_path = pg_catalog``; PostgreSQL then still searches the session's
temporary schema FIRST for tables, so a station role (which may create temporary tables) made its own
``pg_temp.pg_class`` saying it owned ``stations``, was taken for the owner, and its forged ``last_sync_at`` became the
"server's" stamp. The function is replaced with ``pg_temp`` searched last and the catalogue named in full, as the
SECURITY DEFINER functions (u0011, u0012, u0016) already are.

Revision ID: u0019
Revises: u0018
"""
from alembic import op

revision = "u0019"
down_revision = "u0018"
branch_labels = None
depends_on = None

STAMP = """
CREATE OR REPLACE FUNCTION gate_stamp_sync() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    server double precision := extract(epoch FROM pg_catalog.clock_timestamp());
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.last_sync_at IS NOT DISTINCT FROM OLD.last_sync_at
            AND NEW.last_seq IS NOT DISTINCT FROM OLD.last_seq THEN
        NEW.synced_at := OLD.synced_at;  -- no sync's bookkeeping moved: the stamp neither
    ELSIF NEW.last_sync_at IS NULL THEN
        NEW.synced_at := NULL;  -- registered, never synced
    ELSIF pg_catalog.pg_has_role(current_user,
            (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID), 'MEMBER') THEN
        NEW.synced_at := NEW.last_sync_at;  -- the owner's session (may write anything anyway): its clock
    ELSE
        NEW.synced_at := server;  -- a station role: the server's clock, whatever it claims
    END IF;
    RETURN NEW;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(STAMP)


def downgrade() -> None:
    pass  # u0018's function had the hole; the safe one is kept (its behaviour for every honest write is the same)
