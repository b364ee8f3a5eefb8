"""What every pure framer returns, and the resynchronising scan shared by fixed-length, header-led frames."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

F = TypeVar("F")

# A framer never keeps more than this many undecoded bytes: a stream of noise cannot grow memory.
MAX_BUFFER = 64 * 1024


@dataclass(frozen=True)
class Decoded(Generic[F]):
    frames: list[F]
    consumed: int  # the caller drops this many bytes from the front of its buffer


def _header_starts_inside(buf: bytes, header: bytes, start: int, end: int) -> bool:
    """True when a header could start in buf[start+1:end]: every byte we have from there on (the frame's and those
    after it) agrees with the header. Bytes after the frame that contradict it settle the matter."""
    first = header[0]
    k = buf.find(first, start + 1, end)
    while k >= 0:
        if header.startswith(buf[k:k + len(header)]):
            return True
        k = buf.find(first, k + 1, end)
    return False


def scan_fixed(buf: bytes, header: bytes, length: int, parse: Callable[[bytes], F | None], final: bool,
               frames: list[F] | None = None, start: int = 0, one: bool = False) -> Decoded[F]:
    """Find ``length``-byte frames that begin with ``header`` and that ``parse`` accepts.

    A checksum can pass on misaligned bytes, so a frame that parses is still refused when another header starts
    inside it and the bytes after it are not the next header; the scan then drops one byte and looks again. When that
    cannot be told yet (the frame ends the buffer) it waits for more bytes, unless ``final`` says none are coming.
    With ``one`` it returns after the first frame, so that a caller's fast path can take over again.
    """
    frames = [] if frames is None else frames
    i, n, hlen = start, len(buf), len(header)
    while i < n:
        j = buf.find(header, i)
        if j < 0:
            # Keep a possible header prefix at the very end; everything before it is noise.
            keep = 0
            for k in range(1, hlen):
                if n - k >= i and header.startswith(buf[n - k:]):
                    keep = k
            return Decoded(frames, n - keep)
        i = j
        if n - i < length:
            return Decoded(frames, i)
        frame = parse(buf[i:i + length])
        if frame is None:
            i += 1
            continue
        after = buf[i + length:i + length + hlen]
        if after[:hlen] != header[:len(after)] or not after:
            if _header_starts_inside(buf, header, i, i + length):
                if not after and not final:
                    return Decoded(frames, i)
                if after:
                    i += 1
                    continue
        frames.append(frame)
        i += length
        if one:
            break
    return Decoded(frames, i)
