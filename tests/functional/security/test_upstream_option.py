"""Every command that takes --upstream (sync, school report, upstream maintenance, the bureau's) refuses a URL that
carries a password before it opens anything, and never repeats the password: the command line is visible to every
account on the machine (ps), so the password belongs in ~/.pgpass. Found by walking the real parser, so a command
added later with its own --upstream is held to the same rule."""
import argparse

import pytest

from gate.cli import build_parser
from tests.functional.security.cli import run_gate

PASSWORD = "Tq7-district-only"


def upstream_commands() -> list[tuple[str, ...]]:
    found = []

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        if "--upstream" in parser._option_string_actions:
            found.append(path)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    if sub is not parser and name not in ("run",):  # `sync run` is `sync send` under another name
                        walk(sub, (*path, name))

    walk(build_parser(every_command=True), ())
    return found


def test_the_commands_with_an_upstream_are_found():
    found = upstream_commands()
    assert {("sync", "send"), ("sync", "verify"), ("school", "report"), ("upstream", "maintain"),
            ("bureau", "daily"), ("bureau", "late"), ("bureau", "export"), ("bureau", "serve")} <= set(found)


@pytest.mark.parametrize("command", upstream_commands(), ids=" ".join)
@pytest.mark.parametrize("url", ["postgresql://bureau:{pw}@district-db/screening",
                                 "postgresql://bureau@district-db/screening?password={pw}"])
def test_a_password_in_the_upstream_url_is_refused_before_anything_and_not_repeated(command, url, capsys,
                                                                                     monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_gate(capsys, monkeypatch, *command, "--upstream", url.format(pw=PASSWORD))
    assert code == 2 and "contains a password" in err and ".pgpass" in err
    assert PASSWORD not in out + err
    assert list(tmp_path.iterdir()) == []  # no log, key or export made on the way
