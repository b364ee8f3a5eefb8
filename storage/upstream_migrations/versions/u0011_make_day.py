"""Upstream: a station's insert-only role may have a missing day partition made, without the right to create tables.

``gate_make_day(day)`` (PostgreSQL) does what storage.partitions.create does, as the database's owner (SECURITY
DEFINER, its search_path fixed to pg_catalog and every name qualified): under the same advisory lock, it makes the
day's partition, moving that day's rows out of the default partition first, and closes it to direct reads
(row-level security, no policy). Only days from 400 before today to 31 after are made (a station whose clock is
years off must not fill the catalogue with tables); another day returns false and its rows wait in the default
partition for `gate upstream maintain`, as does a day whose table exists but was detached by retention. Nobody may
call it until the owner grants EXECUTE (README). Frozen: restates the function.

Revision ID: u0011
Revises: u0010
"""
from alembic import op

revision = "u0011"
down_revision = "u0010"
branch_labels = None
depends_on = None

MAKE_DAY = r"""
CREATE FUNCTION gate_make_day(d date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
    IF EXISTS (SELECT 1 FROM public.screenings_default WHERE day = d) THEN
        EXECUTE format('CREATE TABLE public.%I (LIKE public.screenings INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                       name);
        EXECUTE format('WITH moved AS (DELETE FROM public.screenings_default WHERE day = %L RETURNING *) '
                       'INSERT INTO public.%I SELECT * FROM moved', d, name);
        EXECUTE format('ALTER TABLE public.screenings ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)',
                       name, d, d + 1);
    ELSE
        EXECUTE format('CREATE TABLE public.%I PARTITION OF public.screenings FOR VALUES FROM (%L) TO (%L)',
                       name, d, d + 1);
    END IF;
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', name);
    RETURN true;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # an SQLite upstream has no partitions
    op.execute(MAKE_DAY)
    op.execute("REVOKE ALL ON FUNCTION gate_make_day(date) FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION gate_make_day(date)")
