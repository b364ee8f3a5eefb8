"""The permission table walked on the command line: every command, every role, and nobody signed in.

For each command of gate.roles.TABLE: each allowed role gets past the sign-in (a `login` for that action in the audit
trail and no refusal), each other role is refused with a message naming the roles needed and an audited refusal,
and with PINs on a command without --user is refused (audited) before it touches anything.
"""
import json

import pytest

from gate.auth import Auth, User
from gate.roles import RIGHTS, ROLES, TABLE
from storage import audit
from storage.log import ScreeningLog
from storage.roster import import_roster
from tests.support import log_from_template, run_gate

PIN = {"admin": "900001", "zhang": "318274", "wu": "427351", "li": "536482", "doc": "645913", "chen": "754026"}
NAME = {"admin": "admin", "duty": "zhang", "auditor": "wu", "maintenance": "li", "health": "doc", "teacher": "chen"}
CLASSES = {"teacher": ("一年级1班",)}  # a teacher is made with its classes
GUN = '[station]\nid = "north"\n[[sensors]]\nid = "gun-1"\nprotocol = "gy-mcu90614"\nurl = "/dev/null"\n'
ROSTER = "id,name,class,kind\nS1,张三,一年级1班,pupil\nS2,李四,一年级1班,pupil\n"


def gate(capsys, monkeypatch, *argv, stdin=""):
    """The real `gate` entry point, in this process (the PIN arrives on standard input, as with --pin-stdin): the exit
    code, stdout and stderr. (``capsys`` and ``monkeypatch`` are the callers' old arguments; run_gate needs neither.)"""
    r = run_gate(*argv, input=stdin, newline="")
    return r.returncode, r.stdout, r.stderr


def add_staff(log):
    """One user per role, the admin first."""
    auth = Auth(log, "north")
    auth.add_user("admin", "admin", PIN["admin"], None)
    for role, name in NAME.items():
        if name != "admin":
            auth.add_user(name, role, PIN[name], User("admin", "admin"), classes=CLASSES.get(role, ()))


def staff_and_roster(db):
    """One user per role (the admin first) and the roster: the school's log before anyone types a command."""
    with ScreeningLog(db) as log:
        add_staff(log)
        import_roster(log, ROSTER.encode(), station_id="north", actor="admin")


@pytest.fixture
def school(tmp_path):
    db, cfg = tmp_path / "gate.db", tmp_path / "gun.toml"
    cfg.write_text(GUN, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    log_from_template(db, staff_and_roster)
    return tmp_path, ["--db", db]  # no --config: the stored policy is the station's, and `config apply` changes it


def commands(tmp, n):
    """One invocation per command of the table; ``n`` makes output folders and ids fresh for each run."""
    out = tmp / f"export-{n}"
    return {
        "screen": ["screen", "--temp", "36.6", "--mask", "yes"],
        "visitor-add": ["roster", "visitor", "add", f"V-{n}", "--name", "Zhao", "--phone", "13800001234",
                        "--reason", "meeting", "--host", "Teacher Li"],
        "roster-import": ["roster", "import", tmp / "roster.csv"],
        "roster-list": ["roster", "list"],
        "report-unscreened": ["report", "unscreened"],
        "report-alerts": ["report", "alerts"],
        "followup-list": ["followup", "list"],
        "followup-close": ["followup", "close", "no-such-case", "--outcome", "personal-leave"],
        "clearance-add": ["clearance", "add", "S1", "--note", "doctor's note, 2 Dec"],
        "clearance-list": ["clearance", "list"],
        "held-list": ["held", "list"],
        "held-lift": ["held", "lift", "--note", "edit undone"],
        "calibrate": ["calibrate", "fit", "--sensor", "gy-mcu90614:gun-1", "--point", "35:35.0,35.0,35.1",
                      "--point", "40:40.0,40.1,40.0", "--reference-id", "BB-1"],
        "export": ["export", "--from", "2000-01-01", "--to", "2100-01-01", "--out", out],
        "export-identified": ["export", "--from", "2000-01-01", "--to", "2100-01-01", "--out", out, "--identified"],
        "purge": ["purge", "--older-than", "30"],
        "audit-list": ["audit", "list"],
        "users-list": ["users", "list"],
        "manage-users": ["users", "enable", "zhang"],
        "policy": ["config", "apply", tmp / "gun.toml"],
        "sync-new-upstream": ["sync", "--upstream", f"sqlite:///{tmp / f'district-{n}.db'}"],
    }


def test_every_command_of_the_table_has_a_case_here(tmp_path):
    assert {r.action for r in TABLE if r.command} == set(commands(tmp_path, 0))


def trail(db, n=5):
    with ScreeningLog(db) as log:
        return audit.events(log, n)


def command_exists(capsys, monkeypatch, argv) -> bool:
    """True if the command and its action are there: `gate config apply --help` exits 0."""
    words = [str(a) for a in argv[:2] if not str(a).startswith("-")]
    return gate(capsys, monkeypatch, *words, "--help")[0] == 0


@pytest.mark.parametrize("action", sorted(r.action for r in TABLE if r.command))
def test_each_role_is_let_in_or_refused_by_the_table(school, capsys, monkeypatch, action):
    tmp, station = school
    db = station[1]
    assert command_exists(capsys, monkeypatch, commands(tmp, 0)[action]), \
        f"{' '.join(commands(tmp, 0)[action][:2])} is in the permission table but is not a command"

    for n, role in enumerate(ROLES, start=1):
        name = NAME[role]
        argv = [*commands(tmp, n)[action], *station, "--user", name, "--pin-stdin"]
        code, out, err = gate(capsys, monkeypatch, *argv, stdin=PIN[name] + "\n")
        events = trail(db, 40)
        if role in RIGHTS[action]:
            assert f"{action} needs" not in err and "signed-in" not in err, (role, err)
            assert any((e["actor"], e["action"], e["detail"].get("action")) == (name, "login", action)
                       for e in events), (role, err)
        else:
            assert code != 0 and f"{name} is {role}; {action} needs" in err, (role, code, err)
            assert "Traceback" not in err and len(err.strip().splitlines()) == 1
            ev = next(e for e in events if e["actor"] == name)
            assert (ev["action"], ev["detail"]["action"]) == ("refused", action)
    # Nobody signed in: refused before anything happens, and the attempt is in the trail.
    code, out, err = gate(capsys, monkeypatch, *commands(tmp, 99)[action], *station)
    assert code == 2 and "needs a signed-in user" in err and "--user NAME" in err, err
    ev = trail(db, 1)[0]
    assert (ev["action"], ev["detail"]) == ("refused", {"action": action, "why": "not signed in"})
