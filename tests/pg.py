"""A throwaway PostgreSQL 15 server for tests and benchmarks: initdb as the postgres user, a free port on 127.0.0.1,
a socket in its own folder; stop(immediate) simulates a crash. ``create_db`` makes a new, empty database each call,
so many tests share one server without seeing each other's rows."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from tests.support import wait_until

BIN = Path(os.environ.get("GATE_PG_BIN", "/usr/lib/postgresql/15/bin"))


def unavailable_reason() -> str | None:
    if not (BIN / "initdb").exists():
        return f"no PostgreSQL server binaries under {BIN}"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run initdb as"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, fsync: bool = False):
        self.root = Path(tempfile.mkdtemp(prefix="gate-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.fsync = fsync
        self.running = False
        self._made: set[str] = set()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *cmd: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, *cmd], capture_output=True, text=True, check=check, timeout=timeout,
                              cwd=self.root)

    def init(self) -> "PostgresServer":
        self._run(str(BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--locale=C")
        return self.start()

    def start(self) -> "PostgresServer":
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync={'on' if self.fsync else 'off'}"
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-o", opts, "-w", "start")
        self.running = True
        return self

    def stop(self, mode: str = "fast") -> None:
        self.running = False
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def create_db(self, name: str, migrated: bool = False) -> str:
        """A new empty database named ``name`` (``name_2``, ``name_3`` … when that name was made before on this
        server, so tests sharing the server never share a database); returns its URL. ``migrated``: with the
        upstream's schema already made, copied from a database migrated once per server (for tests about what the
        stations do upstream, not about its migrations), under its own new identity as a new database has."""
        import psycopg  # the upstream's driver: only where a database is made

        n = 1
        while (f"{name}_{n}" if n > 1 else name) in self._made:
            n += 1
        name = f"{name}_{n}" if n > 1 else name
        template = self._migrated_template() if migrated else "template1"
        self._made.add(name)
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'create database "{name}" template "{template}"')
        if migrated:
            with psycopg.connect(self.url(name), autocommit=True) as conn:
                conn.execute("update gate_upstream_identity set id = gen_random_uuid()::text, "
                             "created_at = extract(epoch from now())")
        return self.url(name)

    def saved(self, url: str) -> str:
        """A copy of the database at ``url`` as it is now (nobody may be connected to it): what ``restored`` puts
        back. For a module whose tests all start from one upstream its fixture filled once."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        copy = f"{name}_saved"
        self._made.add(copy)
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'create database "{copy}" template "{name}"')
        return copy

    def restored(self, url: str, copy: str) -> str:
        """The database at ``url`` again as ``saved`` copied it, at the same URL (a station's sync state is kept by
        its upstream's URL and identity: both stay the same); whoever was still connected to it is cut off."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'drop database "{name}" with (force)')
            conn.execute(f'create database "{name}" template "{copy}"')
        return url

    def _migrated_template(self) -> str:
        name = "gate_migrated_template"
        if name not in self._made:
            from storage import upstream

            url = self.create_db(name)
            engine = upstream.make_upstream_engine(url)
            try:
                upstream.upgrade(engine)
            finally:
                engine.dispose()  # a template copies only while nobody is connected to it
        return name

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def wait_ready(self, seconds: float = 20) -> None:
        ready = lambda: self._run(  # noqa: E731
            str(BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), check=False).returncode == 0
        if not wait_until(ready, seconds, interval=0.1):
            raise TimeoutError("PostgreSQL did not become ready")

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def drain_and_compare(syncs, threads, stop, logs, url: str, seconds: float = 60) -> int:
    """Let the stations' syncs finish, stop them, and check that the upstream holds exactly the union of the stations'
    screenings, each once, and that every station's chain head matches. Returns how many there were."""
    from sqlalchemy import create_engine, text

    from storage.upstream import normalise_url

    wait_until(lambda: not any(s.pending() for s in syncs), seconds, interval=0.2)  # the comparison says what is left
    stop.set()
    for th in threads:
        th.join(10)
    local = set().union(*(log.ids() for log in logs))
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        remote = [r[0] for r in conn.execute(text("select id from screenings"))]
    engine.dispose()
    assert len(remote) == len(set(remote)) == len(local) and set(remote) == local
    for s, log in zip(syncs, logs):
        assert s.verify()["ok"]
        s.close()
        log.close()
    return len(local)
