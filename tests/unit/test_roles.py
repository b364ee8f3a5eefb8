"""The permission table, sign-in for an action, and the last-admin rule: each refusal is a test and an audit row."""
import re

import pytest

from gate.auth import Auth, AuthError, NotSignedIn, User
from gate.roles import RIGHTS, ROLES, TABLE, may, readme_table
from storage import audit
from storage.log import ScreeningLog
from tests.conftest import ROOT
from tests.support import log_from_template

ADMIN = User("admin", "admin")
PINS = {"admin": "900001", "zhang": "318274", "wu": "427351", "li": "536482", "doc": "645913", "chen": "754026"}
ROLE_OF = {"admin": "admin", "zhang": "duty", "wu": "auditor", "li": "maintenance", "doc": "health",
           "chen": "teacher"}
CLASSES = {"chen": ("三年级二班", "三年级三班")}


def staffed(db):
    """One user of each role, the admin first (their PIN hashes are slow on purpose: made once a run, then copied)."""
    with ScreeningLog(db) as log:
        auth = Auth(log, "north")
        auth.add_user("admin", "admin", PINS["admin"], None)
        for name, role in ROLE_OF.items():
            if name != "admin":
                auth.add_user(name, role, PINS[name], ADMIN, classes=CLASSES.get(name, ()))


@pytest.fixture
def station(db_path):
    log = ScreeningLog(log_from_template(db_path, staffed))
    yield log, Auth(log, "north")
    log.close()


def last(log, n=1):
    return audit.events(log, n)


def test_the_table_names_only_known_roles_and_every_role_has_something_to_do():
    assert set(ROLES) == {"duty", "maintenance", "auditor", "admin", "health", "teacher"}
    assert len({r.action for r in TABLE}) == len(TABLE)
    for r in TABLE:
        assert r.roles and r.roles <= set(ROLES), r.action
    for role in ROLES:
        assert any(role in r.roles and r.action != "switch-role" for r in TABLE), role
    assert may("health", "clearance-add") and not may("duty", "clearance-add") and not may(None, "screen")
    with pytest.raises(KeyError):
        may("admin", "no-such-action")  # an action missing from the table is never a silent yes


def test_the_readme_role_table_is_the_one_in_code():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- roles-table -->\n(.*?)\n<!-- /roles-table -->", text, re.S)
    assert found, "README.md needs the role table between <!-- roles-table --> markers (gate.roles.readme_table())"
    assert found.group(1).strip() == readme_table().strip()


@pytest.mark.parametrize("action", sorted(RIGHTS))
def test_require_walks_every_action_for_every_role(station, action):
    log, auth = station
    for name, role in ROLE_OF.items():
        if role in RIGHTS[action]:
            assert auth.require(name, lambda n=name: PINS[n], action) == User(name, role, CLASSES.get(name, ()))
            assert (last(log)[0]["actor"], last(log)[0]["action"]) == (name, "login")
        else:
            with pytest.raises(AuthError, match=f"{name} is {role}; {action} needs"):
                auth.require(name, lambda n=name: PINS[n], action)
            ev = last(log)[0]
            assert (ev["actor"], ev["action"], ev["detail"]["action"]) == (name, "refused", action)
    with pytest.raises(NotSignedIn, match="needs a signed-in user"):
        auth.require(None, lambda: pytest.fail("no PIN is read without a name"), action)
    ev = last(log)[0]
    assert ev["action"] == "refused" and ev["detail"] == {"action": action, "why": "not signed in"}


def test_pins_off_means_no_sign_in_except_for_what_needs_an_auditor(db_path):
    with ScreeningLog(db_path) as log:
        auth = Auth(log, "north")
        assert auth.require(None, lambda: pytest.fail("no PIN asked"), "screen") is None
        for action in ("purge", "export-identified"):
            with pytest.raises(NotSignedIn, match="no users yet"):
                auth.require(None, lambda: "", action)


def test_an_operator_other_than_the_signed_in_user_is_refused_before_any_pin(station):
    log, auth = station
    with pytest.raises(AuthError, match="not the signed-in user 'zhang'"):
        auth.require("zhang", lambda: pytest.fail("PIN read"), "screen", operator="principal-wang")
    ev = last(log)[0]
    assert (ev["actor"], ev["action"], ev["detail"]["operator"]) == ("zhang", "refused", "principal-wang")
    assert auth.require("zhang", lambda: "318274", "screen", operator="zhang") == User("zhang", "duty")
    # A pupil typing a staff name without the PIN gets nowhere either, and it counts toward the lockout.
    with pytest.raises(AuthError, match="wrong PIN"):
        auth.require("zhang", lambda: "123123", "screen", operator="zhang")
    assert next(u for u in auth.users() if u["name"] == "zhang")["failures"] == 1


def test_wrong_pin_disabled_and_locked_users_are_refused_and_audited(station):
    log, auth = station
    for _ in range(9):
        with pytest.raises(AuthError, match="tries left"):
            auth.require("zhang", lambda: "000000", "screen")
    with pytest.raises(AuthError, match="locked until"):
        auth.require("zhang", lambda: "000000", "screen")
    with pytest.raises(AuthError, match="locked until"):
        auth.require("zhang", lambda: "318274", "screen")
    assert [e["action"] for e in last(log, 2)] == ["login-refused", "lockout"]
    auth.disable("li", ADMIN)
    with pytest.raises(AuthError, match="no active user 'li'"):
        auth.require("li", lambda: "536482", "calibrate")
    assert (last(log)[0]["actor"], last(log)[0]["action"]) == ("li", "login-failed")


def test_the_last_active_admin_cannot_be_disabled_or_lose_the_role(station):
    log, auth = station
    with pytest.raises(AuthError, match="last active admin"):
        auth.disable("admin", ADMIN)
    assert last(log)[0]["action"] == "refused" and last(log)[0]["detail"]["why"] == "last active admin"
    with pytest.raises(AuthError, match="last active admin"):
        auth.set_role("admin", "duty", ADMIN)
    assert auth.require("admin", lambda: "900001", "manage-users") == ADMIN  # still there, still admin
    # With a second admin, the first may step down; then the second is the last one.
    auth.set_role("wu", "admin", ADMIN)
    assert last(log)[0]["detail"] == {"user": "wu", "role": "admin", "from": "auditor"}
    auth.disable("admin", User("wu", "admin"))
    with pytest.raises(AuthError, match="last active admin"):
        auth.set_role("wu", "auditor", User("wu", "admin"))
    # A disabled admin does not count, and cannot sign in to enable themselves.
    with pytest.raises(AuthError, match="no active user 'admin'"):
        auth.require("admin", lambda: "900001", "manage-users")
    auth.enable("admin", User("wu", "admin"))
    assert (last(log)[0]["actor"], last(log)[0]["action"]) == ("wu", "user-enabled")
    assert auth.require("admin", lambda: "900001", "manage-users") == ADMIN


def test_user_changes_need_an_admin_and_name_a_real_user(station):
    _, auth = station
    with pytest.raises(AuthError, match="needs an admin"):
        auth.enable("zhang", User("wu", "auditor"))
    with pytest.raises(AuthError, match="no user 'ghost'"):
        auth.enable("ghost", ADMIN)
    with pytest.raises(AuthError, match="role 'root'"):
        auth.set_role("zhang", "root", ADMIN)
    auth.add_user("nurse", "health", "754026", ADMIN)
    assert auth.require("nurse", lambda: "754026", "clearance-add").role == "health"
