"""The core never imports the UI toolkit: drivers, storage, sim, the policy and the station run without textual."""
import subprocess
import sys

from tests.conftest import env_with_root

CORE = ["drivers", "drivers.registry", "drivers.sensor", "drivers.manual", "drivers.measurement", "storage",
        "storage.log", "sim", "sim.simulator", "sim.camera", "gate.policy", "gate.station", "gate.config", "gate.cli",
        "gate.mask.check", "gate.mask.camera", "gate.mask.train", "gate.retests", "gate.calibration_procedure"]


def test_core_modules_do_not_import_textual():
    code = ("import sys, importlib\n"
            f"for m in {CORE!r}: importlib.import_module(m)\n"
            "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
            "print(bad)\n"
            "sys.exit(1 if bad else 0)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env_with_root())
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip() == "[]"


def test_only_gate_ui_imports_textual_anywhere_in_the_code():
    # The import above covers what the core loads at start; this covers every module, lazy imports included.
    import ast

    from tests.support import ROOT

    offenders, scanned = [], 0
    for package in ("domain", "drivers", "storage", "sim", "gate"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.is_relative_to(ROOT / "gate" / "ui"):
                continue
            scanned += 1
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "textual"]
    assert offenders == [] and scanned > 50  # the scan saw the whole core
