"""Promise 4: only the right person acts."""
import pytest

from .conftest import Gate, one_clear_line


@pytest.fixture(scope="module")
def users_db(tmp_path_factory):
    base = tmp_path_factory.mktemp("auth")
    g = Gate(base / "home")
    db = base / "u.db"
    r = g("users", "add", "boss", "--role", "admin", "--pin-stdin", "--db", str(db), stdin=b"318274\n")
    assert r.returncode == 0, r.stderr
    r = g("users", "add", "dut", "--role", "duty", "--user", "boss", "--pin-stdin", "--db", str(db),
          stdin=b"318274\n536482\n")
    assert r.returncode == 0, r.stderr
    return g, db


def test_screen_without_user_is_refused(users_db):
    g, db = users_db
    r = g("screen", "--db", str(db), "--temp", "36.6", "--mask", "yes")
    assert r.returncode == 2
    assert "signed-in" in one_clear_line(r)


def test_pin_as_argument_is_refused_without_echo(users_db):
    g, db = users_db
    r = g("screen", "--db", str(db), "--temp", "36.6", "--user", "dut", "--pin", "536482")
    assert r.returncode == 2
    assert "536482" not in one_clear_line(r)


def test_duty_cannot_export(users_db, tmp_path):
    g, db = users_db
    r = g("export", "--db", str(db), "--from", "2020-01-01", "--to", "2030-12-31", "--format", "csv",
          "--out", str(tmp_path / "ex"), "--user", "dut", "--pin-stdin", stdin=b"536482\n")
    assert r.returncode == 1
    assert one_clear_line(r).startswith("gate: refused:")
    assert not any((tmp_path / "ex").glob("*.csv")) if (tmp_path / "ex").exists() else True


def test_duty_cannot_add_users(users_db):
    g, db = users_db
    r = g("users", "add", "evil", "--role", "admin", "--user", "dut", "--pin-stdin", "--db", str(db),
          stdin=b"536482\n645913\n")
    assert r.returncode == 1
    assert one_clear_line(r).startswith("gate: refused:")


def test_operator_cannot_name_someone_else(users_db):
    g, db = users_db
    r = g("screen", "--db", str(db), "--temp", "36.6", "--mask", "yes", "--user", "dut", "--pin-stdin",
          "--operator", "boss", stdin=b"536482\n")
    assert r.returncode == 1
    assert "refused" in one_clear_line(r)


def test_last_admin_cannot_be_disabled(users_db):
    g, db = users_db
    r = g("users", "disable", "boss", "--user", "boss", "--pin-stdin", "--db", str(db), stdin=b"318274\n")
    assert r.returncode == 1
    assert "last active admin" in one_clear_line(r)


def test_duty_cannot_apply_config(users_db, tmp_path):
    g, db = users_db
    cfg = tmp_path / "weak.toml"
    cfg.write_text('[screening]\nthreshold_c = 39.0\n', encoding="utf-8")
    r = g("config", "apply", str(cfg), "--db", str(db), "--user", "dut", "--pin-stdin", stdin=b"536482\n")
    assert r.returncode == 1
    assert one_clear_line(r).startswith("gate: refused:")
