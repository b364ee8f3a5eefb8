"""The core never imports the UI toolkit: drivers, storage, sim, the policy and the station run without textual."""
import subprocess
import sys

from tests.conftest import env_with_root

CORE = ["drivers", "drivers.registry", "drivers.sensor", "drivers.manual", "drivers.measurement", "storage",
        "storage.log", "sim", "sim.simulator", "sim.camera", "gate.policy", "gate.station", "gate.config", "gate.cli",
        "gate.mask.check", "gate.mask.camera", "gate.mask.train"]


def test_core_modules_do_not_import_textual():
    code = ("import sys, importlib\n"
            f"for m in {CORE!r}: importlib.import_module(m)\n"
            "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
            "print(bad)\n"
            "sys.exit(1 if bad else 0)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env_with_root())
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip() == "[]"
