"""Upstream: what a station's role may no longer do (attacks a16, round 2).

- ``gate_make_day`` (u0011) made a day with ``CREATE TABLE ... PARTITION OF``: ACCESS EXCLUSIVE on ``screenings``,
  held until the caller's transaction ends; a pupil with one station's password who called it and kept the
  transaction open stopped every school's sync. Now it makes the day's table alone and attaches it (SHARE UPDATE
  EXCLUSIVE on ``screenings``: the other schools' inserts and the bureau's reads go on), and it waits at most 2 s for
  any lock (``lock_timeout``, set for the function only) instead of queueing every school behind its request.
- ``bureau_exports``: only a role listed for every school (``*``, the bureau's) inserts; a station role may no longer
  forge "your records left for an audit" (a restrictive policy; the owner bypasses it).
- ``schools``: a station role fills its school's empty name (the sync's registration) and never changes a name
  there already (a restrictive policy on UPDATE; the owner's `gate upstream school add --replace` is unchanged).

Frozen: restates the function and the policies.

Revision ID: u0016
Revises: u0015
"""
from alembic import op

revision = "u0016"
down_revision = "u0015"
branch_labels = None
depends_on = None

MAKE_DAY = r"""
CREATE OR REPLACE FUNCTION gate_make_day(d date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET lock_timeout = '2s' AS $$
DECLARE
    name text := 'screenings_p' || to_char(d, 'YYYYMMDD');
BEGIN
    IF d IS NULL OR d < current_date - 400 OR d > current_date + 31 THEN
        RETURN false;
    END IF;
    PERFORM pg_advisory_xact_lock(73174);  -- storage.partitions._LOCK: one partition maker at a time
    IF to_regclass('public.' || name) IS NOT NULL THEN
        RETURN false;  -- made already, or detached by retention (then its rows wait in the default partition)
    END IF;
    EXECUTE format('CREATE TABLE public.%I (LIKE public.screenings INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
    EXECUTE format('WITH moved AS (DELETE FROM public.screenings_default WHERE day = %L RETURNING *) '
                   'INSERT INTO public.%I SELECT * FROM moved', d, name);
    EXECUTE format('ALTER TABLE public.screenings ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)',
                   name, d, d + 1);
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', name);
    RETURN true;
END
$$
"""
BUREAU_ONLY = ("(EXISTS (SELECT 1 FROM gate_role_schools r WHERE r.role_name = current_user "
               "AND r.school_id = '*'))")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # an SQLite upstream has no roles
    op.execute(MAKE_DAY)
    op.execute(f"CREATE POLICY gate_bureau_writes ON bureau_exports AS RESTRICTIVE FOR INSERT WITH CHECK {BUREAU_ONLY}")
    op.execute("CREATE POLICY gate_empty_name_only ON schools AS RESTRICTIVE FOR UPDATE "
               "USING (name IS NULL OR name = '') WITH CHECK (true)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS gate_empty_name_only ON schools")
        op.execute("DROP POLICY IF EXISTS gate_bureau_writes ON bureau_exports")
        # gate_make_day stays as made here: u0011's text only took a heavier lock
