"""Promise 6: 37.27 is admitted and never shown as 37.3."""


def test_37_27_shown_with_two_decimals(gate, tmp_path):
    r = gate("screen", "--db", str(tmp_path / "g.db"), "--temp", "37.27", "--mask", "yes")
    out = r.stdout.decode()
    assert r.returncode == 0 and out.startswith("ADMIT")
    assert "37.27" in out and "37.3 " not in out and "37.3°" not in out
