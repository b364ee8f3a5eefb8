"""Promise 2: a calibration cannot hide a fever; refusals name the suspicious point and store nothing."""
import pytest

from .conftest import one_clear_line

COMMON = ("--sensor", "gy:1", "--reference-id", "BB1", "--operator", "m")


@pytest.mark.parametrize("points, needle", [
    (["35:37.0,37.0,37.1"], "point 35"),
    (["35:20.1,20.0,20.1"], "point 35"),
    (["35:35.0,35.0,35.0", "40:40.9,40.9,40.9"], "gain 0.847"),
    (["37:37.0,37.0,37.0", "38:38.0,38.0,38.0"], "2 °C"),
    (["35:1e308,1e308,1e308", "40:nan,nan,nan"], "35:1e308"),
])
def test_bad_fit_refused_naming_the_point(gate, tmp_path, points, needle):
    db = tmp_path / "cal.db"
    args = ["calibrate", "fit", *COMMON, "--db", str(db)]
    for p in points:
        args += ["--point", p]
    r = gate(*args)
    assert r.returncode == 2
    err = one_clear_line(r)
    assert needle in err and ("refused" in err or "outside" in err)
    if db.exists():
        import sqlite3
        assert sqlite3.connect(db).execute("select count(*) from calibrations").fetchone()[0] == 0
