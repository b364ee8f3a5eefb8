"""Promise 5: a config that would weaken screening is refused, naming every key."""
from .conftest import one_clear_line


def test_config_check_names_every_bad_key(gate, tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(
        '[station]\nid = "' + "x" * 70 + '"\n'
        '[screening]\nthreshold_c = 39.0\nplausible_max_c = 38.0\n'
        '[calibration]\nbody_site_offset_c = -1\n'
        '[[sensors]]\nid = "a"\nprotocol = "text-line"\nurl = "loop://"\ngain = 0.9\noffset_c = -1\n',
        encoding="utf-8")
    r = gate("config", "check", str(cfg))
    assert r.returncode == 2
    err = one_clear_line(r)
    for key in ("station.id", "screening.threshold_c", "screening.plausible_max_c",
                "calibration.body_site_offset_c", "sensors[0].gain", "sensors[0].offset_c"):
        assert key in err, key


def test_another_config_is_refused_naming_the_keys(gate, tmp_path):
    db = tmp_path / "g.db"
    assert gate("screen", "--db", str(db), "--temp", "36.6", "--mask", "yes").returncode == 0
    other = tmp_path / "other.toml"
    other.write_text('[screening]\nthreshold_c = 39.0\nmask_mode = "off"\n', encoding="utf-8")
    r = gate("screen", "--config", str(other), "--db", str(db), "--temp", "38.5", "--mask", "no")
    assert r.returncode == 1
    err = one_clear_line(r)
    assert "threshold_c" in err and "mask_mode" in err
    import sqlite3
    assert sqlite3.connect(db).execute("select count(*) from screenings").fetchone()[0] == 1
