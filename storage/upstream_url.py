"""The upstream's URL as the station accepts it: never with a password in it, and encrypted by default.

- A password in the URL (``postgresql://gate:secret@host/db`` or ``?password=``) is refused, in the config and on the
  command line alike: the config is read by more people than the password should be, and an argument is seen by
  everyone on the machine in ``ps``. libpq finds the password itself in a password file (``~/.pgpass``, or the file
  ``PGPASSFILE`` names, mode 0600) or in ``PGPASSWORD``.
- A PostgreSQL upstream on another machine is reached with ``sslmode=verify-full`` unless the URL (or ``PGSSLMODE``)
  says otherwise: libpq's own default, ``prefer``, silently falls back to plain text. A local upstream (a Unix
  socket, localhost, 127.0.0.1, ::1) is left as it is.
"""
from __future__ import annotations

import os

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from domain.errors import UsageError

LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1", "[::1]"}
SECURE_DEFAULT = "verify-full"
PASSWORD_HELP = ("leave the password out of the URL and put it in a password file (a line host:port:database:user:"
                 "password in ~/.pgpass of the station's account, or in the file PGPASSFILE names, mode 0600) or in "
                 "the environment (PGPASSWORD); libpq reads them itself")
RELAX_HELP = ("to relax it, say so in the URL in the config, e.g. [upstream] url = \"postgresql://gate@HOST/DB?"
              "sslmode=require\" (encrypted, certificate not checked) or sslrootcert=system (the system's trusted "
              "certificate authorities)")


class UpstreamUrlError(UsageError):
    """An upstream URL the station will not use; the message says why and what to do, never the password."""


def parse(url: str) -> URL:
    from storage.upstream import normalise_url  # the one place that knows postgresql:// means psycopg 3

    try:
        return make_url(normalise_url(url))
    except (ArgumentError, ValueError) as exc:
        raise UpstreamUrlError(f"the upstream URL is not a database URL ({' '.join(str(exc).split())[:120]}): "
                               "write it as postgresql://USER@HOST:PORT/DATABASE") from None


def check(url: str) -> str:
    """``url`` unchanged when it carries no password; else UpstreamUrlError saying how to give the password."""
    parsed = parse(url)
    if parsed.password or any(k.lower() == "password" for k in parsed.query):
        shown = parsed.set(password=None, query={k: v for k, v in parsed.query.items() if k.lower() != "password"})
        raise UpstreamUrlError(f"the upstream URL {shown.render_as_string(hide_password=True)} contains a password: "
                               f"{PASSWORD_HELP}")
    return url


def is_local(parsed: URL) -> bool:
    """Every host the URL names is this machine (a Unix socket folder, localhost, the loopback address)."""
    extra = parsed.query.get("host", ())
    hosts = [parsed.host or "", *((extra,) if isinstance(extra, str) else extra)]
    return all(h.lower() in LOCAL_HOSTS or h.startswith("/") for h in hosts)


def sslmode(url: str) -> str | None:
    """The sslmode the station adds for ``url``: verify-full for a PostgreSQL upstream on another machine whose URL
    (and environment) names none; None when the URL's own choice (or libpq's, for a local one) stands."""
    parsed = parse(url)
    if not parsed.drivername.startswith("postgresql") or "sslmode" in parsed.query or os.environ.get("PGSSLMODE"):
        return None
    return None if is_local(parsed) else SECURE_DEFAULT


def explain(message: str, url: str) -> str:
    """A connection failure, with what to do when it came from the certificate check the station asked for."""
    if sslmode(url) is None:
        return message
    words = message.lower()
    if any(w in words for w in ("ssl", "certificate", "root.crt", "tls")):
        return (f"{message} — the station reaches an upstream on another machine with sslmode={SECURE_DEFAULT} "
                f"(encrypted, and the server's certificate must be valid for its host name); {RELAX_HELP}")
    return message
