"""A sensor's health events: a new event whenever the health or its cause changes, and none while the same thing goes
on (its reason text changes with every sample: "ambient 4.3 °C", "ambient 4.4 °C"). Over a real pty."""
from domain import AMBIENT_RANGE_C, Health
from drivers.sensor import Cause, HealthLimits, Sensor
from gate.policy import PolicyConfig
from tests.support import poll_until


def test_too_cold_then_too_hot_is_two_events_though_both_reasons_start_with_ambient(sim_factory):
    sim = sim_factory(scenario="normal-morning", seed=4)  # ambient 20–24 °C
    sensor = Sensor("gun-1", "gy-mcu90614", sim.path)
    try:
        poll_until(sensor, lambda s, e: sensor.health is Health.OK)
        # The operating range is moved around the room's air, as a config for another sensor model would.
        sensor.limits = HealthLimits(ambient_min_c=30.0, ambient_max_c=60.0)
        _, cold = poll_until(sensor, lambda s, e: len(s) >= 20 and any(x.health is Health.DEGRADED for x in e))
        sensor.limits = HealthLimits(ambient_min_c=-20.0, ambient_max_c=10.0)
        _, hot = poll_until(sensor, lambda s, e: len(s) >= 20 and any(x.cause == Cause.AMBIENT_TOO_HOT for x in e))
    finally:
        sensor.close()
    assert [(x.health, x.cause) for x in cold] == [(Health.DEGRADED, Cause.AMBIENT_TOO_COLD)]
    assert [(x.health, x.cause) for x in hot] == [(Health.DEGRADED, Cause.AMBIENT_TOO_HOT)]
    assert "ambient" in cold[0].reason and "ambient" in hot[0].reason


def test_the_same_problem_going_on_is_one_event(sim_factory):
    sim = sim_factory(scenario="cold-morning", seed=2)  # ambient 0–5 °C: below the operating range all along
    sensor = Sensor("gun-1", "gy-mcu90614", sim.path)
    try:
        samples, events = poll_until(sensor, lambda s, e: len(s) >= 60)
    finally:
        sensor.close()
    assert len(samples) >= 60 and len({s.ambient_c for s in samples}) > 1  # the reason's number kept changing
    assert [(x.health, x.cause) for x in events if x.health is Health.DEGRADED] == [
        (Health.DEGRADED, Cause.AMBIENT_TOO_COLD)]


def test_one_operating_range_for_the_sensor_and_the_policy():
    assert (HealthLimits().ambient_min_c, HealthLimits().ambient_max_c) == AMBIENT_RANGE_C
    assert (PolicyConfig().ambient_min_c, PolicyConfig().ambient_max_c) == AMBIENT_RANGE_C
    assert Cause.AMBIENT_TOO_COLD == "ambient-too-cold"  # the policy's reason code, not a second spelling
