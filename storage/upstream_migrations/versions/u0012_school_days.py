"""Upstream: a per-school daily rollup of screenings for the bureau at province scale (PostgreSQL).

``school_days`` holds, for each school and day, what `gate bureau daily` and the 7-day trend count from screenings:
screened (first screenings, not retests), confirmed fevers, no-mask refusals. A statement trigger on ``screenings``
adds each statement's inserted rows to it (a transition table: only rows really inserted, so a re-sent batch under
ON CONFLICT DO NOTHING adds nothing; COPY fires it too), in the same transaction as the rows: the rollup never
disagrees with what was committed. The trigger's function runs as the owner (a station's role may not write the
rollup itself). Rows moved between partitions by maintenance are inserted into a partition, not through
``screenings``, so they are not counted twice. Existing rows are counted once here. A role reads its schools' rows
only (u0010) and writes none: a station's role, granted INSERT on every table, still cannot forge its school's
figures. Frozen: restates the schema.

Revision ID: u0012
Revises: u0011
"""
import sqlalchemy as sa
from alembic import op

revision = "u0012"
down_revision = "u0011"
branch_labels = None
depends_on = None

FIGURES = """sum(CASE WHEN follows IS NULL THEN 1 ELSE 0 END),
             sum(CASE WHEN reasons LIKE '%"fever-confirmed"%' THEN 1 ELSE 0 END),
             sum(CASE WHEN decision = 'deny' AND reasons LIKE '%"no-mask"%' THEN 1 ELSE 0 END)"""
ROLL_UP = f"""
CREATE FUNCTION gate_roll_up() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO public.school_days AS d (school_id, day, screened, confirmed_fevers, no_mask_refusals)
    SELECT school_id, day, {FIGURES} FROM new_rows GROUP BY school_id, day
    ON CONFLICT (school_id, day) DO UPDATE SET screened = d.screened + EXCLUDED.screened,
        confirmed_fevers = d.confirmed_fevers + EXCLUDED.confirmed_fevers,
        no_mask_refusals = d.no_mask_refusals + EXCLUDED.no_mask_refusals;
    RETURN NULL;
END
$$
"""
MINE = ("(school_id IN (SELECT r.school_id FROM gate_role_schools r WHERE r.role_name = current_user) "
        "OR EXISTS (SELECT 1 FROM gate_role_schools r WHERE r.role_name = current_user AND r.school_id = '*'))")


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "school_days",
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date() if pg else sa.String(10), nullable=False),
        sa.Column("screened", sa.BigInteger, nullable=False),
        sa.Column("confirmed_fevers", sa.BigInteger, nullable=False),
        sa.Column("no_mask_refusals", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("school_id", "day", name="pk_up_school_days"),
    )
    if not pg:
        return  # an SQLite upstream is a school's or a test's: the bureau counts its screenings directly
    op.execute(f"INSERT INTO school_days (school_id, day, screened, confirmed_fevers, no_mask_refusals) "
               f"SELECT school_id, day, {FIGURES} FROM screenings GROUP BY school_id, day")
    op.execute(ROLL_UP)
    op.execute("REVOKE ALL ON FUNCTION gate_roll_up() FROM PUBLIC")
    op.execute("CREATE TRIGGER gate_roll_up AFTER INSERT ON screenings REFERENCING NEW TABLE AS new_rows "
               "FOR EACH STATEMENT EXECUTE FUNCTION gate_roll_up()")
    op.execute("ALTER TABLE school_days ENABLE ROW LEVEL SECURITY")
    # read only, each role its schools: no policy lets a role write a row (the trigger writes as the owner)
    op.execute(f"CREATE POLICY gate_own_school ON school_days FOR SELECT USING {MINE}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER gate_roll_up ON screenings")
        op.execute("DROP FUNCTION gate_roll_up()")
    op.drop_table("school_days")
