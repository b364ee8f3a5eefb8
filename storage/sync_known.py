"""Which upstream databases this log has synced with: a first sync to any other one needs an admin (gate.cli.sync)."""
from __future__ import annotations

from sqlalchemy import select

from storage.tables.sync import SYNC_STATE as STATE

FIRST_SYNC = "first sync waits for an admin"  # how the refusal's line starts (noted for `gate sync status`)


def known(log, key: str, identity: str | None) -> bool:
    """True if this log has sent records to the upstream database ``identity`` (under any URL). A checkpoint that
    sent nothing does not count: `gate purge` and `gate sync status` read an upstream and record its identity without
    a sign-in. A checkpoint older than identities (none recorded) vouches for its own URL (``key``) only."""
    with log.read("the sync checkpoints") as conn:
        return _known(conn, key, identity)


def _known(conn, key: str, identity: str | None) -> bool:
    if identity is not None and conn.execute(select(STATE.c.upstream).where(STATE.c.identity == identity,
                                                                            STATE.c.last_seq > 0)).first():
        return True
    return bool(conn.execute(select(STATE.c.upstream).where(STATE.c.upstream == key, STATE.c.identity.is_(None),
                                                            STATE.c.last_seq > 0)).first())
