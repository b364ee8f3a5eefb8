"""Framer throughput on streams with 10 % garbage bytes, and the latency from a frame's last byte written to a pty to
the sample delivered by the driver. Prints JSON.

Raw floor, same run: ``struct.iter_unpack`` over the same frames, clean and aligned (the least per-frame work Python
can do); each framer's ratio is its MB/s over that floor's MB/s for its own frame size.

    python bench/framer_rate.py [--mb 4] [--latency-frames 400]
"""
from __future__ import annotations

import json
import random
import statistics
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.options import options  # noqa: E402
from drivers import gy_mcu90614, gy_mcu90640, modbus_ir, text_line  # noqa: E402
from drivers.sensor import Sensor  # noqa: E402
from sim.port import PtyPort  # noqa: E402


def stream(frames: list[bytes], garbage_share: float, rng: random.Random) -> bytes:
    """Frames with random garbage between them, ``garbage_share`` of all bytes."""
    parts, total = [], sum(map(len, frames))
    budget = int(total * garbage_share / (1 - garbage_share))
    cuts = sorted(rng.sample(range(len(frames)), min(len(frames), max(1, budget // 8))))
    per = budget // max(1, len(cuts))
    cut_set = set(cuts)
    for i, f in enumerate(frames):
        if i in cut_set:
            parts.append(bytes(rng.randrange(256) for _ in range(per)))
        parts.append(f)
    return b"".join(parts)


def rate(decode, data: bytes, chunk: int = 4096) -> tuple[float, int]:
    """MB/s feeding ``data`` in serial-sized chunks, as the device layer does."""
    t0 = time.perf_counter()
    buf, n = b"", 0
    for i in range(0, len(data), chunk):
        buf += data[i:i + chunk]
        out = decode(buf)
        n += len(out.frames)
        buf = buf[out.consumed:]
    n += len(decode(buf, final=True).frames)
    return len(data) / (time.perf_counter() - t0) / 1e6, n


def raw_floor(frames: list[bytes], fmt: str) -> float:
    data = b"".join(frames)
    s = struct.Struct(fmt)
    t0 = time.perf_counter()
    count = sum(1 for _ in s.iter_unpack(data))
    assert count == len(frames)
    return len(data) / (time.perf_counter() - t0) / 1e6


def latency(frames: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        port = PtyPort(Path(d) / "gy")
        sensor = Sensor("bench", "gy-mcu90614", str(port.link))
        sensor.open()
        time.sleep(0.05)
        sensor.poll(0.05)
        delays: list[float] = []
        written: list[float] = []
        done = threading.Event()

        def reader() -> None:
            while len(delays) < frames and not done.is_set():
                samples, _ = sensor.poll(0.2)
                now = time.perf_counter()
                for _ in samples:
                    if len(delays) < len(written):
                        delays.append(now - written[len(delays)])

        th = threading.Thread(target=reader)
        th.start()
        for i in range(frames):
            frame = gy_mcu90614.encode(20.0 + (i % 50) / 10, 22.0)
            port.write(frame[:-1])
            time.sleep(0.001)
            written.append(time.perf_counter())
            port.write(frame[-1:])  # the clock starts at the frame's last byte
            time.sleep(0.008)
        time.sleep(0.3)
        done.set()
        th.join()
        sensor.close()
        port.close()
    ms = sorted(x * 1000 for x in delays)
    return {"frames": len(ms), "p50_ms": round(statistics.median(ms), 3),
            "p99_ms": round(ms[int(0.99 * (len(ms) - 1))], 3), "max_ms": round(ms[-1], 3)}


def main() -> None:
    args = options(__doc__, {"mb": "stream size per framer (MB)"}, mb=4.0, latency_frames=400)
    rng = random.Random(1)
    size = int(args.mb * 1e6)
    results = {}

    gy = [gy_mcu90614.encode(30 + rng.random() * 10, 22.0) for _ in range(size // 9)]
    px = [22.0 + rng.random() for _ in range(768)]
    g40 = [gy_mcu90640.encode(px, 21.0 + (i % 10) / 10) for i in range(max(20, size // 1544 // 4))]
    mb = [modbus_ir.encode(modbus_ir.read_response(1, [rng.randrange(65536) for _ in range(4)]))
          for _ in range(size // 13 // 4)]
    tl = [f"Ambient = {20 + rng.random():.1f}*C\tObject = {30 + rng.random() * 8:.1f}*C\r\n".encode()
          for _ in range(size // 36 // 4)]
    cases = [
        ("gy-mcu90614", gy_mcu90614.decode, gy, ">4shhB"),
        ("gy-mcu90640", gy_mcu90640.decode, g40, "<4s768hhH"),
        ("modbus-ir", modbus_ir.decode, mb, ">3s4hH"),
        ("text-line", text_line.make_decoder("arduino"), tl, None),
    ]
    for name, decode, frames, fmt in cases:
        data = stream(frames, 0.10, rng)
        mbps, found = rate(decode, data)
        entry = {"mb_per_s": round(mbps, 2), "frames": len(frames), "recovered": found,
                 "garbage_share": round(1 - sum(map(len, frames)) / len(data), 3)}
        if fmt:
            floor = raw_floor(frames, fmt)
            entry.update(raw_iter_unpack_mb_per_s=round(floor, 2), ratio=round(mbps / floor, 3))
        results[name] = entry
    results["gy-mcu90614"]["goal_mb_per_s"] = 5.0
    results["gy-mcu90640"]["goal_mb_per_s"] = 5.0
    print(json.dumps({"benchmark": "framer_rate", "framers": results,
                      "latency_gy_mcu90614_pty": latency(args.latency_frames)}))


if __name__ == "__main__":
    main()
