"""Promise 8 (issue 12): every subcommand has --help; usage errors exit 2."""
from .conftest import one_clear_line


def test_calibrate_fit_help(gate):
    r = gate("calibrate", "fit", "--help")
    assert r.returncode == 0 and b"--point" in r.stdout


def test_unknown_option_is_usage_error(gate, tmp_path):
    r = gate("screen", "--db", str(tmp_path / "g.db"), "--temp", "36.6", "--frobnicate")
    assert r.returncode == 2
    one_clear_line(r)
    assert not (tmp_path / "g.db").exists()
