"""Framers of gy-mcu90640, modbus-ir, optris-ct and text-line: reference vectors, and fuzzing (random bytes,
truncation, valid frames inside garbage, frames split anywhere)."""
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers import gy_mcu90640 as g40
from drivers import modbus_ir as mb
from drivers import optris_ct as op
from drivers import text_line as tl


def feed_in_pieces(decode, stream: bytes, cuts: list[int]) -> list:
    buf, got, pos = b"", [], 0
    for c in cuts:
        buf += stream[pos:pos + c]
        pos += c
        out = decode(buf)
        got += out.frames
        buf = buf[out.consumed:]
    buf += stream[pos:]
    out = decode(buf, final=True)
    return got + out.frames


# -- GY-MCU90640 ----------------------------------------------------------------------------------------------------
def face_image(core=36.8, tea=True, dead=(0, 400)):
    rng = random.Random(5)
    px = [22 + rng.gauss(0, 0.1) for _ in range(g40.PIXELS)]
    for r in range(5, 17):
        for c in range(11, 21):
            px[r * 32 + c] = core - 1.2 + rng.gauss(0, 0.1)
    for k in (9 * 32 + 14, 9 * 32 + 15, 10 * 32 + 14, 10 * 32 + 15):
        px[k] = core
    if tea:
        for k in (20 * 32 + 2, 20 * 32 + 3, 21 * 32 + 2, 21 * 32 + 3):
            px[k] = 61.0
    for k in dead:
        px[k] = 327.67
    return px


def test_90640_frame_layout_and_commands():
    frame = g40.encode(face_image(), 21.5)
    assert len(frame) == 1544 and frame[:4] == bytes.fromhex("5A5A0206")
    assert int.from_bytes(frame[2:4], "little") == 1538
    assert g40.CMD_QUERY == bytes.fromhex("A53501DB") and g40.CMD_AUTO == bytes.fromhex("A53502DC")
    assert g40.CMD_BAUD_460800 == bytes.fromhex("A51503BD") and g40.CMD_READ_EMISSIVITY == bytes.fromhex("A55501FB")


def test_90640_dead_pixels_are_replaced_and_face_beats_tea():
    out = g40.decode(g40.encode(face_image(), 21.5), final=True)
    (f,) = out.frames
    assert f.dead == 2 and f.ambient_c == 21.5 and max(f.pixels) < 100
    # The face's hottest 2x2 region, not the tea (61 °C) and not one pixel.
    assert g40.face_temperature(f.pixels) == pytest.approx(36.8, abs=0.05)


def test_90640_no_face_and_frames_with_mostly_dead_pixels():
    empty = [22.0] * g40.PIXELS
    assert g40.face_temperature(tuple(empty)) is None
    mostly_dead = [327.67] * 500 + [22.0] * (g40.PIXELS - 500)
    assert g40.decode(g40.encode(mostly_dead, 21.0), final=True).frames == []


@settings(max_examples=60, deadline=None)
@given(garbage=st.binary(max_size=80), n=st.integers(1, 3), cuts=st.lists(st.integers(1, 900), max_size=8))
def test_90640_frames_after_garbage_and_in_pieces_are_recovered(garbage, n, cuts):
    frames = [g40.encode(face_image(core=36.0 + i / 10, tea=False), 20.0 + i) for i in range(n)]
    got = feed_in_pieces(g40.decode, garbage + b"".join(frames), cuts)
    assert [f.ambient_c for f in got[-n:]] == [20.0 + i for i in range(n)]


@settings(max_examples=200)
@given(data=st.binary(max_size=3200))
def test_90640_random_bytes_never_crash_or_yield_implausible_pixels(data):
    out = g40.decode(data, final=True)
    assert 0 <= out.consumed <= len(data)
    for f in out.frames:
        assert all(-40 <= p <= 200 for p in f.pixels) and -40 <= f.ambient_c <= 125


# -- Modbus RTU IR transmitter ----------------------------------------------------------------------------------------
def test_modbus_reference_request_and_reply():
    assert mb.encode(mb.read_request(1, 0x0E, 1)) == bytes.fromhex("0103000E0001E5C9")
    (reply,) = mb.decode(bytes.fromhex("010302016D7839"), final=True).frames
    assert reply.registers == [0x016D] and mb.to_celsius(reply.registers[0]) == 36.5
    (req,) = mb.decode_requests(bytes.fromhex("0103000E0001E5C9")).frames
    assert (req.dev_id, req.address, req.count) == (1, 0x0E, 1)


def test_modbus_signed_tenths_and_register_maps():
    assert mb.to_celsius(mb.from_celsius(-12.3)) == -12.3
    assert mb.REGISTER_MAPS["calex"].object == mb.REGISTER_MAPS["omega"].object + 1


def test_modbus_bad_crc_is_skipped_and_the_next_reply_found():
    good = bytes.fromhex("010302016D7839")
    bad = bytearray(good)
    bad[-1] ^= 0xFF
    out = mb.decode(bytes(bad) + good, final=True)
    assert [f.registers for f in out.frames] == [[0x016D]]


regs = st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(garbage=st.binary(max_size=40), replies=st.lists(regs, min_size=1, max_size=4),
       cuts=st.lists(st.integers(1, 12), max_size=10))
def test_modbus_replies_after_garbage_and_in_pieces_are_recovered(garbage, replies, cuts):
    stream = garbage + b"".join(mb.encode(mb.read_response(1, r)) for r in replies)
    got = feed_in_pieces(mb.decode, stream, cuts)
    assert [list(f.registers) for f in got[-len(replies):]] == replies


@settings(max_examples=300)
@given(data=st.binary(max_size=300))
def test_modbus_random_bytes_never_crash(data):
    for decode in (mb.decode, mb.decode_requests):
        out = decode(data, final=True)
        assert 0 <= out.consumed <= len(data)


# -- Optris CT ----------------------------------------------------------------------------------------------------
def test_optris_reference_reply_and_requests():
    assert op.parse_reply(op.CMD_OBJECT, bytes.fromhex("04D3")).value == 23.5
    assert op.encode_temperature(23.5) == bytes.fromhex("04D3")
    assert op.request(op.CMD_OBJECT) == b"\x01" and op.request(op.CMD_OBJECT, address=3) == b"\xb3\x01"


@pytest.mark.parametrize("data", [b"", b"\x04", b"\x04\xd3\x00", b"\xff\xff"])
def test_optris_wrong_length_or_out_of_range_is_refused(data):
    assert op.parse_reply(op.CMD_OBJECT, data) is None


@given(cmd=st.sampled_from(list(op.REPLY_LEN)), data=st.binary(max_size=6))
def test_optris_any_reply_is_refused_or_in_range(cmd, data):
    reply = op.parse_reply(cmd, data)
    if reply is not None and cmd in (op.CMD_OBJECT, op.CMD_HEAD):
        assert -50 <= reply.value <= 975
    decode = op.decode_for(cmd)
    out = decode(data, final=True)
    assert out.consumed == len(data) and len(out.frames) <= 1


# -- text-line ----------------------------------------------------------------------------------------------------
def test_text_line_presets_parse_the_reference_lines():
    (m,) = tl.make_decoder("melexis")(b"mv:3A:06930451:22.25,22.88\n").frames
    assert m == tl.TextFrame(22.88, 22.25)
    (a,) = tl.make_decoder("arduino")(b"Ambient = 24.1*C\tObject = 36.6*C\r\n").frames
    assert a == tl.TextFrame(36.6, 24.1)
    (s,) = tl.make_decoder("simple")(b"T=36.5\n").frames
    assert s == tl.TextFrame(36.5, None)


def test_text_line_custom_pattern_and_bad_patterns():
    d = tl.make_decoder(r"^obj:(?P<object>[-\d.]+);amb:(?P<ambient>[-\d.]+)$")
    assert d(b"obj:36.7;amb:21.0\n").frames == [tl.TextFrame(36.7, 21.0)]
    with pytest.raises(ValueError):
        tl.compile_pattern(r"^T=(\d+)$")
    with pytest.raises(re.error):
        tl.compile_pattern(r"^T=(?P<object>")


def test_text_line_overlong_lines_are_dropped_and_memory_bounded():
    d = tl.make_decoder("simple")
    out = d(b"x" * 5000)
    assert out.frames == [] and out.consumed == 5000
    out = d(b"x" * 300 + b"\nT=36.6\n")
    assert out.frames == [tl.TextFrame(36.6, None)]


lines_st = st.lists(st.tuples(st.integers(200, 420).map(lambda n: n / 10), st.integers(-100, 400).map(lambda n: n / 10)),
                    min_size=1, max_size=5)


@settings(max_examples=300)
@given(garbage=st.binary(max_size=60), values=lines_st, cuts=st.lists(st.integers(1, 15), max_size=10))
def test_text_line_lines_after_garbage_and_in_pieces_are_recovered(garbage, values, cuts):
    text = "".join(f"Ambient = {a:.1f}*C\tObject = {o:.1f}*C\r\n" for o, a in values).encode()
    # Garbage ends at a line break, as on a real line: a half line of noise spoils only itself.
    got = feed_in_pieces(tl.make_decoder("arduino"), garbage + b"\n" + text, cuts)
    assert got[-len(values):] == [tl.TextFrame(o, a) for o, a in values]


@settings(max_examples=300)
@given(data=st.binary(max_size=400), preset=st.sampled_from(list(tl.PRESETS)))
def test_text_line_random_bytes_never_crash_or_yield_out_of_range(data, preset):
    out = tl.make_decoder(preset)(data, final=True)
    assert 0 <= out.consumed <= len(data)
    for f in out.frames:
        assert -70 <= f.object_c <= 380 and (f.ambient_c is None or -70 <= f.ambient_c <= 380)
