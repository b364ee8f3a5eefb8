"""Helpers that tests and benches share: paths, the environment for subprocesses, the `gate` command run in this
process, waiting on a condition, and a station log filled fast.

Tests never sleep a fixed time before asserting: they wait until the condition holds (with a generous limit that only
matters when something is broken) and then assert on the outcome, never on how long it took. Timing lives in bench/.
"""
from __future__ import annotations

import atexit
import contextlib
import datetime
import functools
import io
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, TypeVar

from domain import Decision, MaskResult, MaskState, Reading, Screening
from gate.cli import main
from storage import chain
from storage.keys import key_path_for
from storage.log import DERIVED_COLUMNS, HASHED_COLUMNS, ScreeningLog
from storage.records import screening_columns

ROOT = Path(__file__).resolve().parents[1]
GATE = str(Path(sys.executable).with_name("gate"))
T = TypeVar("T")


def env_with_root() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@contextlib.contextmanager
def _process_like(env: dict | None, cwd: str | os.PathLike | None):
    """This process's environment and working folder set as a subprocess would get them, and put back after (with
    the SIGTERM handler a headless loop installs for itself)."""
    saved, here, on_term = dict(os.environ), os.getcwd(), signal.getsignal(signal.SIGTERM)
    try:
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        yield
    finally:
        signal.signal(signal.SIGTERM, on_term)
        os.chdir(here)
        os.environ.clear()
        os.environ.update(saved)


def run_gate(*args, input: str | bytes | None = None, env: dict | None = None, cwd=None, text: bool = True,
             newline: str | None = None, timeout: float | None = None,
             clock: Callable[[], float] | None = None) -> subprocess.CompletedProcess:
    """`gate ARGS` through the real entry point (``gate.cli.main``) in this process, answered like
    ``subprocess.run([... "gate", *args], input=..., capture_output=True, text=text)``: the exit code, what went to
    standard output and standard error (bytes, or text with universal newlines), standard input fed from ``input``
    (empty when None, never the terminal). ``env`` replaces the environment for the call, ``cwd`` the folder.
    ``newline=""`` keeps line endings as written (a CSV's \\r\\n) instead of the universal newlines of text mode.

    A fresh interpreter per call costs about a second of imports; in-process the command does the same work on the
    same files. Tests about the process itself (the installed entry point, what a command imports, a faked clock, a
    kill -9, a second process beside the station) keep using subprocesses. ``timeout`` is accepted for the
    subprocess-shaped signature and not enforced. ``clock``: "now" for the commands that read it (``args.clock``).
    """
    argv = [os.fspath(a) if isinstance(a, os.PathLike) else str(a) for a in args]
    data = input.encode("utf-8") if isinstance(input, str) else (input or b"")
    stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace")
    saved = sys.stdin, sys.stdout, sys.stderr
    with _process_like(env, cwd):
        sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
        try:
            code = main(argv, clock=clock)
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved
    outputs = []
    for stream in (stdout, stderr):
        stream.flush()
        raw = stream.buffer.getvalue()
        outputs.append(io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", newline=newline).read() if text else raw)
    return subprocess.CompletedProcess(["gate", *argv], code, *outputs)


def takes_ctrl_c() -> None:
    """``preexec_fn`` for a child a test sends Ctrl-C (SIGINT): it takes it as at a terminal, even when the test run
    was started in the background (a shell's ``&`` makes its children ignore SIGINT, and Python then never raises
    KeyboardInterrupt: the command would run on as if no one had pressed Ctrl-C)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_until(cond: Callable[[], T], seconds: float = 20.0, interval: float = 0.02) -> T:
    """Call ``cond`` until it returns something truthy and return that; the limit is a safety net, not a claim.

    Returns the last (falsy) value when the limit passes, so the caller's assertion says what was missing.
    """
    deadline = time.monotonic() + seconds
    value = cond()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = cond()
    return value


async def pilot_wait_until(pilot, cond: Callable[[], T], seconds: float = 20.0) -> T:
    """``wait_until`` for a Textual pilot: lets the app process messages between checks."""
    deadline = time.monotonic() + seconds
    value = cond()
    while not value and time.monotonic() < deadline:
        await pilot.pause(0.02)
        value = cond()
    return value


async def pilot_settled(pilot, seconds: float = 20.0) -> bool:
    """Every worker the app started has ended and what they posted is handled: what the keys sent so far could cause
    has happened, so a test may assert that something did NOT happen (a fixed pause would only hope so)."""
    app = pilot.app
    done = await pilot_wait_until(pilot, lambda: all(w.is_finished for w in app.workers), seconds)
    await pilot.pause()
    return done


class Hammer:
    """Calls ``feed`` from a thread of its own every ``every_s`` seconds (the pace of a sensor, not a wait before
    asserting) from ``start()`` until ``stop()``, which returns what it raised: it stops at the first error."""

    def __init__(self, feed: Callable[[], object], every_s: float):
        self.errors: list[BaseException] = []
        self._feed, self._every_s = feed, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            try:
                self._feed()
            except BaseException as exc:  # noqa: BLE001 - the test reports whatever was raised
                self.errors.append(exc)
                return

    def start(self) -> "Hammer":
        self._thread.start()
        return self

    def stop(self) -> list[BaseException]:
        self._stop.set()
        self._thread.join()
        return self.errors


def poll_until(sensor, cond=lambda samples, events: False, seconds: float = 10.0):
    """Poll a Sensor until ``cond(samples, events)`` or the limit; returns everything seen."""
    deadline = time.monotonic() + seconds
    samples, events = [], []
    while time.monotonic() < deadline:
        s, e = sensor.poll(0.05)
        samples += s
        events += e
        if cond(samples, events):
            break
    return samples, events


def measurements_until(sensor, detector, count: int, seconds: float = 20.0) -> list:
    """Feed a sensor's samples through a presence detector until ``count`` people were measured."""
    got: list = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(got) < count:
        for s in sensor.poll(0.05)[0]:
            if (m := detector.feed(s)) is not None:
                got.append(m)
    return got


class Clock:
    """A wall clock that stands still until the test moves it (``clock.advance(600)``): a rest or an idle time
    passes without waiting, and every time the screen shows is known exactly."""

    def __init__(self, now: float | None = None):
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def today_at(hour: int, minute: int = 0, second: int = 0) -> float:
    """HH:MM:SS local time on the machine's today, as read when called: what a test means by "this morning at 07:30"
    (give it to a Clock), so that its day and its check do not depend on the hour, day or zone the suite runs in. A
    module that reads it once keeps that day even when the run crosses midnight."""
    d = datetime.date.today()
    return time.mktime((d.year, d.month, d.day, hour, minute, second, 0, 0, -1))


def fill_log(path: Path, n: int, station_id: str = "bench") -> None:
    """``n`` chained screenings of one station over the last ``n`` seconds, queued for sync, written in one
    transaction (as if a school had used the station for months)."""
    with ScreeningLog(path) as log:  # schema, and the station key the chain is keyed with
        digest = log.key.chain_digest
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")  # a fixture, not a record: nothing to lose if the machine stops
    cols = (*HASHED_COLUMNS, *DERIVED_COLUMNS, "prev_hash", "row_hash")
    sql = f"INSERT INTO screenings ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    prev = chain.GENESIS
    t0 = time.time() - n
    rows, outbox = [], []
    for i in range(n):
        v = 36.0 + (i % 15) / 10
        r = Reading(object_c=v, body_c=v, ambient_c=21.5, source="gun-1", ts=t0 + i)
        decision = Decision.ADMIT if v < 37.3 else Decision.RETEST
        s = Screening(station_id, (r,), MaskResult(MaskState.YES, 0.97, "camera/svm"), decision,
                      ("normal",) if decision is Decision.ADMIT else ("fever-suspected",), "ok", 37.3,
                      entrant_id=f"S{i % 2000:05d}", operator="duty", created_at=t0 + i)
        values, content = screening_columns(s)
        h = chain.link(prev, content, digest)
        rows.append([values[c] for c in (*HASHED_COLUMNS, *DERIVED_COLUMNS)] + [prev, h])
        outbox.append(("screening", s.id, t0 + i))
        prev = h
    con.executemany(sql, rows)
    con.executemany("INSERT INTO outbox (kind, record_id, created_at) VALUES (?, ?, ?)", outbox)
    con.commit()
    con.close()
    with ScreeningLog(path) as log, log.unit("the fixture's seal") as u:  # the rows written by hand, sealed
        log.screening_chain.seal.reset(u.conn, "screenings", log.screening_chain.table, prev)


_TEMPLATES: dict[str, Path] = {}


def edit_by_hand(db: Path, *statements: str) -> None:
    """What a pupil does to the log with the sqlite3 shell: the statements, committed."""
    con = sqlite3.connect(db)
    try:
        for statement in statements:
            con.execute(statement)
        con.commit()
    finally:
        con.close()


def count_rows(db: Path, table: str = "screenings") -> int:
    """Rows in a table of the log, read straight from the file (as an auditor's sqlite3 would)."""
    con = sqlite3.connect(db)
    try:
        return con.execute(f"select count(*) from {table}").fetchone()[0]
    finally:
        con.close()


def log_from_template(path: Path, build: Callable[[Path], object], key: str = "") -> Path:
    """A copy at ``path`` of the log ``build(somewhere)`` makes, built once per test run. Fixtures that add users pay
    for the PIN hashes (scrypt, slow on purpose) once instead of in every test; each test still gets its own file.
    ``build`` must close what it opens; the copy is SQLite's online backup, so it is a consistent log, and the log's
    station key (``<log>.key``, which its chains and PIN hashes need) is copied beside it. ``key`` tells apart the
    logs one ``build`` makes from different arguments (a gate's name, its roster)."""
    key = key or f"{build.__module__}.{build.__qualname__}"
    if key not in _TEMPLATES:
        folder = tempfile.mkdtemp(prefix="gate-template-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        build(Path(folder) / "gate.db")
        _TEMPLATES[key] = Path(folder) / "gate.db"
    copy_log(_TEMPLATES[key], path)
    return path


def filled_log(path: Path, n: int) -> Path:
    """A copy at ``path`` of ``fill_log``'s log of ``n`` screenings, filled once a run (100,000 take seconds)."""
    return log_from_template(path, functools.partial(fill_log, n=n), key=f"fill_log {n}")


def empty_log(path: Path) -> None:
    """A new station log with nothing in it: a ``build`` for log_from_template (its schema made once a run)."""
    ScreeningLog(path).close()


def copy_log(src: Path, dst: Path) -> Path:
    """A copy of the log at ``src`` (SQLite's online backup: consistent even while it is open) with its station key."""
    source, target = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    if key_path_for(src).exists():
        shutil.copy2(key_path_for(src), key_path_for(dst))  # keeps the key file's 0600
    return dst


def relink_screenings(log: ScreeningLog, conn) -> None:
    """Re-link the screening chain under the log's key, and re-seal its end, after a test edited rows on purpose
    (aging them as if written days ago): what the station would have written then."""
    from storage.log import row_content

    c = log.screening_chain
    prev = c.anchor(conn)
    for row in conn.exec_driver_sql("select * from screenings order by seq").mappings().all():
        h = c.link(prev, row_content(row))
        conn.exec_driver_sql("update screenings set prev_hash=?, row_hash=? where seq=?", (prev, h, row["seq"]))
        prev = h
    c.seal.reset(conn, c.name, c.table, prev)


def apply_policy(log: ScreeningLog, config=None, admin: str = "admin") -> None:
    """What an admin does first on a station with users (`gate config apply FILE --user ADMIN`): store the screening
    policy (``config``'s, else the defaults'), so that stations and commands of the duty staff may screen."""
    from gate.config import Config
    from gate.station_policy import enforce

    enforce(config if config is not None else Config(), log, actor=admin, apply=True)


def screen_shown(app, screen_type) -> bool:
    """A screen of this type is on top and built: its widgets can be asked for (pushed is not yet built, and on a
    busy machine the pilot can look in between)."""
    return isinstance(app.screen, screen_type) and app.screen.is_mounted


def screen_text(app) -> str:
    """What the terminal shows now, as lines of text (toasts and the screens behind a modal included): Textual
    offers it only as an SVG screenshot, so this asks the screen's compositor, as the SVG export does."""
    return "\n".join("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())


def typing_goes_to(app, field_id: str) -> bool:
    """The app's keyboard focus is on the field with this id (what a pilot types lands there)."""
    return app.focused is not None and app.focused.id == field_id


def north_of_s7(tmp_path: Path, url: str, *, db_in_config: bool = False) -> tuple[Path, Path]:
    """The station `north` of school s-7 that syncs to `url`: its log's path and its written config."""
    db, cfg = tmp_path / "gate.db", tmp_path / "gate.toml"
    db_line = f'db = "{db}"\n' if db_in_config else ""
    cfg.write_text(f'[station]\nid = "north"\n{db_line}[school]\nid = "s-7"\n[upstream]\nurl = "{url}"\n',
                   encoding="utf-8")
    return db, cfg


def read_or_refused(parse: Callable[[str], T], text: str, error: type[Exception], says: str) -> T | None:
    """What `parse` read from `text`, or None when it refused it with `error` naming `says` (a parser fuzz's shape)."""
    try:
        return parse(text)
    except error as exc:
        assert says in str(exc), exc
        return None


def cli_out(capsys, *argv, clock: Callable[[], float]) -> str:
    """What `gate ARGV` printed, run in this process on `clock` with nothing on standard input; it must succeed."""
    capsys.readouterr()
    sys.stdin = io.StringIO("")
    code = main([str(a) for a in argv], clock=clock)
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def upstream_sql(url: str, sql: str, **params) -> list | None:
    """``sql`` run on an upstream database as the URL's role (the tests' owner, as a rule), in one transaction: the
    rows it returns, or None."""
    from sqlalchemy import create_engine, text  # the upstream's tests only

    from storage.upstream import normalise_url

    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return result.all() if result.returns_rows else None
    finally:
        engine.dispose()


def pg_passfile(monkeypatch, path: Path, line: str) -> Path:
    """A PostgreSQL password file holding ``line`` (host:port:database:role:password), readable by this account only,
    that libpq reads instead of any password in the environment."""
    path.write_text(f"{line}\n")
    path.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(path))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    return path
