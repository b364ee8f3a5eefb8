"""What every pure framer returns: the frames found and how many input bytes it consumed."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

F = TypeVar("F")


@dataclass(frozen=True)
class Decoded(Generic[F]):
    frames: list[F]
    consumed: int  # the caller drops this many bytes from the front of its buffer

# A framer never keeps more than this many undecoded bytes: a stream of noise cannot grow memory.
MAX_BUFFER = 64 * 1024
