"""The screening policy: a table of cases from the school's rules, and properties that must hold for any input."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.base import MANUAL, Health, Reading
from domain import Decision, MaskResult, MaskState
from gate.policy import PolicyConfig, decide

CFG = PolicyConfig()
YES, NO, UNKNOWN = (MaskResult(MaskState.YES), MaskResult(MaskState.NO), MaskResult(MaskState.UNKNOWN))


def gun(v, ambient=22.0, health=Health.OK, calibration_ok=True):
    return Reading(object_c=v, body_c=v, source="gun-1", ambient_c=ambient, health=health,
                   calibration_ok=calibration_ok)


def hand(v):
    return Reading(object_c=v, body_c=v, source=MANUAL, operator="li", device_id="clinical-1")


CASES = [
    # readings, mask, mode, decision, reason codes that must be present
    ([gun(36.6)], YES, "must-wear", Decision.ADMIT, {"normal"}),
    ([gun(37.2)], YES, "must-wear", Decision.ADMIT, {"normal"}),
    ([gun(37.29)], YES, "must-wear", Decision.ADMIT, {"normal"}),
    ([gun(37.3)], YES, "must-wear", Decision.RETEST, {"fever-suspected"}),
    ([gun(38.5)], YES, "must-wear", Decision.RETEST, {"fever-suspected"}),
    ([gun(38.5), hand(38.1)], YES, "must-wear", Decision.DENY, {"fever-confirmed"}),
    ([gun(37.3), hand(37.3)], YES, "must-wear", Decision.DENY, {"fever-confirmed"}),
    ([gun(38.5), hand(36.8)], YES, "must-wear", Decision.ADMIT, {"retest-normal"}),
    ([gun(33.0)], YES, "must-wear", Decision.RETEST, {"reading-too-low"}),
    ([gun(43.5)], YES, "must-wear", Decision.RETEST, {"reading-too-high"}),
    ([gun(36.5, ambient=3.0)], YES, "must-wear", Decision.RETEST, {"ambient-too-cold"}),
    ([gun(36.5, ambient=41.0)], YES, "must-wear", Decision.RETEST, {"ambient-too-hot"}),
    ([gun(36.5, health=Health.FAULT)], YES, "must-wear", Decision.RETEST, {"sensor-fault"}),
    ([gun(36.5, health=Health.OFFLINE)], YES, "must-wear", Decision.RETEST, {"sensor-offline"}),
    ([gun(36.5, health=Health.WARMING)], YES, "must-wear", Decision.RETEST, {"sensor-warming"}),
    ([gun(36.5, health=Health.DEGRADED)], YES, "must-wear", Decision.RETEST, {"sensor-degraded"}),
    ([gun(36.5, calibration_ok=False)], YES, "must-wear", Decision.RETEST, {"calibration-overdue"}),
    ([gun(float("nan"))], YES, "must-wear", Decision.RETEST, {"invalid-value"}),
    ([], YES, "must-wear", Decision.RETEST, {"no-reading"}),
    ([hand(36.4)], YES, "must-wear", Decision.ADMIT, {"normal"}),
    # the mask rule
    ([gun(36.6)], NO, "must-wear", Decision.DENY, {"no-mask"}),
    ([gun(36.6)], UNKNOWN, "must-wear", Decision.RETEST, {"mask-unconfirmed"}),
    ([gun(36.6)], NO, "reminder", Decision.ADMIT, {"mask-reminder"}),
    ([gun(36.6)], UNKNOWN, "reminder", Decision.ADMIT, {"mask-reminder"}),
    ([gun(36.6)], NO, "off", Decision.ADMIT, {"normal"}),
    ([gun(38.0)], NO, "off", Decision.RETEST, {"fever-suspected"}),
    # the most severe outcome wins, every reason is kept
    ([gun(38.0)], NO, "must-wear", Decision.DENY, {"no-mask", "fever-suspected"}),
    ([gun(36.0, ambient=2.0)], NO, "must-wear", Decision.DENY, {"no-mask", "ambient-too-cold"}),
    # an invalid retest after a high first reading is still a suspected fever, never an admit
    ([gun(38.0), gun(36.5, health=Health.FAULT)], YES, "must-wear", Decision.RETEST,
     {"sensor-fault", "fever-suspected"}),
    # a high first reading that was itself invalid does not count as the first of two
    ([gun(38.0, ambient=2.0), hand(38.0)], YES, "must-wear", Decision.RETEST, {"fever-suspected"}),
]


@pytest.mark.parametrize("readings, mask, mode, decision, reasons", CASES)
def test_policy_table(readings, mask, mode, decision, reasons):
    cfg = PolicyConfig(mask_mode=mode)
    v = decide(readings, mask, cfg, "en")
    assert v.decision is decision, v
    assert reasons <= set(v.reasons), v
    assert v.message


def test_threshold_is_configurable_and_validated():
    cfg = PolicyConfig(threshold_c=37.0)
    assert decide([gun(37.0)], YES, cfg).decision is Decision.RETEST
    assert decide([gun(36.9)], YES, cfg).decision is Decision.ADMIT
    for bad in (33.9, 39.1, 37.25):
        with pytest.raises(ValueError):
            PolicyConfig(threshold_c=bad)


def test_messages_spell_out_what_to_do_in_both_languages():
    cold = decide([gun(36.0, ambient=2.0)], YES, CFG, "en")
    assert "wait 10 minutes" in cold.message
    fault = decide([gun(36.0, health=Health.FAULT)], YES, CFG, "en")
    assert "measure by hand" in fault.message
    zh = decide([gun(36.0, health=Health.FAULT)], YES, CFG, "zh-CN")
    assert "人工测温" in zh.message
    assert decide([gun(36.6)], YES, CFG, "zh-CN").message == "体温正常，请进入。"


temps = st.floats(min_value=20.0, max_value=50.0, allow_nan=False).map(lambda v: round(v, 2))
any_temp = st.one_of(temps, st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e9, -1e9]))
ambients = st.one_of(st.none(), st.floats(min_value=-30.0, max_value=60.0, allow_nan=False), st.just(float("nan")))
healths = st.sampled_from(list(Health))
readings_st = st.builds(
    lambda v, a, h, c, manual: hand(v) if manual else gun(v, ambient=a, health=h, calibration_ok=c),
    any_temp, ambients, healths, st.booleans(), st.booleans())
masks = st.sampled_from([YES, NO, UNKNOWN])
modes = st.sampled_from(["must-wear", "reminder", "off"])
thresholds = st.integers(min_value=340, max_value=390).map(lambda n: n / 10)


def _valid(r: Reading, cfg: PolicyConfig) -> bool:
    v = r.value_c
    if not math.isfinite(v) or not (cfg.plausible_min_c <= round(v, 2) <= cfg.plausible_max_c):
        return False
    if r.is_manual:
        return True
    if r.health is not Health.OK or not r.calibration_ok:
        return False
    return r.ambient_c is None or (math.isfinite(r.ambient_c) and cfg.ambient_min_c <= r.ambient_c <= cfg.ambient_max_c)


@settings(max_examples=400)
@given(r=readings_st, mask=masks, mode=modes, th=thresholds)
def test_one_reading_at_or_above_threshold_is_never_admitted(r, mask, mode, th):
    cfg = PolicyConfig(threshold_c=th, mask_mode=mode)
    v = decide([r], mask, cfg)
    if math.isfinite(r.value_c) and round(r.value_c, 2) >= th:
        assert v.decision is not Decision.ADMIT


@settings(max_examples=400)
@given(rs=st.lists(readings_st, min_size=1, max_size=4), mask=masks, mode=modes, th=thresholds)
def test_an_invalid_latest_reading_is_never_admitted(rs, mask, mode, th):
    cfg = PolicyConfig(threshold_c=th, mask_mode=mode)
    v = decide(rs, mask, cfg)
    if not _valid(rs[-1], cfg):
        assert v.decision is not Decision.ADMIT
    assert v.reasons and v.message


@settings(max_examples=300)
@given(rs=st.lists(readings_st, min_size=1, max_size=4), mask=masks, th=thresholds)
def test_admit_needs_a_valid_normal_latest_reading_and_a_mask_in_must_wear(rs, mask, th):
    cfg = PolicyConfig(threshold_c=th)
    v = decide(rs, mask, cfg)
    if v.decision is Decision.ADMIT:
        assert _valid(rs[-1], cfg) and round(rs[-1].value_c, 2) < th
        assert mask.state is MaskState.YES


@given(rs=st.lists(readings_st, max_size=4), mask=masks, mode=modes)
def test_no_mask_in_must_wear_always_denies(rs, mask, mode):
    v = decide(rs, MaskResult(MaskState.NO), PolicyConfig(mask_mode="must-wear"))
    assert v.decision is Decision.DENY and "no-mask" in v.reasons
