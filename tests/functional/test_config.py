"""The config schema: every problem at once with its key and the allowed values, hints for misspelled keys, settings
that contradict each other, identifiers the upstream accepts, and each default written once."""
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.identifiers import ID_MAX
from drivers.measurement import PresenceDetector
from drivers.sensor import HealthLimits
from gate.auth import Policy
from gate.config import EXAMPLE, Config, ConfigError, SensorConfig, parse_config
from gate.config_checks import SECTIONS, SENSOR_KEYS, SESSION_KEYS
from gate.policy import PolicyConfig
from tests.support import run_gate


def check(tmp_path, text):
    f = tmp_path / "station.toml"
    f.write_text(text, encoding="utf-8")
    return run_gate("config", "check", f)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(tomllib.loads(text))
    return caught.value.problems


def test_a_threshold_above_the_plausible_maximum_fails_the_check(tmp_path):
    out = check(tmp_path, "[screening]\nthreshold_c = 39.0\nplausible_max_c = 38.0\n")
    assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr
    (line,) = [x for x in out.stderr.splitlines() if x.startswith("  - ")]
    assert "`screening.threshold_c` (39.0) must be below `screening.plausible_max_c` (38.0)" in line
    assert "no fever could ever be denied" in line


def test_every_problem_is_reported_at_once_one_line_each(tmp_path):
    out = check(tmp_path, '[station]\nid = "north gate"\nlanguage = "fr"\n'
                          '[screening]\nthreshold_c = 37.25\nmask_mode = "sometimes"\nthreshhold_c = 37.3\n'
                          '[[sensors]]\nid = "g"\nprotocol = "nope"\nurl = "/dev/ttyUSB0"\ngain = 1.1\n'
                          '[[sensors]]\nid = "g"\nprotocol = "gy-mcu90614"\nurl = "/dev/ttyUSB1"\n'
                          'ambient_min_c = 30\nambient_max_c = 20\n'
                          '[calibration]\nbody_site_offset_c = -1.5\n')
    lines = [x for x in out.stderr.splitlines() if x.startswith("  - ")]
    assert out.returncode == 2 and f"has {len(lines)} problem(s)" in out.stderr
    for key in ("station.id", "station.language", "screening.threshold_c", "screening.mask_mode",
                "screening.threshhold_c", "sensors[0].protocol", "sensors[0].gain", "sensors[1].id",
                "sensors[1].ambient_min_c", "calibration.body_site_offset_c"):
        assert sum(f"`{key}`" in x for x in lines) == 1, (key, lines)
    assert len(lines) == 10
    assert any("did you mean `threshold_c`" in x for x in lines)
    assert any("allowed: 0.0–4.0" in x for x in lines)


@pytest.mark.parametrize("text, says", [
    ('[station]\nid = "%s"\n' % ("n" * 70), "70 characters long: at most 64"),
    ('[station]\nid = "gate\\u0000one"\n', "control or invisible"),
    ('[station]\nid = "gate\\u202eone"\n', "control or invisible"),  # a bidi override hides what is written
    ('[station]\nid = "north gate"\n', "contains a space"),
    ('[station]\nid = ""\n', "empty"),
    ('[station]\ngate = "%s"\n' % ("门" * 200), "at most 128"),
    ('[[sensors]]\nid = "%s"\nprotocol = "gy-mcu90614"\nurl = "/dev/x"\n' % ("g" * 65), "at most 64"),
    ('[[sensors]]\nid = "gun\\n1"\nprotocol = "gy-mcu90614"\nurl = "/dev/x"\n', "sensors[0].id"),
    ('[[sensors]]\nid = "a"\nprotocol = "gy-mcu90614"\nurl = ""\n', "`sensors[0].url` must not be empty"),
])
def test_identifiers_are_length_and_character_checked(text, says):
    assert any(says in p for p in problems(text)), problems(text)


def test_the_identifier_limit_fits_the_upstream_columns():
    from storage import upstream

    tables = upstream.metadata.tables
    for table in tables.values():
        if "station_id" in table.c:
            assert table.c.station_id.type.length >= ID_MAX, table.name
    assert tables["calibrations"].c.sensor.type.length >= len("gy-mcu90640:") + ID_MAX


def test_gain_and_offset_in_the_config_say_to_calibrate_instead():
    found = problems('[[sensors]]\nid = "a"\nprotocol = "gy-mcu90614"\nurl = "/dev/x"\ngain = 0.97\noffset_c = -8\n')
    assert len(found) == 2 and all("gate calibrate" in p and "no longer a config key" in p for p in found)


@pytest.mark.parametrize("offset, ok", [(-0.1, False), (-5.0, False), (0.0, True), (2.0, True), (4.0, True),
                                        (4.1, False)])
def test_the_body_site_offset_is_0_to_plus_4(offset, ok):
    text = f"[calibration]\nbody_site_offset_c = {offset}\n"
    if ok:
        assert parse_config(tomllib.loads(text)).body_site_offset_c == offset
    else:
        assert any("calibration.body_site_offset_c" in p for p in problems(text))


@pytest.mark.parametrize("text, keys", [
    ("[screening]\nplausible_min_c = 38.0\n", ("screening.plausible_min_c", "screening.threshold_c")),
    ("[screening]\nplausible_min_c = 39.0\nplausible_max_c = 38.5\nthreshold_c = 38.0\n",
     ("screening.plausible_min_c", "screening.plausible_max_c")),
    ('[[sensors]]\nid = "a"\nprotocol = "gy-mcu90614"\nurl = "/dev/x"\nambient_min_c = 20\nambient_max_c = 22\n',
     ("sensors[0].ambient_min_c", "sensors[0].ambient_max_c")),
    ("[calibration]\nwarn_days = 30\ninterval_days = 20\n", ("calibration.warn_days", "calibration.interval_days")),
    ("[calibration]\ntolerance_c = 0.5\nmax_correction_c = 0.4\n",
     ("calibration.tolerance_c", "calibration.max_correction_c")),
    ("[retention]\nscreening_days = 400\naudit_days = 365\n", ("retention.audit_days", "retention.screening_days")),
    ("[calibration]\nmax_correction_c = 10.0\n", ("calibration.max_correction_c",)),  # cannot reopen the hole
])
def test_settings_that_contradict_each_other_name_every_key_involved(text, keys):
    found = [p for p in problems(text) if all(f"`{k}`" in p for k in keys)]
    assert found, problems(text)


def test_a_contradiction_is_not_reported_on_top_of_a_bad_value():
    assert problems("[screening]\nthreshold_c = 'high'\nplausible_max_c = 38.0\n") == [
        "`screening.threshold_c` must be a number, not 'high'"]


@pytest.mark.parametrize("text, hint", [
    ("[screening]\nthreshold = 37.5\n", "did you mean `threshold_c`?"),
    ("[sensor]\nid = 'a'\n", "did you mean `sensors`?"),
    ("[screening]\nlanguage = 'en'\n", "`language` belongs in `[station]`"),
    ('[[sensors]]\nid = "a"\nprotocol = "gy-mcu90614"\nurl = "/dev/x"\nbuad = 9600\n', "did you mean `baud`?"),
    ("[security]\nlockout_minute = 5\n", "did you mean `lockout_minutes`?"),
])
def test_misspelled_keys_get_a_hint(text, hint):
    assert any(hint in p for p in problems(text)), problems(text)


def test_code_cannot_build_a_contradictory_config_either():
    with pytest.raises(ConfigError, match="must be below"):
        Config(threshold_c=39.0, plausible_max_c=38.0)
    with pytest.raises(ConfigError, match="at most 64"):
        SensorConfig(id="a" * 65, protocol="gy-mcu90614", url="/dev/x")
    with pytest.raises(ConfigError, match="at most 64"):  # a sensor from command-line options: a usage message
        SensorConfig.from_options(id="a" * 65, protocol="gy-mcu90614", url="/dev/x")


def test_each_default_is_the_owner_s_default():
    cfg, policy = Config(), PolicyConfig()
    assert cfg.policy() == policy
    sensor = SensorConfig(id="a", protocol="gy-mcu90614", url="/dev/x")
    assert (sensor.ambient_min_c, sensor.ambient_max_c) == (HealthLimits().ambient_min_c, HealthLimits().ambient_max_c)
    assert (sensor.ambient_min_c, sensor.ambient_max_c) == (policy.ambient_min_c, policy.ambient_max_c)
    detector = PresenceDetector()
    assert (sensor.presence_margin_c, sensor.presence_frames) == (detector.margin_c, detector.frames)
    assert cfg.security == Policy()


def test_the_example_is_the_defaults_and_every_key_in_it_is_known():
    data = tomllib.loads(EXAMPLE)
    cfg = parse_config(data)
    differ = ("station_id", "gate_name", "sensors")
    assert {k: v for k, v in cfg.settings().items() if k not in differ} == \
        {k: v for k, v in Config().settings().items() if k not in differ}
    assert set(data) <= set(SECTIONS) | {"sensors", "sessions"} and \
        all(set(data[s]) <= SECTIONS[s] for s in SECTIONS if s in data)
    assert set(data["sensors"][0]) <= SENSOR_KEYS
    assert all(set(s) <= SESSION_KEYS for s in data["sessions"])
    assert cfg.sensors[0].id == "gun-1" and cfg.sensors[0].mode is None  # None: the protocol's usual mode


def test_a_sensor_that_is_not_a_table_is_one_problem_and_keeps_the_others_in_their_places():
    found = problems('sensors = [1, {protocol = "gy-mcu90614", url = "/dev/x", ambient_min_c = 30, ambient_max_c = 20}]')
    assert found[0] == "`sensors[0]` must be a table" and len(found) == 2
    assert "`sensors[1].ambient_min_c` (30.0) must be below `sensors[1].ambient_max_c` (20.0)" in found[1]


def test_a_sensor_without_an_id_is_named_by_its_place():
    cfg = parse_config(tomllib.loads('[[sensors]]\nprotocol = "gy-mcu90614"\nurl = "/dev/x"\n'
                                     '[[sensors]]\nprotocol = "modbus-ir"\nurl = "/dev/y"\nslave = 2\n'))
    assert [s.id for s in cfg.sensors] == ["sensor-1", "sensor-2"] and cfg.sensors[1].options == {"slave": 2}


_KEYS = sorted({k for keys in SECTIONS.values() for k in keys} | SENSOR_KEYS | {"gain", "nmae"})
_VALUES = st.one_of(st.integers(-10**6, 10**6), st.floats(), st.booleans(), st.text(max_size=80),
                    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))
_TABLES = st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*SECTIONS, "colour"]), st.one_of(_TABLES, _VALUES), max_size=5),
       st.one_of(st.none(), st.lists(st.one_of(_TABLES, _VALUES), max_size=3), _VALUES))
def test_any_parsed_toml_gives_a_config_or_named_problems_never_a_crash(data, sensors):
    if sensors is not None:
        data = {**data, "sensors": sensors}
    try:
        cfg = parse_config(data)
    except ConfigError as exc:
        assert exc.problems and all(isinstance(p, str) and "`" in p for p in exc.problems), exc.problems
    else:
        assert cfg.plausible_min_c < cfg.threshold_c < cfg.plausible_max_c
        assert all(s.ambient_min_c < s.ambient_max_c for s in cfg.sensors)
