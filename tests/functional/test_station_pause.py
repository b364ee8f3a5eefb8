"""Screening pauses while the sensor looks at a blackbody; when it resumes with the blackbody still in view (the
wizard's last point is done, the operator has not yet taken it away), the blackbody is no person.

The order of events is fixed by the samples themselves: the test acts in ``on_sample``, in the station's own loop,
so a busy machine cannot change what happens between resuming and the next samples.
"""
import dataclasses
import threading

from drivers.samples import Sample
from drivers.measurement import PresenceDetector
from gate.config import Config, SensorConfig
from gate.station import Station
from sim.scenarios import SCENARIOS
from storage.log import ScreeningLog

STILL = dataclasses.replace(SCENARIOS["normal-morning"], gap_s=(600.0, 600.0))  # nobody walks past meanwhile


def test_a_blackbody_still_in_view_when_screening_resumes_is_not_screened(sim_factory, db_path):
    sim = sim_factory("gy-mcu90614", STILL, seed=3)
    sim.set_blackbody(40.0)
    sc = SensorConfig(id="gun-1", protocol="gy-mcu90614", url=sim.path)
    seen: list[float] = []
    stop = threading.Event()
    plan = {10: "resume", 60: "take the blackbody away", 90: "someone steps in"}  # after that many samples

    def on_sample(s: Sample) -> None:
        seen.append(s.object_c)
        step = plan.get(len(seen))
        if step == "resume":
            station.paused.clear()  # the wizard's last point is measured: screening resumes at once
        elif step == "take the blackbody away":
            sim.set_blackbody(None)
        elif step == "someone steps in":
            sim.set_blackbody(36.8)
        if len(seen) > 2000:  # the safety net of a broken test, not a claim
            stop.set()

    with ScreeningLog(db_path) as log:
        station = Station(Config(sensors=(sc,), mask_mode="off"), log)
        station.paused.set()  # the sensor looks at the blackbody
        screened = []
        station.run(sc, stop, on_screening=screened.append, on_sample=on_sample, count=1)
        assert len(screened) == 1, f"after {len(seen)} samples"
        assert len(seen) > 90  # 50 samples of the blackbody after resuming were not a person
        assert abs(screened[0].temperature_c - 36.8) < 0.3  # the person who stepped in after it was taken away
        assert log.count() == 1
        assert max(seen[10:60]) > 39.0  # the blackbody really was in view after resuming


def test_held_the_detector_measures_nobody_until_the_view_clears():
    d = PresenceDetector(margin_c=4.0, frames=3, window=5)
    background, hot = Sample(22.0, 22.0, 0.0), Sample(40.0, 22.0, 0.0)
    assert [d.feed(background) for _ in range(5)] == [None] * 5
    d.feed(hot)
    d.hold()  # a pause begins with something hot in view
    assert [d.feed(hot) for _ in range(50)] == [None] * 50
    assert d.feed(background) is None  # the view clears
    measured = [m for m in (d.feed(hot) for _ in range(5)) if m is not None]
    assert [m.object_c for m in measured] == [40.0]  # the next one in front of it is measured again
