"""`gate run --headless --entrants-stdin`: the ids a scanner typed go with the screenings in order, each one there
for the first screening decided after it was written (no reader thread to fall behind), garbage never goes with
anyone. Real pipes, read by the station's own thread."""
import io
import os

import pytest

from gate.cli.scanned import LinePins, ScannedIds


@pytest.fixture
def pipe():
    r, w = os.pipe()
    with os.fdopen(r, "r", encoding="utf-8") as reader, os.fdopen(w, "wb", buffering=0) as writer:
        yield reader, writer


def test_an_id_written_before_a_screening_goes_with_it(pipe, capsys):
    reader, writer = pipe
    ids = ScannedIds(reader)
    assert ids() is None  # nobody scanned yet
    writer.write(b"P42\nP\x1b[2J42\n\nS1024\r\n")
    # Asked at once, in the same thread: a reader thread might not have run yet; this reads what is there.
    assert [ids(), ids(), ids()] == ["P42", "S1024", None]
    said = capsys.readouterr().err
    assert '"error": "entrant-id"' in said and "\x1b" not in said


def test_half_a_line_waits_for_its_enter_and_the_last_line_needs_none(pipe):
    reader, writer = pipe
    ids = ScannedIds(reader)
    writer.write(b"P4")
    assert ids() is None  # the scanner is still typing
    writer.write(b"2\nQ7")
    assert ids() == "P42"
    writer.close()  # input ends: the last id counts without its Enter
    assert [ids(), ids()] == ["Q7", None]


def test_a_line_that_is_not_utf8_is_skipped_with_a_message(pipe, capsys):
    reader, writer = pipe
    ids = ScannedIds(reader)
    writer.write(b"P\xff42\nP43\n")
    assert [ids(), ids()] == ["P43", None]
    assert "not UTF-8" in capsys.readouterr().err


def test_a_pin_before_the_ids_is_read_by_the_same_reader(pipe):
    reader, writer = pipe
    ids = ScannedIds(reader)
    writer.write(b"123456\nP42\n")
    assert LinePins(ids).ask("PIN for admin: ") == "123456"
    assert [ids(), ids()] == ["P42", None]


def test_an_in_memory_stream_works_the_same():
    ids = ScannedIds(io.StringIO("P42\nbad id\nS1\n"))
    assert [ids(), ids(), ids()] == ["P42", "S1", None]
