"""The layers of the house hold (import-linter, contracts in pyproject.toml), and each contract refuses the import
that would break it."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

LINT = str(Path(sys.executable).with_name("lint-imports"))
PACKAGES = ("domain", "drivers", "sim", "storage", "gate")


def lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "300"}  # one contract, one line
    return subprocess.run([LINT, "--no-cache"], cwd=root, capture_output=True, text=True, env=env)


def test_every_import_contract_is_kept():
    out = lint(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Contracts: 4 kept, 0 broken." in out.stdout


@pytest.mark.parametrize("module, code, contract", [
    ("storage/chain.py", "import gate.station", "Layers"),
    ("sim/port.py", "from gate import policy", "Layers"),
    ("drivers/sensor.py", "def later():\n    import storage.log", "Layers"),  # hidden in a function: still caught
    ("storage/records.py", "import drivers.base", "Layers"),  # storage and drivers know nothing of each other
    ("domain/reading.py", "import storage.chain", "The domain imports nothing of the project"),
    ("gate/policy.py", "import gate.ui.app", "Only the command line starts the duty screen"),
    ("gate/station.py", "import textual.app", "Only gate.ui imports textual"),
])
def test_each_contract_refuses_an_import_that_breaks_it(tmp_path, module, code, contract):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.onnx",
                                                                                          "*.npz"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / module).open("a", encoding="utf-8") as f:
        f.write(f"\n\n{code}  # noqa\n")
    out = lint(tmp_path)
    assert out.returncode != 0
    broken = [line for line in out.stdout.splitlines() if "BROKEN" in line]
    assert any(line.startswith(contract) for line in broken), out.stdout
