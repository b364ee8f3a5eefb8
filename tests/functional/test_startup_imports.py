"""What `gate --help` and `gate screen` load, module by module, in a fresh interpreter (the process is the point:
sys.modules starts empty). The time itself is measured by bench/cli_startup.py; these keep its gains from slipping."""
import json
import subprocess
import sys

from tests.support import env_with_root


def modules_after(argv: list[str]) -> set[str]:
    code = ("import sys, json\nfrom gate.cli import main\n"
            f"code = main({argv!r})\n"
            "print(json.dumps([code, sorted(sys.modules)]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env_with_root(),
                         timeout=120)
    code, modules = json.loads(out.stdout.strip().splitlines()[-1])
    assert code == 0, out.stderr
    return set(modules)


def test_help_loads_only_the_domain_errors_and_identifiers():
    loaded = modules_after(["--help"])
    assert {m for m in loaded if m.startswith("domain.")} <= {"domain.errors", "domain.identifiers"}  # arg types
    assert not {m for m in loaded if m.startswith(("storage", "drivers", "pydantic", "sqlalchemy"))}


def test_screening_does_not_load_the_orm_or_alembic(db_path):
    argv = ["screen", "--temp", "36.6", "--mask", "yes", "--operator", "li", "--db", str(db_path)]
    assert "alembic" in modules_after(argv)  # the first screening makes the log's schema
    loaded = modules_after(argv)  # a station's log exists already
    assert "sqlalchemy" in loaded and {"storage.tables.log", "storage.tables.station"} <= loaded
    assert not {m for m in loaded if m.startswith(("sqlalchemy.orm", "alembic"))}
    assert not {m for m in loaded if m.startswith(NOT_FOR_SCREENING)}
    assert "gate.followup" not in loaded  # an admitted screening opens no case: the case machinery is not loaded
    assert not loaded & NOT_FOR_A_TYPED_ADMIT
    # the messages are JSON, read by the C decoder: without a config file nothing parses TOML
    assert not {m for m in loaded if m.startswith("tomllib")} and "gate.i18n" in loaded


# What `gate screen` has no use for: the sync and the upstream's tables (it reads what was pulled, never pulls), the
# school day's and the bureau's reports, exports, migrations, the ORM.
NOT_FOR_SCREENING = ("storage.upstream", "storage.upstream_schema", "storage.sync", "storage.copy_sync",
                     "storage.school_cases", "storage.school_report", "storage.bureau", "storage.export",
                     "storage.district_export", "storage.retention", "gate.school_day", "gate.cli.sync",
                     "alembic", "sqlalchemy.orm", "psycopg", "textual",
                     # the config is read by msgspec: pydantic (and the package metadata its plugin loader reads) is
                     # not installed for it; the hints for misspelled keys and the example config load only when asked
                     "pydantic", "difflib", "gate.config_example",
                     # a typed reading opens no port: no pyserial, no live sensor, no protocol's framing or presets;
                     # the config's cluster bounds come without the cluster finder
                     "serial", "drivers.sensor", "drivers.transport", "drivers.text_line", "drivers.modbus_maps",
                     "drivers.device", "gate.clusters",
                     # a typed reading needs no calibration rules, and nothing on its path takes a median or a mean
                     "gate.calibration", "statistics", "fractions",
                     # nor the calibration record classes: the config takes its limits from domain.tolerances
                     "domain.calibration",
                     # the catalogue of every table is for Alembic: a screening builds only the groups it uses
                     # (storage.tables), and the calibration records' and daily reports' tables never
                     "storage.models", "storage.tables.records",
                     # a log given with --db needs no default data folder
                     "platformdirs")


# What an anonymous typed reading that is admitted never builds (each dataclass is compiled when its module loads,
# bench/cli_startup.py): a device's samples and measurements and the live station's log failures, a person's cases,
# holds, clearances and roster entry (loaded once a screening names someone), a chain's verification result, a
# policy change (only when a config differs from the stored policy) and a signed-in user (only with PINs on).
NOT_FOR_A_TYPED_ADMIT = {"drivers.samples", "drivers.measurement", "gate.log_failure", "domain.case", "domain.held",
                         "domain.clearance", "domain.entrant", "storage.clearances", "storage.cases", "storage.held",
                         "storage.school_records", "storage.pulled_cases", "storage.trust", "storage.roster",
                         "storage.verify_result", "gate.policy_change", "gate.user",
                         # nor the tables of the roster, of cases and clearances, of the other gates' records and of
                         # the sync's state (how far the other gates' records were pulled)
                         "storage.tables.roster", "storage.tables.cases", "storage.tables.school",
                         "storage.tables.sync"}


def test_a_fever_screening_of_a_pupil_loads_nothing_it_does_not_use(db_path):
    def screen(temp: str) -> set[str]:
        return modules_after(["screen", "--temp", temp, "--mask", "yes", "--operator", "li", "--entrant", "P42",
                              "--db", str(db_path)])

    screen("39.4")  # the retest asked for (and the log made)
    confirmed = screen("39.4")  # the fever confirmed: its follow-up case opens
    refused = screen("36.4")  # the next morning's look-up: the fever memory and the other gates' pulled records
    for loaded in (confirmed, refused):
        assert {"gate.followup", "storage.school_records", "storage.cases"} <= loaded
        assert not {m for m in loaded if m.startswith(NOT_FOR_SCREENING)}


def test_the_command_process_freezes_its_modules_out_of_the_collector_and_keeps_it_on(db_path):
    argv = ["gate", "screen", "--temp", "36.6", "--mask", "yes", "--operator", "li", "--db", str(db_path)]
    code = ("import gc, json, sys\nfrom gate.cli import main\n"
            f"sys.argv = {argv!r}\n"
            "code = main()\n"
            "print(json.dumps([code, gc.isenabled(), gc.get_freeze_count()]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env_with_root(),
                         timeout=120)
    code, enabled, frozen = json.loads(out.stdout.strip().splitlines()[-1])
    assert code == 0 and enabled, out.stderr
    assert frozen > 10_000  # the modules, classes and tables the command loaded


def test_commands_run_in_one_process_leave_the_collector_as_they_found_it(db_path):
    import gc

    from gate.cli import main

    frozen = gc.get_freeze_count()
    assert main(["screen", "--temp", "36.6", "--mask", "yes", "--operator", "li", "--db", str(db_path)]) == 0
    assert main(["screen", "--temp", "nonsense", "--db", str(db_path)]) == 2
    assert gc.isenabled() and gc.get_freeze_count() == frozen  # the tests' own garbage stays collectable
    gc.disable()
    try:
        assert main(["--help"]) == 0
        assert not gc.isenabled()  # a caller that turned it off keeps it off
    finally:
        gc.enable()


def test_a_screening_with_a_config_file_checks_it_without_the_config_s_heavy_helpers(db_path, tmp_path):
    config = tmp_path / "station.toml"
    config.write_text('[station]\nid = "north"\n[screening]\nthreshold_c = 37.5\n[[sensors]]\nid = "gun-1"\n'
                      'protocol = "gy-mcu90614"\nurl = "/dev/ttyUSB0"\n', encoding="utf-8")
    argv = ["screen", "--config", str(config), "--temp", "36.6", "--mask", "yes", "--operator", "li",
            "--db", str(db_path)]
    modules_after(argv)  # the log made
    loaded = modules_after(argv)
    assert {"msgspec", "gate.config", "gate.config_checks", "tomllib"} <= loaded  # the file is read, every key checked
    assert not {m for m in loaded if m.startswith(NOT_FOR_SCREENING)}
    assert not loaded & NOT_FOR_A_TYPED_ADMIT  # a config with sensors measures nothing when a reading is typed
