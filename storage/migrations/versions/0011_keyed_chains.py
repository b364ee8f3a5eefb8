"""Keyed, complete tamper evidence: the chains (screenings, audit, clearances, follow-up cases) become HMAC-SHA256 under the station key, their ends are sealed, and
users, roster, calibrations and the stored policy get a MAC per row and a seal per table (storage.seals).

Each chain is verified as it stands (plain SHA-256) first; a chain that does not verify is not re-keyed (that would
make a forgery provable): the upgrade stops, naming the first bad row, and nothing is changed. The rows of the other
tables are MAC'd as they are found: the upgrade trusts them, as the station always did. When there was anything to
re-key, one audit event `chains-keyed` records each chain's old and new head (so upstream can match them).

Revision ID: 0011
Revises: 0010
"""
import time
import uuid

import sqlalchemy as sa
from alembic import context, op

from storage.chain import Chain, sha256
from storage.verify_result import VerifyResult
from storage.errors import StorageError
from storage.models import AUDIT_EVENTS, CASES, CLEARANCES, SCREENINGS
from storage.cases import case_content
from storage.records import audit_content, audit_values, clearance_content, derived_disagree, row_content
from storage.seals import ChainSeal, reseal_table

# The tables this revision sealed (later revisions seal more: 0014)
FIRST_SEALED = ("users", "entrants", "calibrations", "station_policy")

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

CHAINS = (("screenings", SCREENINGS, row_content, derived_disagree, "screening"),
          ("audit", AUDIT_EVENTS, audit_content, None, "audit event"),
          ("clearances", CLEARANCES, clearance_content, None, "clearance"),
          ("cases", CASES, case_content, None, "case event"))


def _rechain(conn, old: Chain, new: Chain) -> tuple[int, str]:
    prev, n = new.anchor(conn), 0
    for row in conn.execute(sa.select(old.table).order_by(old.table.c.seq)).mappings().all():
        h = new.link(prev, old.content(row))
        conn.execute(old.table.update().where(old.table.c.seq == row["seq"]).values(prev_hash=prev, row_hash=h))
        prev, n = h, n + 1
    return n, prev


def upgrade() -> None:
    key = context.config.attributes.get("station_key")
    if key is None:
        raise RuntimeError("this migration needs the station key: run it through storage.migrate.upgrade(engine, key)")
    for table in FIRST_SEALED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("mac", sa.String(64), nullable=True))
    conn = op.get_bind()
    seal = ChainSeal(key)
    heads, rows = {}, 0
    for name, model, content, check, what in CHAINS:
        # The table as it stands at this revision: a column a later revision adds (entrant_key, 0013) is not there yet.
        table = sa.Table(model.name, sa.MetaData(), autoload_with=conn)
        old = Chain(name, table, content, digest=sha256, check=check, what=what)
        result: VerifyResult = old.verify(conn)
        if not result.ok:
            raise StorageError(
                f"the {name} chain of this log does not verify at row {result.bad_seq} ({what} {result.bad_id}): "
                f"{result.detail}; it is not re-keyed under the station key (that would make the change provable). "
                "Restore the log from a backup made before the change (nothing was upgraded)")
        new = Chain(name, table, content, digest=key.chain_digest, check=check, what=what)
        n, head = _rechain(conn, old, new)
        seal.reset(conn, name, table, head)
        heads[name] = {"rows": n, "sha256_head": result.head, "hmac_head": head}
        rows += n
    for table in FIRST_SEALED:
        reseal_table(conn, key, table, trust_all=True)
    if rows:
        audit = AUDIT_EVENTS
        station = conn.execute(sa.select(audit.c.station_id).order_by(audit.c.seq.desc()).limit(1)).scalar() \
            or conn.execute(sa.select(SCREENINGS.c.station_id).order_by(SCREENINGS.c.seq.desc()).limit(1)).scalar() \
            or "?"
        values = audit_values(station, "(upgrade)", "chains-keyed",
                              {"key": key.fingerprint, "chains": heads}, event_id=str(uuid.uuid4()), at=time.time())
        chain = Chain("audit", audit, audit_content, digest=key.chain_digest, what="audit event", seal=seal)
        chain.append(conn, values, audit_content(values))
        conn.execute(sa.text("INSERT INTO outbox (kind, record_id, created_at) VALUES ('audit', :id, :at)"),
                     {"id": values["id"], "at": time.time()})


def downgrade() -> None:
    raise NotImplementedError("keyed chains cannot be turned back into plain SHA-256: restore a backup instead")
