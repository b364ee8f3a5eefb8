"""Each screening's entrant id with case folded (entrant_key), indexed: P42, p42 and Ｐ４２ are one person.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

from domain.identifiers import id_key

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (in place), then one UPDATE per distinct id: a school's ids, not its millions of rows.
    op.add_column("screenings", sa.Column("entrant_key", sa.String(64)))
    conn = op.get_bind()
    ids = conn.exec_driver_sql("SELECT DISTINCT entrant_id FROM screenings WHERE entrant_id IS NOT NULL").scalars()
    for entrant in list(ids):
        conn.exec_driver_sql("UPDATE screenings SET entrant_key = ? WHERE entrant_id = ?", (id_key(entrant), entrant))
    op.create_index("ix_screenings_entrant_key", "screenings", ["entrant_key"])


def downgrade() -> None:
    op.drop_index("ix_screenings_entrant_key", "screenings")
    with op.batch_alter_table("screenings") as b:
        b.drop_column("entrant_key")
