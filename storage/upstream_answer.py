"""A bound on how long one use of an upstream connection waits for the server's answer.

libpq has no read timeout. A server that stops answering without refusing (its process frozen, its machine paused
after its kernel took the request, a network cut while a reply was due) leaves a query, and SQLAlchemy's pre-ping of
a pooled connection, waiting with no end: `connect_timeout` bounds only the connecting, `lock_timeout` and
`statement_timeout` are the server's own and a frozen server keeps none of them, and TCP keepalives are answered by
the server's kernel while its process sleeps (they and `tcp_user_timeout` do catch a dead network or machine: see
storage.upstream.tcp_options). So each checkout of a connection arms a timer; when a use outlasts it, the
connection's socket is shut down from the timer's thread, the waiting call fails at once ("the upstream did not
answer within N s"), SQLAlchemy drops that connection, and the next use connects afresh. Works alike over TCP and
a Unix socket. For the bureau's reads (each a few milliseconds; a table held waits at most the lock wait).
"""
from __future__ import annotations

import os
import socket
import threading

from sqlalchemy import Engine, event, exc as sa_exc

ANSWER_MARGIN_S = 10.0  # beyond the lock wait: a read of the bureau's takes milliseconds, a busy server a few s


def for_reads(lock_wait_s: float | None) -> float:
    """The bound for reads that may wait ``lock_wait_s`` for a held table (None: the default lock wait)."""
    from storage.upstream_locks import SYNC_WAIT_S

    return (SYNC_WAIT_S if lock_wait_s is None else lock_wait_s) + ANSWER_MARGIN_S


class NoAnswer(sa_exc.SQLAlchemyError):
    """The upstream did not answer within the bound: the connection was cut, nothing of that use was committed."""


def bound_answers(engine: Engine, seconds: float) -> Engine:
    """Every checkout of ``engine``'s connections waits at most ``seconds`` for the server, its ping included (the
    engine is made without SQLAlchemy's pre-ping: this checkout pings, under the bound). PostgreSQL; returns it."""
    armed: dict[int, threading.Timer] = {}  # id(dbapi connection) -> its timer, while checked out
    cut: set[int] = set()
    lock = threading.Lock()

    def _cut(conn) -> None:  # noqa: ANN001 - psycopg.Connection
        with lock:  # under the lock: a connection disarmed (checked in, closed) is never cut, its fd maybe reused
            if armed.pop(id(conn), None) is None:
                return
            cut.add(id(conn))
            try:
                fd = os.dup(conn.fileno())
            except Exception:  # noqa: BLE001 - closed meanwhile: nothing waits on it
                return
        with socket.socket(fileno=fd) as s:  # shutdown acts on the socket itself: the waiting call wakes to EOF
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _arm(conn) -> None:  # noqa: ANN001
        timer = threading.Timer(seconds, _cut, (conn,))
        timer.daemon = True
        with lock:
            old = armed.pop(id(conn), None)
            armed[id(conn)] = timer
            cut.discard(id(conn))
        if old is not None:
            old.cancel()
        timer.start()

    def _disarm(conn, *_) -> None:  # noqa: ANN001
        if conn is None:
            return
        with lock:
            timer = armed.pop(id(conn), None)
        if timer is not None:
            timer.cancel()

    def _said() -> str:
        return f"the upstream did not answer within {seconds:g} s (its server frozen or the network cut?): " \
               "connection dropped, the next read connects again"

    @event.listens_for(engine, "connect")
    def _connect(conn, _record) -> None:  # noqa: ANN001 - a new connection's own set-up (the reader's SET) too
        _arm(conn)

    @event.listens_for(engine, "checkout")
    def _checkout(conn, _record, _proxy) -> None:  # noqa: ANN001
        _arm(conn)
        try:  # SQLAlchemy's pre-ping, under the bound
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
            conn.rollback()
        except Exception as e:  # noqa: BLE001
            if id(conn) in cut:  # the pool drops this connection (the checkout failed)
                raise NoAnswer(_said()) from None
            raise sa_exc.DisconnectionError(str(e)) from None  # a dropped connection: the pool connects again

    @event.listens_for(engine, "handle_error")
    def _handle(ctx):  # noqa: ANN001, ANN202 - a query cut: said as such, the connection dropped
        try:
            conn = ctx.connection.connection.dbapi_connection
        except Exception:  # noqa: BLE001 - no connection behind the error: not one of ours
            return None
        if conn is None or id(conn) not in cut:
            return None
        ctx.is_disconnect = True
        return NoAnswer(_said())

    for name in ("checkin", "invalidate", "close", "close_detached"):
        event.listen(engine.pool, name, _disarm)
    return engine
