"""Each chained row a sync sends is re-hashed against its stored hash and link (storage.sync_unverified); this module
makes that check cheap and lets a helper process do it while the batch before goes upstream.

- ``canonical_text``: the text the chain digests for a stored row (``prev_hash + "\\n" + canonical(content)``, as
  storage.chain.link writes it), built from the row tuple field by field with the same C functions the chain's JSON
  encoder calls, so it is byte-identical; nothing is believed from it but a hash that matches.
- ``RowCheckHelper``: a child process (this file run as a script: the standard library and msgspec, no project
  import) that gets the batch read ahead, exactly as it will be sent, with the chain key over a pipe, and answers
  which rows did not match. Hashing holds Python's lock: in another process it runs beside the sending thread's COPY instead of taking
  turns with it. Any trouble with the helper (it cannot start, dies, answers garbage or late) and the caller checks
  the batch itself: a row is never sent unchecked.
"""
from __future__ import annotations

import gc
import hashlib
import hmac
import json
import marshal
import math
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from json.encoder import encode_basestring
import math

if __name__ == "__main__":  # a helper (standard library only): its parent names the folder msgspec is in
    sys.path.extend(sys.argv[1:])

# storage.chain.canonical's settings, one encoder made once (json.dumps with settings makes one per call)
CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
# Every other way the station has ever written a JSON column (storage.records): a screening's columns before they
# were stored canonically (keys in the order written), an audit event's detail (sorted, with spaces).
_WRITTEN_ALSO = (json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode,
                 json.JSONEncoder(sort_keys=True, ensure_ascii=False, allow_nan=False).encode)


def as_written(text: str) -> str:
    """The canonical text of a stored JSON column's value, if the stored text is one the station writes for that
    value; else ValueError. A pupil's \\u escape, spaces, duplicate key or longer spelling of a number keeps the value
    Python parses (so its hash) but not the text, and the upstream reads the text as it is (its rollups match
    '"fever-confirmed"' in it): such a row is not believed, here or in `gate verify`."""
    canonical = CANONICAL(value := json.loads(text))
    if canonical != text and all(write(value) != text for write in _WRITTEN_ALSO):
        raise ValueError("its JSON text is not as the station writes it: changed outside the station")
    return canonical


_MEMO = 4096  # distinct JSON texts remembered per column and builder (a batch's reasons and masks repeat)
_FRAME = struct.Struct("!Q")
# Version 2 writes no back-references: later ones look every value up in a table when it is also held elsewhere (as
# each value is, by the rows the sync read it into), about three times the cost of writing it out.
_MARSHAL = 2
FROM_ROWS = 1_000  # a smaller batch is checked by the caller: starting processes would cost more than it saves
try:  # in C, several times faster than json.loads; the helper finds it on the path its parent gives it (serve).
    # Decoded as msgspec.Raw, the text is only walked by the JSON grammar, no object made (4x cheaper): what the
    # splice needs is that it is one complete JSON value, not the value itself.
    from msgspec import Raw as _Raw
    from msgspec.json import Decoder as _Decoder
    _one_value = _Decoder(_Raw).decode
except ImportError:  # e.g. a helper started without the path: the same refusals, slower
    _one_value = json.loads
# Where a helper finds msgspec (it runs isolated, -I -S): the folder the parent imported it from
_HOME = [os.path.dirname(os.path.dirname(sys.modules["msgspec"].__file__))] if "msgspec" in sys.modules else []


def _finite(v: float) -> str:
    if not math.isfinite(v):
        raise ValueError("NaN or infinity: not JSON")  # as the chain's allow_nan=False: never hashed so
    return float.__repr__(v)


# A column value's JSON text exactly as the chain's encoder writes it (the same C functions it calls), by exact type;
# any other type (a blob edited into the file) raises, and the caller looks at the row the slow way.
_PLAIN = {str: encode_basestring, float: _finite, int: int.__repr__, type(None): lambda _v: "null"}
# The spliced path's: a float as its repr straight away. NaN or infinity then reads 'nan', 'inf' or '-inf' where a
# value begins, which no canonical text has there (its value would begin '"', '[', '{', a digit, '-' and a digit,
# 't', 'f' or "null"): the text cannot be one the chain digests, its hash cannot match.
_SPLICED = {**_PLAIN, float: float.__repr__}


def canonical_text(hashed: tuple, as_json: tuple, optional: tuple, names: tuple, spliced: bool = False):
    """``row tuple -> prev_hash + "\\n" + canonical(content)`` for rows whose columns are ``names``; the content is
    the ``hashed`` columns, ``as_json`` ones as their parsed JSON, ``optional`` ones only when set (storage.records,
    storage.cases). Each JSON column is written as the canonical text of its parsed value, remembered per distinct
    text (a pure function of it). Raises ValueError/TypeError/KeyError where the chain's content or encoder would.

    ``spliced``: each JSON column's stored text is put in as it is, once a strict parser takes it whole (one complete
    JSON value: msgspec's, in C, which refuses all json.loads refuses and more: NaN, a lone surrogate), not
    re-encoded: the station writes these columns canonically (storage.records), so for its own rows
    this is the same text, for about half the work. For any other stored text it is a text the chain never digests
    (its hash cannot match) unless it is that same text: every part is then one complete JSON value after its key, so
    a text equal to a canonical one splits into the same members, each column equal to its canonical text (a pupil
    cannot move text across a column's edge, e.g. a session dropped from its column into the end of ``reasons``)."""
    at = {n: i for i, n in enumerate(names)}
    prev_at, plain = at["prev_hash"], _SPLICED if spliced else _PLAIN
    layouts: dict[tuple, tuple] = {}
    memo: dict[str, dict] = {n: {} for n in as_json}

    def layout(present: tuple) -> tuple:
        keys = sorted((*hashed, *(n for n, here in zip(optional, present) if here)))
        # each key with the comma before it (none before the first): the parts are then joined with nothing
        return tuple(("," * bool(n) + encode_basestring(k) + ":", at[k], memo.get(k)) for n, k in enumerate(keys))

    def text(row: tuple) -> str:
        present = tuple(row[at[n]] is not None for n in optional)
        fields = layouts.get(present) or layouts.setdefault(present, layout(present))
        parts = [row[prev_at], "\n{"]
        add = parts.append
        for prefix, i, seen in fields:
            v = row[i]
            add(prefix)
            if seen is None:
                add(plain[type(v)](v))
                continue
            done = seen.get(v)
            if done is None:
                if spliced:
                    if type(v) is not str:
                        raise TypeError("not a JSON text")
                    try:
                        _one_value(v)  # one complete JSON value, or ValueError (see above)
                    except RecursionError:  # nested deeper than the station ever writes: not believed
                        raise ValueError("a JSON text nested too deep") from None
                    done = v
                else:
                    done = as_written(v)
                if len(seen) < _MEMO:
                    seen[v] = done
            add(done)
        add("}")
        return "".join(parts)

    return text


def digest_for(key: bytes | None):
    """The chain's digest: HMAC-SHA256 under the chain key (storage.keys), or plain SHA-256 for an unkeyed log."""
    if key is None:
        return lambda message: hashlib.sha256(message).hexdigest()
    keyed = hmac.new(key, digestmod="sha256")  # the key's pads hashed once; each row's HMAC starts from a copy
    # OpenSSL's own HMAC object under it when there is one: its copy is one C call, hmac.HMAC's several in Python
    keyed = getattr(keyed, "_hmac", None) or keyed

    def digest(message: bytes) -> str:
        mac = keyed.copy()
        mac.update(message)
        return mac.hexdigest()

    return digest


def checker(spec: tuple, digest, builders: dict | None = None):
    """``row tuple -> True`` when the row's hash recomputes from it: first with its JSON columns spliced in as stored
    (the station's own rows), then, for a row that misses that way, canonically re-encoded (a row stored before the
    station wrote them canonically: after one such row, the rest of the batch goes that way straight away)."""
    names = spec[3]
    hash_at = names.index("row_hash")
    builders = {} if builders is None else builders  # kept across batches: their memory of JSON texts
    texts = builders.get(spec) or builders.setdefault(spec, (canonical_text(*spec, spliced=True),
                                                             canonical_text(*spec)))
    order = [texts]

    def holds(row: tuple) -> bool:
        for n, text in enumerate(order[0]):
            try:
                if digest(text(row).encode("utf-8")) == row[hash_at]:
                    if n:  # held only re-encoded: an older row, as the rest of this batch will likely be
                        order[0] = texts[1:]
                    return True
            except (ValueError, TypeError, KeyError, RecursionError):  # a JSON text nested past Python's stack
                pass
        return False

    return holds


def misses(spec: tuple, rows: list, digest, builders: dict) -> list[int]:
    """Positions in ``rows`` whose hash their text does not reproduce (or whose text cannot be made)."""
    holds = checker(spec, digest, builders)
    return [n for n, row in enumerate(rows) if not holds(row)]


# -- the helper process ---------------------------------------------------------------------------------------------
def _read(stream, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the other side closed the pipe")
    return data


def serve(stdin=None, stdout=None) -> None:
    """The child's loop: the chain key first, then ``(spec, rows)`` batches, each answered with its misses. Batches
    come marshalled (from the sync only: about three times cheaper than pickling for the sending side, which holds
    Python's lock the COPY also needs), answers pickled (the parent's unpickler checks what it gets)."""
    stdin, stdout = stdin or sys.stdin.buffer, stdout or sys.stdout.buffer
    digest, builders = None, {}
    gc.disable()  # its rows make no cycles: the collector would only walk each part's tuples again and again
    while True:
        try:
            size = _FRAME.unpack(_read(stdin, _FRAME.size))[0]
            message = _read(stdin, size)
        except EOFError:
            return  # the sync is over
        if digest is None:
            digest = digest_for(pickle.loads(message))
            continue
        message = marshal.loads(message)
        answer = pickle.dumps(misses(*message, digest, builders), pickle.HIGHEST_PROTOCOL)
        stdout.write(_FRAME.pack(len(answer)) + answer)
        stdout.flush()


class HelperGone(Exception):
    """The helper process could not answer: the caller checks the batch itself."""


class RowCheckHelper:
    """The parent's side of the helper processes (``processes`` of them), started on first use. Rows are handed over
    in parts as they are read (``submit``, each part to the next helper, which starts on it at once) and the answers
    taken for all of them together (``answers``); ``misses`` does both for one batch; ``close`` ends them."""

    def __init__(self, key: bytes | None, timeout_s: float = 120.0, processes: int | None = None,
                 from_rows: int | None = None):
        self._key, self.timeout_s = key, timeout_s
        self.from_rows = FROM_ROWS if from_rows is None else from_rows
        self.processes = processes or max(1, min(2, os.cpu_count() or 1))
        self._procs: list[subprocess.Popen] = []
        self._asked: list[tuple[subprocess.Popen, int, int]] = []  # (helper, rows, ticket) of each part handed
        self._tickets = 0  # over and not answered yet, in order
        self._inbox: dict[int, bytearray] = {}  # answer bytes read early (while sending), by helper pid
        self._lock = threading.Lock()
        self.broken = False

    def _start(self, deadline: float) -> subprocess.Popen:
        # -I -S: the standard library (and msgspec from _HOME) only, so it starts in a few tens of ms
        proc = subprocess.Popen([sys.executable, "-I", "-S", __file__, *_HOME], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
        self._procs.append(proc)
        self._inbox[proc.pid] = bytearray()
        for stream in (proc.stdin, proc.stdout):  # never blocked for good by a helper that stopped
            os.set_blocking(stream.fileno(), False)
        self._send(proc, pickle.dumps(self._key), deadline)  # the key over the pipe, never on a command line
        return proc

    def _give_up(self, exc: BaseException) -> HelperGone:
        self.broken = True
        self._asked = []
        self._stop(kill=True)  # dead, stopped or confused: nothing more to wait for
        return HelperGone(str(exc) or type(exc).__name__)

    def submit(self, spec: tuple, rows: list) -> int:
        """Hand ``rows`` to the next helper: the part's ticket (its answer's key in ``answers``); HelperGone when that
        cannot be done (then ``answers`` raises too)."""
        with self._lock:
            if self.broken:
                raise HelperGone("the helper failed before")
            deadline = time.monotonic() + self.timeout_s
            try:
                at = self._tickets % self.processes  # in turn, across batches too
                while len(self._procs) <= at:
                    self._start(deadline)
                self._send(self._procs[at], marshal.dumps((spec, rows), _MARSHAL), deadline)
                self._tickets += 1
                self._asked.append((self._procs[at], len(rows), self._tickets))
                return self._tickets
            except (OSError, EOFError, ValueError, HelperGone) as exc:
                raise self._give_up(exc) from None

    def answers(self) -> dict[int, list[int]]:
        """By ticket, for each part handed over since the last call, the positions in it of the rows whose hash did
        not recompute in a helper; HelperGone when a helper cannot say (the caller then checks them all itself)."""
        with self._lock:
            asked, self._asked = self._asked, []
            if self.broken:
                raise HelperGone("the helper failed before")
            deadline = time.monotonic() + self.timeout_s
            try:
                found = {}
                for proc, count, ticket in asked:
                    size = _FRAME.unpack(self._receive(proc, _FRAME.size, deadline))[0]
                    got = pickle.loads(self._receive(proc, size, deadline))
                    if not isinstance(got, list) or not all(type(n) is int and 0 <= n < count for n in got):
                        raise HelperGone("the helper's answer is not a list of row positions")
                    found[ticket] = got
                return found
            except (OSError, EOFError, ValueError, pickle.UnpicklingError, HelperGone) as exc:
                raise self._give_up(exc) from None

    def misses(self, spec: tuple, rows: list) -> list[int]:
        """Positions of ``rows`` whose hash did not recompute in a helper (each helper checks its share); HelperGone
        when one cannot say, or for fewer than ``from_rows`` rows (starting processes would cost more)."""
        if len(rows) < self.from_rows:
            raise HelperGone("few rows: checked by the caller")
        size = -(-len(rows) // self.processes) or 1
        tickets = {self.submit(spec, rows[at:at + size]): at for at in range(0, len(rows), size)}
        answers = self.answers()
        if set(answers) != set(tickets):
            raise HelperGone("an answer is missing")
        return [tickets[ticket] + n for ticket, got in answers.items() for n in got]

    def _wait(self, proc: subprocess.Popen, writing: bool, deadline: float) -> None:
        """Until the helper's stdin takes bytes (``writing``) or its stdout has some; an answer arriving while
        writing is kept (a helper blocked on a full answer pipe would never read the rest of a part)."""
        into, out = proc.stdin.fileno(), proc.stdout.fileno()
        while True:
            left = max(deadline - time.monotonic(), 0)
            readable, writable, _ = select.select([out], [into] if writing else [], [], left)
            if not readable and not writable:
                raise HelperGone(f"the helper did not answer in {self.timeout_s:g} s")
            if writable or not writing:
                return
            try:
                chunk = os.read(out, 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                raise EOFError("the helper closed its pipe")
            self._inbox[proc.pid] += chunk

    def _send(self, proc: subprocess.Popen, payload: bytes, deadline: float) -> None:
        data, fd = memoryview(_FRAME.pack(len(payload)) + payload), proc.stdin.fileno()
        while data:
            self._wait(proc, True, deadline)
            try:
                data = data[os.write(fd, data):]
            except BlockingIOError:
                continue

    def _receive(self, proc: subprocess.Popen, size: int, deadline: float) -> bytes:
        out, fd, early = bytearray(), proc.stdout.fileno(), self._inbox[proc.pid]
        out += early[:size]
        del early[:size]
        while len(out) < size:
            self._wait(proc, False, deadline)
            try:
                chunk = os.read(fd, min(size - len(out), 1 << 20))
            except BlockingIOError:
                continue
            if not chunk:
                raise EOFError("the helper closed its pipe")
            out += chunk
        return bytes(out)

    def _stop(self, kill: bool = False) -> None:
        procs, self._procs, self._inbox = self._procs, [], {}
        for proc in procs:
            if kill:
                proc.kill()
            for stream in (proc.stdin, proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
        for proc in procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def close(self) -> None:
        with self._lock:
            self._stop()

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self._procs]


if __name__ == "__main__":
    serve()
