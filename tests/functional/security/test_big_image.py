"""Issue 14, input at the edges: `gate mask big.png` with a 20000 × 20000 PNG is refused from its header, before
OpenCV decodes a byte of it (which took 2.4 GB); OpenCV's own pixel limit is set as a second guard; whatever bytes a
file holds, the image reader answers with an image or a refusal, never a crash."""
import struct
import subprocess
import sys
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.mask.image_file import ImageRefused, dimensions, read_image
from tests.functional.security.cli import run_gate
from tests.support import ROOT, env_with_root


def png_header(path, width, height):
    """A PNG whose header says width × height (its pixel data is one short, empty chunk)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    return path


def test_a_20000_by_20000_png_is_refused_from_its_header(tmp_path, capsys, monkeypatch):
    big = png_header(tmp_path / "big.png", 20000, 20000)
    code, out, err = run_gate(capsys, monkeypatch, "mask", "check", big)
    assert code == 1
    assert "20000 × 20000 pixels (400 megapixels): over the limit of 50 megapixels" in err
    code, out, _ = run_gate(capsys, monkeypatch, "mask", "check", big, "--json")
    assert code == 1 and "over the limit" in out


def test_opencv_refuses_it_too_when_the_header_reader_is_not_asked(tmp_path):
    big = png_header(tmp_path / "big.png", 20000, 20000)
    probe = ("import gate.mask.image_file, cv2, sys\n"
             "try:\n    img = cv2.imread(sys.argv[1])\nexcept cv2.error:\n    img = None\n"
             "print('refused' if img is None else 'decoded')")
    out = subprocess.run([sys.executable, "-c", probe, str(big)], capture_output=True, text=True,
                         env=env_with_root(), cwd=ROOT, timeout=120)
    assert out.stdout.strip() == "refused", out.stderr


@pytest.mark.parametrize("make, says", [
    (lambda p: p.mkdir(), "not a file"),
    (lambda p: None, "no such file"),
    (lambda p: p.write_bytes(b"\x89PNG not really"), "not an image OpenCV can read"),
])
def test_other_bad_images_get_one_line_each(tmp_path, capsys, monkeypatch, make, says):
    path = tmp_path / "x.png"
    make(path)
    code, _, err = run_gate(capsys, monkeypatch, "mask", path)
    assert code == 1 and says in err


@given(st.binary(max_size=300))
@settings(max_examples=150, deadline=None)
def test_any_bytes_give_an_image_or_a_refusal(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("img") / "f.png"
    path.write_bytes(data)
    dims = dimensions(path)
    assert dims is None or (dims[0] > 0 and dims[1] > 0)
    try:
        img = read_image(path)
    except ImageRefused as exc:
        assert str(exc)
    else:
        assert img.ndim == 3


@given(st.integers(min_value=1, max_value=60000), st.integers(min_value=1, max_value=60000))
@settings(max_examples=60, deadline=None)
def test_any_declared_size_over_the_limit_is_refused_before_decoding(tmp_path_factory, w, h):
    path = png_header(tmp_path_factory.mktemp("img") / "p.png", w, h)
    assert dimensions(path) == (w, h)
    if w * h > 50_000_000:
        with pytest.raises(ImageRefused, match="over the limit"):
            read_image(path)
