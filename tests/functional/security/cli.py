"""In-process `gate` calls for the security tests: exit code, stdout, stderr; a PIN on standard input."""
import io
import sys

from gate.cli import main


def run_gate(capsys, monkeypatch, *argv, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "Traceback" not in out.out
    return code, out.out, out.err
