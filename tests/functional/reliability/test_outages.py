"""Unplugs and upstream outages, repeated: nothing lost, nothing duplicated, the station says what is wrong."""
import threading
import time

import pytest

from drivers.base import Health, Reading
from drivers.sensor import Sensor
from gate.config import Config
from domain import MaskResult, MaskState
from gate.station import Station
from sim.simulator import Simulator
from storage.log import ScreeningLog
from storage.sync import Sync
from tests.support import poll_until, wait_until
from tests.pg import drain_and_compare, unavailable_reason


def test_twenty_unplugs_each_reported_offline_and_each_followed_by_readings_again(tmp_path):
    """How fast (offline < 1 s, back < 2 s) is measured by bench/unplug.py; here: every unplug is seen, every return
    brings readings, and the sensor ends healthy."""
    sim = Simulator("gy-mcu90614", "normal-morning", link=tmp_path / "gy", seed=5).start()
    sensor = Sensor("gun-1", "gy-mcu90614", sim.path)
    try:
        poll_until(sensor, lambda s, e: len(s) >= 3)
        for _ in range(20):
            sim.unplug()
            _, ev = poll_until(sensor, lambda s, e: any(x.health is Health.OFFLINE for x in e))
            assert any(x.health is Health.OFFLINE for x in ev)
            sim.plug()
            samples, ev = poll_until(sensor, lambda s, e: len(s) >= 1)
            assert samples and sensor.health is Health.OK
    finally:
        sensor.close()
        sim.stop()


@pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
def test_upstream_stopped_and_started_five_times_while_three_stations_sync(tmp_path, pg):
    url = pg.create_db("district")
    logs = [ScreeningLog(tmp_path / f"s{i}.db") for i in range(3)]
    stations = [Station(Config(station_id=f"station-{i}", mask_mode="off"), log) for i, log in enumerate(logs)]
    stop = threading.Event()
    syncs = [Sync(log, url, batch_size=25, connect_timeout=1) for log in logs]
    threads = [threading.Thread(target=s.watch, args=(stop,), kwargs={"interval_s": 0.05,
                                                                      "backoff_s": (0.05, 0.3)})
               for s in syncs]
    for th in threads:
        th.start()
    screening_done = threading.Event()
    screened = [0]

    def screen_all_morning():
        while not screening_done.is_set():
            for st in stations:
                st.screen([Reading(object_c=36.5, body_c=36.5, source="gun-1", ambient_c=21.0)],
                          MaskResult(MaskState.YES))
                screened[0] += 1
            time.sleep(0.005)  # a gate's pace, not a wait for a result

    writer = threading.Thread(target=screen_all_morning)
    writer.start()
    for _ in range(5):
        # Stop the server while the stations have something on its way, and start it again only once they have
        # screened more people while it was down.
        assert wait_until(lambda: any(s.pending() for s in syncs))
        pg.stop("immediate")
        before = screened[0]
        assert wait_until(lambda: screened[0] >= before + 30)
        pg.start()
        pg.wait_ready()
    screening_done.set()
    writer.join()
    assert drain_and_compare(syncs, threads, stop, logs, url) > 300
