"""A bench's command line, from its defaults: every bench takes a few numbers (rows, rounds, a seed ...) and prints
JSON, so one function builds each bench's options instead of an argparse block in each."""
from __future__ import annotations

import argparse


def options(doc: str, helps: dict[str, str] | None = None, **defaults: object) -> argparse.Namespace:
    """The command line of the bench whose docstring is ``doc``: one ``--name`` (underscores written as dashes) per
    default, typed like the default; a default of None takes text, False is a switch. ``helps``: a line per name."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    for name, default in defaults.items():
        flag, help = "--" + name.replace("_", "-"), (helps or {}).get(name)
        if default is False:
            parser.add_argument(flag, action="store_true", help=help)
        elif default is None:
            parser.add_argument(flag, help=help)
        else:
            parser.add_argument(flag, type=type(default), default=default, help=help)
    return parser.parse_args()
