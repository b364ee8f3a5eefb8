"""Entrant ids typed on standard input (`gate run --headless --entrants-stdin`): a barcode scanner types the id and
Enter; each id goes with the next screening, in order.

Read when a screening asks, in the station's own thread, without blocking: every id written before a person is
measured is there for that person. (A reader thread could fall behind on a busy machine: the first person was then
screened as nobody and everyone after them got the id meant for the one before.) A line that cannot be an id is said
on stderr and skipped: it never goes with anyone's screening.
"""
from __future__ import annotations

import json
import os
import select
import sys
from collections import deque
from typing import IO

from domain.identifiers import IdentifierError, check_id
from gate.cli.common import Pins


class ScannedIds:
    """``ids()`` is the next id waiting, or None while none waits; ``line()`` waits for the next whole line."""

    def __init__(self, stream: IO[str]):
        self.stream = stream
        try:
            self.fd: int | None = stream.fileno()
        except (AttributeError, OSError, ValueError):  # an in-memory stream: reading it never blocks
            self.fd = None
        self._bytes = b""
        self._ended = False
        self._lines: deque[str] = deque()

    def __call__(self) -> str | None:
        self._read(block=False)
        while self._lines:
            text = self._lines.popleft()
            if not text.strip():
                continue
            try:
                return check_id(text, "entrant id")
            except IdentifierError as exc:
                _say(str(exc))
        return None

    def line(self) -> str | None:
        """The next whole line (a PIN given before the ids), waiting for it; None at the end of input."""
        while not self._lines and not self._ended:
            self._read(block=True)
        return self._lines.popleft() if self._lines else None

    def _read(self, block: bool) -> None:
        if self.fd is None:  # in memory: everything is there already
            self._lines.extend(line.rstrip("\r\n") for line in self.stream.readlines())
            self._ended = True
            return
        while not self._ended and select.select([self.fd], [], [], None if block else 0)[0]:
            chunk = os.read(self.fd, 65536)
            self._ended = not chunk
            self._bytes += chunk
            block = False  # one wait at most; then only what is there
        *whole, self._bytes = self._bytes.split(b"\n")
        if self._ended and self._bytes:  # the last line, without its Enter
            whole.append(self._bytes)
            self._bytes = b""
        for raw in whole:
            try:
                self._lines.append(raw.decode("utf-8").rstrip("\r"))
            except UnicodeDecodeError:
                _say("a line of standard input is not UTF-8 text: skipped (set the scanner to UTF-8 or ASCII)")


class LinePins(Pins):
    """--pin-stdin beside --entrants-stdin: the PIN is the first line, read by the same reader as the ids."""

    def __init__(self, ids: ScannedIds):
        super().__init__(from_stdin=True)
        self.ids = ids

    def ask(self, prompt: str, confirm: bool = False) -> str:
        line = self.ids.line()
        if line is None:
            return super().ask(prompt, confirm)  # says that standard input ended before the PIN
        return line.strip()


def _say(message: str) -> None:
    print(json.dumps({"error": "entrant-id", "message": message}, ensure_ascii=False), file=sys.stderr, flush=True)
