"""In-process `gate` calls for the security tests: exit code, stdout, stderr; a PIN on standard input; never a
traceback."""
from tests import support


def run_gate(capsys, monkeypatch, *argv, stdin: str = "", clock=None) -> tuple[int, str, str]:
    r = support.run_gate(*argv, input=stdin, newline="", clock=clock)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    return r.returncode, r.stdout, r.stderr
