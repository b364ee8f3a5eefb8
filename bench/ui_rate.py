"""Screenings/s the duty screen sustains with the banner, counts and table updating (goal >= 100/s), against the
rate the station's storage can produce them in the same run (the raw limit the UI has to keep up with). JSON out.

Decisions are posted from a thread, as the station's sensor worker does; the figure is decisions handled by the
UI per second of wall time, headless, at 100x30.

    python bench/ui_rate.py [--n 2000]
"""
from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.options import options  # noqa: E402
from bench.log_rate import sample  # noqa: E402
from gate.config import Config  # noqa: E402
from gate.ui.app import build_app  # noqa: E402
from gate.ui.messages import ScreeningDecided  # noqa: E402
from storage.log import ScreeningLog  # noqa: E402


async def ui_rate(n: int, log: ScreeningLog) -> tuple[float, float]:
    app = build_app(Config(language="zh-CN", deny_bell=False), log, show_clock=False)
    items = [sample(i) for i in range(n)]
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.3)
        t0 = time.perf_counter()

        def produce() -> None:
            for s in items:
                app.duty.post_message(ScreeningDecided(s))

        th = threading.Thread(target=produce)
        th.start()
        while app.duty.decisions_shown < n:
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - t0
        th.join()
        banner = str(app.query_one("#banner").render())
        assert app.duty.latest is items[-1] and "准许进入" in banner  # the banner shows the latest decision
        assert app.duty.counts["admit"] >= n
        # how long the screen then takes to repaint with the last one: the lag a person would see
        t1 = time.perf_counter()
        await pilot.pause()
        lag = time.perf_counter() - t1
    return n / elapsed, lag


def main() -> None:
    args = options(__doc__, n=2000)
    with tempfile.TemporaryDirectory() as d:
        log = ScreeningLog(Path(d) / "ui.db")
        items = [sample(i) for i in range(300)]
        t0 = time.perf_counter()
        for s in items:
            log.append(s)
        storage = len(items) / (time.perf_counter() - t0)
        rate, lag = asyncio.run(ui_rate(args.n, log))
        log.close()
    print(json.dumps({"benchmark": "ui_rate", "screenings": args.n, "ui_screenings_per_s": round(rate, 1),
                      "storage_screenings_per_s": round(storage, 1), "ratio_ui_to_storage": round(rate / storage, 3),
                      "repaint_after_last_ms": round(lag * 1000, 1), "goal_ui_screenings_per_s": 100}))


if __name__ == "__main__":
    main()
