"""A fever follows its person through the station (gate/station.py), whichever path the reading came by: a typed
screening, a retest chosen by staff, a mask confirmation, and the live sensor loop that `gate run --headless` drives."""
import threading
import time

import pytest

from domain import Decision, MaskResult, MaskState, Reading
from gate.clearance import clear
from gate.config import Config, SensorConfig
from gate.fever_memory import StaleRetest
from gate.station import Station
from sim.scenarios import Scenario
from storage.log import ScreeningLog

T0 = time.mktime((2026, 12, 1, 7, 42, 0, 0, 0, -1))
YES = MaskResult(MaskState.YES)


class Clock:
    """The station's clock, moved by the test: no sleeping, no wall clock."""

    def __init__(self, at: float = T0):
        self.at = at

    def __call__(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds


@pytest.fixture
def gate(db_path):
    clock = Clock()
    with ScreeningLog(db_path) as log:
        yield Station(Config(), log, language="en", clock=clock), clock


def hand(v, **kw):
    return Reading(object_c=v, source="manual", operator="li", device_id="clinical-1", **kw)


def clear_p42(station, clock, entrant="P42"):
    return clear(station.log, station_id="gate-1", entrant_id=entrant, note="doctor's note, 2 Dec", by="nurse",
                 role="health", now=clock())


def test_the_reproduction_retest_deny_refused_then_admitted_after_a_clearance(gate):
    st, clock = gate
    first = st.screen([hand(38.5)], YES, entrant_id="P42")
    assert first.decision is Decision.RETEST and first.follows is None
    clock.advance(600)
    second = st.screen([hand(38.4)], YES, entrant_id="P42")
    assert second.decision is Decision.DENY and "fever-confirmed" in second.reasons
    assert second.follows == first.id and [r.value_c for r in second.readings] == [38.5, 38.4]
    clock.advance(1800)
    third = st.screen([hand(36.9)], YES, entrant_id="P42")
    assert third.decision is Decision.DENY and third.reasons[0] == "fever-not-cleared"
    assert third.message.startswith("Fever confirmed at 07:52 — sent home")
    assert st.message_in(third, "zh-CN").startswith("07:52 已确认发热——已送回家")
    clock.advance(86400)  # the next morning: still refused, and the date is said
    fourth = st.screen([hand(36.6)], YES, entrant_id="P42")
    assert fourth.decision is Decision.DENY and fourth.message.startswith("Fever confirmed at 2026-12-01 07:52")
    clear_p42(st, clock)
    fifth = st.screen([hand(36.9)], YES, entrant_id="P42")
    assert fifth.decision is Decision.ADMIT and fifth.follows is None and fifth.reasons == ("normal",)


def test_anonymous_screenings_keep_todays_behaviour(gate):
    st, _ = gate
    assert [st.screen([hand(v)], YES).decision for v in (38.5, 38.4, 36.9)] == [
        Decision.RETEST, Decision.RETEST, Decision.ADMIT]
    assert all(s.follows is None for s in st.log.recent())


def test_a_lower_retest_admits_and_closes_the_episode(gate):
    st, clock = gate
    first = st.screen([hand(38.0)], YES, entrant_id="P7")
    clock.advance(600)
    second = st.screen([hand(36.8)], YES, entrant_id="P7")
    assert second.decision is Decision.ADMIT and second.reasons == ("retest-normal",) and second.follows == first.id
    third = st.screen([hand(38.0)], YES, entrant_id="P7")  # tomorrow's high reading is a new suspicion
    assert third.decision is Decision.RETEST and third.follows is None


def test_another_persons_retest_is_never_joined(gate):
    st, _ = gate
    st.screen([hand(38.5)], YES, entrant_id="P42")
    other = st.screen([hand(38.5)], YES, entrant_id="P43")
    assert other.decision is Decision.RETEST and other.follows is None


def test_a_high_reading_denied_for_no_mask_still_needs_its_retest(gate):
    st, _ = gate
    first = st.screen([hand(38.5)], MaskResult(MaskState.NO), entrant_id="P42")
    assert first.decision is Decision.DENY and "fever-suspected" in first.reasons
    second = st.screen([hand(38.3)], YES, entrant_id="P42")  # came back with a mask, still hot
    assert second.decision is Decision.DENY and "fever-confirmed" in second.reasons and second.follows == first.id


def test_a_retest_staff_chose_and_a_mask_confirmation_obey_the_refusal(gate):
    st, _ = gate
    st.screen([hand(38.5)], YES, entrant_id="P42")
    st.screen([hand(38.4)], YES, entrant_id="P42")
    refused = st.screen([hand(36.7)], MaskResult(MaskState.UNKNOWN), entrant_id="P42")
    assert "mask-unconfirmed" in refused.reasons and "mask" not in refused.message  # kept, but not said: sent home
    confirmed = st.confirm_mask(refused, MaskState.YES, operator="li")
    assert confirmed.decision is Decision.DENY and "fever-not-cleared" in confirmed.reasons
    retested = st.retest(confirmed, hand(36.5), operator="li")
    assert retested.decision is Decision.DENY and retested.follows == confirmed.id


def test_a_retest_on_a_stale_screening_is_refused_and_nothing_is_stored(gate):
    # The duty screen still shows P42's first retest; meanwhile `gate screen` answered it and P42 read high again.
    st, clock = gate
    shown = st.screen([hand(38.5)], YES, entrant_id="P42")
    st.screen([hand(36.6)], YES, entrant_id="P42")
    clock.advance(3600)
    st.screen([hand(38.7)], YES, entrant_id="P42")
    before = st.log.count()
    with pytest.raises(StaleRetest, match="screened again at 08:42"):
        st.retest(shown, hand(36.5), operator="li")
    with pytest.raises(StaleRetest):
        st.confirm_mask(shown, MaskState.YES, operator="li")
    assert st.log.count() == before


def test_a_refused_persons_high_reading_is_answered_after_the_clearance(gate):
    st, clock = gate
    st.screen([hand(38.5)], YES, entrant_id="P42")
    st.screen([hand(38.4)], YES, entrant_id="P42")
    hot = st.screen([hand(38.1)], YES, entrant_id="P42")
    assert hot.decision is Decision.DENY and {"fever-not-cleared", "fever-suspected"} <= set(hot.reasons)
    assert hot.message.startswith("Fever confirmed at") and "retest" not in hot.message  # no "rest, then retest"
    clear_p42(st, clock)
    after = st.screen([hand(36.6)], YES, entrant_id="P42")
    assert after.decision is Decision.ADMIT and after.follows == hot.id and after.reasons == ("retest-normal",)


def test_a_clearance_clears_one_fever_only(gate):
    st, clock = gate
    st.screen([hand(38.5)], YES, entrant_id="P42")
    st.screen([hand(38.4)], YES, entrant_id="P42")
    clear_p42(st, clock)
    clock.advance(7 * 86400)
    st.screen([hand(38.9)], YES, entrant_id="P42")
    again = st.screen([hand(38.6)], YES, entrant_id="P42")
    assert again.decision is Decision.DENY and "fever-confirmed" in again.reasons
    assert st.screen([hand(36.5)], YES, entrant_id="P42").decision is Decision.DENY


# -- the live sensor loop (what `gate run --headless` and the duty screen drive) -------------------------------------
FEVERISH = Scenario("feverish", "everyone at 38.4–38.7 °C, all masked", fever_share=1.0, fever_c=(38.4, 38.7),
                    no_mask_share=0.0)
HEALTHY = Scenario("healthy", "everyone healthy, all masked", no_mask_share=0.0, healthy_c=(36.5, 0.05))


class Masked:
    """A camera that always sees a mask: the mask is not what these tests are about."""

    def current(self) -> MaskResult:
        return YES


def run_people(station, sim, n, entrant="P42"):
    sc = SensorConfig(id="gun-1", protocol="gy-mcu90614", url=sim.path)
    got = []
    station.mask_source = Masked()
    station.run(sc, threading.Event(), on_screening=got.append, entrant=lambda: entrant, count=n)
    return got


def test_the_sensor_loop_links_confirms_and_refuses(sim_factory, db_path):
    with ScreeningLog(db_path) as log:
        st = Station(Config(), log, language="en")
        hot = run_people(st, sim_factory(scenario=FEVERISH, seed=3, pace=3.0), 3)
        assert [s.decision for s in hot] == [Decision.RETEST, Decision.DENY, Decision.DENY]
        assert hot[1].follows == hot[0].id and "fever-confirmed" in hot[1].reasons
        assert hot[2].reasons[0] == "fever-not-cleared"
        well = run_people(st, sim_factory(scenario=HEALTHY, seed=4, pace=3.0), 1)
        assert well[0].decision is Decision.DENY and well[0].message.startswith("Fever confirmed at")
        clear(log, station_id="gate-1", entrant_id="P42", note="doctor's note", by="nurse", role="health",
              now=time.time())
        after = run_people(st, sim_factory(scenario=HEALTHY, seed=5, pace=3.0), 1)
        assert after[0].decision is Decision.ADMIT
        assert log.verify().ok
