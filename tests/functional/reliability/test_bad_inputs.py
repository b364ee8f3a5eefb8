"""A table of bad inputs across manual temperatures, CLI arguments, config files, roster CSVs and export ranges:
each gets a message that names what was wrong, a non-zero exit, and nothing is stored."""
import sqlite3

import pytest

from tests.support import run_gate

CONFIGS = {
    "threshold": ("[screening]\nthreshold_c = 45\n", "screening.threshold_c"),
    "mask": ('[screening]\nmask_mode = "maybe"\n', "screening.mask_mode"),
    "lang": ('[station]\nlanguage = "de"\n', "station.language"),
    "protocol": ('[[sensors]]\nid = "a"\nprotocol = "x"\nurl = "/dev/null"\n', "sensors[0].protocol"),
    "baud": ('[[sensors]]\nid = "a"\nprotocol = "gy-mcu90614"\nurl = "/dev/null"\nbaud = 1000\n', "sensors[0].baud"),
    "toml": ("[station\n", "not valid TOML"),
    "retention": ("[retention]\nscreening_days = 0\n", "retention.screening_days"),
    "lockout": ("[security]\nlockout_failures = 1\n", "security.lockout_failures"),
}
ROSTERS = {
    "no-id": ("name,class,kind\na,1,pupil\n", "no `id` column"),
    "bad-kind": ("id,name,class,kind\n1,a,1,robot\n", "line 2, field kind"),
    "dup": ("id,name,class,kind\n1,a,1,pupil\n1,b,1,pupil\n", "line 3, field id"),
    "empty-name": ("id,name,class,kind\n1,,1,pupil\n", "line 2, field name"),
}

CASES = [
    # manual temperatures through `gate screen`
    *[(["screen", "--temp", v, "--mask", "yes"], "--temp") for v in
      ["abc", "", "nan", "1e9", "3.73.1", "inf", "98.6", "29.9", "45.1", "-36", "36.6K", "37..1"]],
    (["screen", "--temp", "36.6", "--ambient", "hot"], "--ambient"),
    (["screen", "--temp", "36.6", "--mask", "perhaps"], "invalid choice"),
    (["screen", "--temp", "36.6", "--reason", "bored"], "invalid choice"),
    # other CLI arguments
    (["run", "--headless", "--url", "/dev/ttyUSB-nothing", "--protocol", "gy-mcu90614"], "does not exist"),
    (["run", "--headless", "--url", "/dev/null"], "--url and --protocol go together"),
    (["read", "--url", "/dev/null", "--protocol", "nope"], "invalid choice"),
    (["read", "--url", "/tmp/x", "--protocol", "gy-mcu90614", "--slave", "3"], "--slave does not apply"),
    (["run", "--headless", "--count", "0", "--url", "x", "--protocol", "gy-mcu90614"], "must be 1 or more"),
    (["calibrate", "fit", "--sensor", "s", "--reference-id", "BB", "--point", "35:abc"], "SET:READING"),
    (["calibrate", "fit", "--sensor", "s", "--reference-id", "BB", "--point", "50:50.0"], "outside 35–42"),
    # export ranges
    (["export", "--from", "2026-02-30", "--to", "2026-03-01", "--out", "{tmp}/e1"], "not a date"),
    (["export", "--from", "2026-03-02", "--to", "2026-03-01", "--out", "{tmp}/e2"], "after"),
    (["export", "--from", "yesterday", "--to", "2026-03-01", "--out", "{tmp}/e3"], "not a date"),
    (["export", "--from", "2026-03-01", "--out", "{tmp}/e4"], "needs --from DATE --to DATE"),
    (["export", "verify", "{tmp}/missing"], "cannot read the manifest"),
    (["report", "daily", "--date", "28/11/2026"], "YYYY-MM-DD"),
    # config files
    *[(["config", "check", f"{{tmp}}/{name}.toml"], says) for name, (_, says) in CONFIGS.items()],
    (["screen", "--temp", "36.6", "--config", "{tmp}/threshold.toml"], "screening.threshold_c"),
    # roster CSVs
    *[(["roster", "import", f"{{tmp}}/{name}.csv"], says) for name, (_, says) in ROSTERS.items()],
    (["roster", "import", "{tmp}/absent.csv"], "cannot read"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad")
    for name, (content, _) in CONFIGS.items():
        (tmp / f"{name}.toml").write_text(content, encoding="utf-8")
    for name, (content, _) in ROSTERS.items():
        (tmp / f"{name}.csv").write_text(content, encoding="utf-8")
    return tmp


def test_the_table_is_at_least_thirty_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize("args, says", CASES, ids=[" ".join(a)[:60] for a, _ in CASES])
def test_bad_input_is_refused_clearly_and_stores_nothing(files, args, says):
    db = files / f"db-{abs(hash(tuple(args)))}.db"
    argv = [a.replace("{tmp}", str(files)) for a in args]
    needs_db = argv[0] not in ("config", "read") and not (argv[0] == "export" and argv[1] == "verify")
    out = run_gate(*argv, *(["--db", db] if needs_db else []))
    assert out.returncode != 0, out.stdout
    assert says in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    if db.exists():
        con = sqlite3.connect(db)
        tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
        for table in ("screenings", "entrants", "calibrations"):
            if table in tables:
                assert con.execute(f"select count(*) from {table}").fetchone()[0] == 0, table
        con.close()
