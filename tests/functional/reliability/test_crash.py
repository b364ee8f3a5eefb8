"""kill -9 the running station mid-stream, 20 times: every decision it printed is in the log after restart, the chain
verifies and SQLite's integrity check passes (bench/crash.py runs the same routine 100 times)."""
from bench.crash import kill_rounds


def test_kill_minus_9_the_station_twenty_times(tmp_path):
    r = kill_rounds(20, tmp_path)
    assert r["rounds_without_a_decision"] == 0, r
    assert r["decisions_printed"] >= 20 and r["lost"] == 0, r
    assert r["chain_verifies"] and r["integrity_check"] == "ok", r
