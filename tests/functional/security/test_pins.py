"""PINs: trivial ones refused with a clear line, hashes peppered with the station key (a copied log alone cannot test
a PIN), old unpeppered hashes replaced at the next sign-in."""
import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gate import pins
from gate.auth import Auth, AuthError
from storage.keys import key_path_for
from storage.log import ScreeningLog
from tests.functional.security.conftest import legacy_log, legacy_rows

TRIVIAL = ["123456", "000000", "111111", "123123", "121212", "654321", "112233", "520520", "888888", "987654",
           "890123", "5201314", "12345678", "1234567890", "999999999", "147258"]


@pytest.mark.parametrize("pin", TRIVIAL)
def test_trivial_pins_are_refused_with_a_clear_line_and_nothing_is_added(tmp_path, gate, pin):
    db = tmp_path / "gate.db"
    code, out, err = gate("users", "add", "boss", "--role", "admin", "--pin-stdin", "--db", db, stdin=f"{pin}\n")
    assert code == 1 and "choose 6 or more digits without a pattern" in err
    assert pin not in err.replace("like 123456 or 987654", "").replace("like 121212 or 123123", "") \
        .replace("like 112233", "")  # only the fixed examples, never the PIN typed
    assert len(err.strip().splitlines()) == 1
    with ScreeningLog(db) as log:
        assert not Auth(log, "gate-1").has_users()


@pytest.mark.parametrize("pin", ["12345", "", "12a456", "１２３４５６", "1" * 33])
def test_short_or_odd_pins_are_refused(pin):
    assert pins.weakness(pin) == "a PIN is 6 to 32 digits"


def test_a_trivial_pin_is_refused_at_reset_too(tmp_path):
    with ScreeningLog(tmp_path / "gate.db") as log:
        auth = Auth(log, "gate-1")
        auth.add_user("boss", "admin", "902741", None)
        with pytest.raises(AuthError, match="one digit repeated"):
            auth.reset_pin("boss", "777777", auth.check("boss", "902741", "manage-users"))


@given(st.text(alphabet="0123456789", min_size=6, max_size=12))
def test_the_rules_never_echo_the_pin_and_accept_or_explain(pin):
    problem = pins.weakness(pin)
    examples = ("123456", "987654", "121212", "123123", "112233")
    assert problem is None or problem.endswith(pins.ADVICE) or problem == "a PIN is 6 to 32 digits"
    assert problem is None or pin in examples or pin not in problem


def test_a_copied_log_without_its_key_cannot_test_a_pin_offline(tmp_path):
    db = tmp_path / "gate.db"
    with ScreeningLog(db) as log:
        Auth(log, "gate-1").add_user("boss", "admin", "902741", None)
    stored = sqlite3.connect(db).execute("SELECT pin_hash FROM users").fetchone()[0]
    assert stored.startswith("scrypt-hmac$16384$8$1$")
    # the attacker has the log, not the key: the right PIN with any pepper but the station's does not match
    assert not pins.matches("902741", stored, b"\0" * 32)
    _, n, r, p, salt, digest = stored.split("$")
    import hashlib
    assert hashlib.scrypt(b"902741", salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32).hex() != digest
    key = key_path_for(db).read_bytes()
    assert key not in db.read_bytes()


def test_an_old_unpeppered_hash_signs_in_once_and_is_replaced(tmp_path):
    db = tmp_path / "old.db"
    legacy_log(db)
    legacy_rows(db, 2, users=(("boss", "admin", "902741"),))
    with ScreeningLog(db) as log:  # the upgrade MACs the users as it finds them
        auth = Auth(log, "old-gate")
        assert auth.integrity() == []
        assert auth.check("boss", "902741", "manage-users").role == "admin"
        with log.read() as conn:
            stored = conn.exec_driver_sql("SELECT pin_hash FROM users").scalar()
            actions = [a for (a,) in conn.exec_driver_sql("SELECT action FROM audit_events ORDER BY seq")]
        assert stored.startswith("scrypt-hmac$") and "pin-rehashed" in actions
        assert auth.check("boss", "902741", "manage-users").role == "admin"  # the new hash works
        with pytest.raises(AuthError, match="wrong PIN"):
            auth.check("boss", "902740", "manage-users")
        assert auth.integrity() == []


@pytest.mark.parametrize("pin", ["1212121", "1231231", "12341234123", "5205205", "90909090909"])
def test_a_block_repeated_with_a_part_of_it_as_a_tail_is_refused(pin):
    assert "repeats a short block" in pins.weakness(pin)


@pytest.mark.parametrize("pin", ["583920", "7391846", "12341235", "1212134"])
def test_a_pin_that_only_starts_like_a_repeat_is_accepted(pin):
    assert pins.weakness(pin) is None


def test_a_teacher_with_more_than_fifty_classes_is_refused_in_the_core_too(tmp_path):
    with ScreeningLog(tmp_path / "gate.db") as log:
        auth = Auth(log, "gate-1")
        auth.add_user("boss", "admin", "902741", None)
        boss = auth.check("boss", "902741", "manage-users")
        with pytest.raises(AuthError, match="at most 50"):
            auth.add_user("chen", "teacher", "739184", boss, classes=tuple(f"c{i}" for i in range(51)))
        auth.add_user("chen", "teacher", "739184", boss, classes=tuple(f"c{i}" for i in range(50)))
