"""Argument checks shared by the Python API and the commands: one rule, one message, wherever a value enters.

Each check returns the value (normalised) or raises :class:`~toolkit.errors.ArgumentError` naming the
argument (``--concurrency`` on the command line, ``concurrency`` in Python), the value and what is allowed.

>>> whole_number("--concurrency", "4", 1, MAX_CONCURRENCY)
4
>>> https_base_url("instance_url", "https://acme.my.salesforce.com/")
'https://acme.my.salesforce.com'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ArgumentError

# more parallel requests than this only trip Salesforce's own limits (25 long-running requests per org)
MAX_CONCURRENCY = 64
# usage window: LoginHistory is kept about 6 months, OauthToken.LastUsedDate as long as the token lives;
# ten years is the most that can mean anything (and keeps LAST_N_DAYS:n a sane SOQL literal)
MIN_WINDOW_DAYS, MAX_WINDOW_DAYS = 1, 3650
WINDOW_WHY = (
    "days of usage history to read; LoginHistory keeps about 6 months, so a longer window only widens "
    "what OauthToken.LastUsedDate counts"
)
MAX_CA_FILE_BYTES = 10 * 1024 * 1024  # a CA bundle is a few hundred KB (certifi's is ~300 KB)
_URL_EXAMPLE = "https://HOST[:PORT] such as https://acme.my.salesforce.com"


def whole_number(name: str, value: object, low: int, high: int, *, why: str = "") -> int:
    """``value`` as an int in ``low..high`` (a CLI string is accepted), else :class:`ArgumentError`.

    >>> whole_number("--window-days", 0, 1, 3650)
    Traceback (most recent call last):
    toolkit.errors.ArgumentError: --window-days cannot be 0; allowed: a whole number from 1 to 3650
    """
    allowed = f"a whole number from {low} to {high}"
    if isinstance(value, bool):
        raise ArgumentError(name, value, allowed, why=why)
    if isinstance(value, str):
        text = value.strip()
        number = int(text) if text.lstrip("+-").isdigit() and text.isascii() else None
    elif isinstance(value, int):
        number = value
    else:
        number = None
    if number is None or not low <= number <= high:
        raise ArgumentError(name, value, allowed, why=why)
    return number


def https_base_url(name: str, value: object) -> str:
    """An org's base URL: ``https://HOST[:PORT]`` (IPv6 hosts in brackets), no path, query or user info.

    ``http://`` and other schemes are refused, not rewritten: Salesforce serves its APIs over HTTPS only,
    and a silently rewritten URL may reach another server than the one meant.

    >>> https_base_url("--instance-url", "http://acme.my.salesforce.com")
    Traceback (most recent call last):
    toolkit.errors.ArgumentError: --instance-url cannot be 'http://acme.my.salesforce.com'; allowed: ...
    >>> https_base_url("instance_url", "https://[::1]:8443")
    'https://[::1]:8443'
    """
    if not isinstance(value, str) or not value.strip():
        raise ArgumentError(name, value, _URL_EXAMPLE, why="it is empty" if value == "" else "not a URL")
    text = value.strip()
    if "://" not in text or any(c.isspace() for c in text):
        raise ArgumentError(name, value, _URL_EXAMPLE, why="it is not a URL")
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise ArgumentError(name, value, _URL_EXAMPLE, why=f"it is not a valid URL: {exc}") from None
    if parts.scheme.lower() != "https":
        raise ArgumentError(
            name, value, _URL_EXAMPLE,
            why=f"{parts.scheme}:// is refused, not rewritten: Salesforce APIs are served over HTTPS only",
        )
    if not host:
        raise ArgumentError(name, value, _URL_EXAMPLE, why="it has no host")
    if parts.username is not None or parts.password is not None:
        raise ArgumentError(name, "https://…@" + (parts.netloc.rsplit("@", 1)[-1]), _URL_EXAMPLE,
                            why="user names and passwords do not belong in the URL")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ArgumentError(
            name, value, _URL_EXAMPLE,
            why="give the org's base URL without a path: the toolkit adds /services/... itself",
        )
    if port == 0:
        raise ArgumentError(name, value, _URL_EXAMPLE, why="port 0 is not a port")
    netloc = f"[{host}]" if ":" in host else host
    return f"https://{netloc}" + (f":{port}" if port is not None else "")


def pem_file(name: str, value: object) -> str:
    """A readable PEM file of certificates (a CA bundle such as a demo org's ``ca_file``).

    >>> pem_file("--ca-file", "/nonexistent.pem")
    Traceback (most recent call last):
    toolkit.errors.ArgumentError: --ca-file cannot be '/nonexistent.pem'; allowed: ... (no such file)
    """
    allowed = "a PEM file of CA certificates (-----BEGIN CERTIFICATE-----)"
    if not isinstance(value, str | os.PathLike) or not str(value):
        raise ArgumentError(name, value, allowed)
    path = Path(value)
    if not path.exists():
        raise ArgumentError(name, str(value), allowed, why="no such file")
    if not path.is_file():
        raise ArgumentError(name, str(value), allowed, why="not a regular file")
    try:
        with path.open("rb") as f:
            head = f.read(MAX_CA_FILE_BYTES + 1)
    except OSError as exc:
        raise ArgumentError(name, str(value), allowed, why=f"cannot read it: {exc.strerror}") from None
    if len(head) > MAX_CA_FILE_BYTES:
        raise ArgumentError(name, str(value), allowed, why=f"larger than {MAX_CA_FILE_BYTES >> 20} MB")
    if b"-----BEGIN CERTIFICATE-----" not in head:
        raise ArgumentError(name, str(value), allowed, why="it holds no PEM certificate")
    return str(path)


def folder_path(name: str, value: object) -> Path:
    """A folder path that is not empty text (``''`` would silently mean the current folder).

    >>> folder_path("--out", "")
    Traceback (most recent call last):
    toolkit.errors.ArgumentError: --out cannot be ''; allowed: a folder path (...)
    """
    if isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ArgumentError(name, value, "a folder path", why="'' would mean the current folder")
    if "\x00" in value:
        raise ArgumentError(name, value, "a folder path", why="it holds a NUL character")
    return Path(value)


TABLES_ALLOWED = "the dict of tables from toolkit.audit() (an 'apps' DataFrame with name and kind columns)"


def audit_tables(name: str, value: object) -> dict[str, Any]:
    """``value`` if it is a dict of audit tables whose ``apps`` table has ``name`` and ``kind``.

    >>> audit_tables("findings(tables)", {})
    Traceback (most recent call last):
    toolkit.errors.ArgumentError: findings(tables) cannot be '<dict of 0>'; allowed: the dict of tables ...
    """
    import pandas as pd

    if not isinstance(value, dict):
        shown = None if value is None else f"<{type(value).__name__}>"
        raise ArgumentError(name, shown, TABLES_ALLOWED)
    apps = value.get("apps")
    if not isinstance(apps, pd.DataFrame):
        why = "it has no 'apps' table" if apps is None else f"its 'apps' is a {type(apps).__name__}"
        raise ArgumentError(name, f"<dict of {len(value)}>", TABLES_ALLOWED, why=why)
    missing = [c for c in ("name", "kind") if c not in apps.columns]
    if missing:
        raise ArgumentError(
            name, f"<dict of {len(value)}>", TABLES_ALLOWED,
            why=f"its 'apps' table lacks the column(s) {', '.join(missing)}",
        )
    return value
