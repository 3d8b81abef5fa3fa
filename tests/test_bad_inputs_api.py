"""Bad arguments through the Python API (issue 7): each raises a :mod:`toolkit.errors` type, one line long.

``connect()``, ``audit()``, ``MetadataDocument``, the catalog lookups, ``compare_mobile``, ``write_outputs``,
``load_folder`` and ``DemoOrg`` name the argument, the value and what is allowed; never a bare
``ValueError``/``TypeError``/``KeyError``/``OSError`` and never a secret. (The command-line cases are in
tests/test_bad_inputs.py.)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import toolkit
from toolkit.analysis.summary import to_csv, write_outputs
from toolkit.analysis.tables import build_tables
from toolkit.demoorg import DemoOrg
from toolkit.errors import ArgumentError, OrgError, SourceError, ToolkitError, UnknownFieldError
from toolkit.model import catalog
from toolkit.model.bundle import Inventory
from toolkit.model.document import MetadataDocument
from toolkit.redact import redact
from toolkit.sources.sfdx import load_folder

NS = b'xmlns="http://soap.sforce.com/2006/04/metadata"'
SECRET = "00D000000000001!AQsecretSECRETsecretSECRETsecret"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
URL = "https://acme.my.salesforce.com"


def deep(depth: int) -> bytes:
    return b"<ConnectedApp " + NS + b">" + b"<x>" * depth + b"</x>" * depth + b"</ConnectedApp>"


@pytest.fixture(scope="module")
def org() -> Iterator[Any]:
    with DemoOrg(apps=3, ecas=1, seed=5) as demo:
        with toolkit.connect(
            instance_url=demo.instance_url, access_token=demo.access_token, ca_file=demo.ca_file
        ) as connected:
            connected.demo = demo
            yield connected


Call = Callable[[Any], object]
C = dict  # keyword arguments of connect()


def _connect(**kw: Any) -> Call:
    return lambda org: toolkit.connect(**kw)


API_CASES: list[tuple[str, Call, type[ToolkitError], str]] = [
    # connect() ---------------------------------------------------------------------------------------------
    (
        "connect-url-not-a-url",
        _connect(instance_url="not a url", access_token=SECRET),
        ArgumentError,
        "not a URL",
    ),
    (
        "connect-url-http",
        _connect(instance_url="http://acme.my.salesforce.com", access_token=SECRET),
        ArgumentError,
        "refused, not rewritten",
    ),
    (
        "connect-url-ftp",
        _connect(instance_url="ftp://x.example.com", access_token=SECRET),
        ArgumentError,
        "ftp",
    ),
    ("connect-url-path", _connect(instance_url=URL + "/home", access_token=SECRET), ArgumentError, "path"),
    ("connect-url-empty", _connect(instance_url="", access_token=SECRET), ArgumentError, "instance_url"),
    ("connect-url-number", _connect(instance_url=42, access_token=SECRET), ArgumentError, "instance_url"),
    (
        "connect-login-url-http",
        _connect(login_url="http://login.salesforce.com", username="u", password=SECRET),
        ArgumentError,
        "login_url",
    ),
    (
        "connect-concurrency-0",
        _connect(instance_url=URL, access_token=SECRET, concurrency=0),
        ArgumentError,
        "from 1 to 64",
    ),
    (
        "connect-concurrency-neg",
        _connect(instance_url=URL, access_token=SECRET, concurrency=-1),
        ArgumentError,
        "concurrency",
    ),
    (
        "connect-concurrency-bool",
        _connect(instance_url=URL, access_token=SECRET, concurrency=True),
        ArgumentError,
        "concurrency",
    ),
    (
        "connect-ca-missing",
        _connect(instance_url=URL, access_token=SECRET, ca_file="/nonexistent.pem"),
        ArgumentError,
        "no such file",
    ),
    (
        "connect-ca-dev-zero",
        _connect(instance_url=URL, access_token=SECRET, ca_file="/dev/zero"),
        ArgumentError,
        "not a regular file",
    ),
    ("connect-token-number", _connect(instance_url=URL, access_token=12345), ArgumentError, "access_token"),
    ("connect-token-blank", _connect(instance_url=URL, access_token="   "), ArgumentError, "access_token"),
    (
        "connect-api-version",
        _connect(instance_url=URL, access_token=SECRET, api_version="latest"),
        ArgumentError,
        "66.0",
    ),
    (
        "connect-key-file-missing",
        _connect(username="u", consumer_key="k", private_key_file="/nonexistent.key", login_url=URL),
        ArgumentError,
        "private_key_file",
    ),
    ("connect-target-number", _connect(target=7), ArgumentError, "target"),
    ("connect-nothing-usable", _connect(username="u"), SourceError, "connect() needs one of"),
    (
        "connect-wrong-password",
        lambda org: toolkit.connect(
            username=org.demo.username,
            password="wrong-" + SECRET,
            login_url=org.demo.instance_url,
            ca_file=org.demo.ca_file,
        ),
        OrgError,
        "login failed",
    ),
    (
        "connect-unreachable-ipv6",
        _connect(instance_url="https://[::1]:9", access_token=SECRET),
        OrgError,
        "https://[::1]:9",
    ),
    # audit() -----------------------------------------------------------------------------------------------
    ("audit-empty-text", lambda org: toolkit.audit(""), SourceError, "names no folder"),
    ("audit-blank-text", lambda org: toolkit.audit("   "), SourceError, "names no folder"),
    ("audit-none", lambda org: toolkit.audit(None), SourceError, "NoneType"),
    ("audit-number", lambda org: toolkit.audit(3), SourceError, "int"),
    ("audit-missing-folder", lambda org: toolkit.audit("/nonexistent-folder"), SourceError, "no such folder"),
    ("audit-window-0", lambda org: toolkit.audit(org, window_days=0), ArgumentError, "window_days"),
    ("audit-window-neg", lambda org: toolkit.audit(org, window_days=-7), ArgumentError, "from 1 to 3650"),
    ("audit-window-huge", lambda org: toolkit.audit(org, window_days=10**6), ArgumentError, "LoginHistory"),
    ("audit-window-text", lambda org: toolkit.audit(org, window_days="a week"), ArgumentError, "window_days"),
    ("load-folder-empty-text", lambda org: load_folder(""), SourceError, "names no folder"),
    ("load-folder-a-file", lambda org: load_folder(__file__), SourceError, "not a folder"),
    # MetadataDocument ------------------------------------------------------------------
    ("document-from-text", lambda org: MetadataDocument("<ConnectedApp/>"), ArgumentError, "bytes"),  # type: ignore[arg-type]
    ("document-from-none", lambda org: MetadataDocument(None), ArgumentError, "bytes"),  # type: ignore[arg-type]
    ("document-empty", lambda org: MetadataDocument(b""), ToolkitError, ""),
    ("document-not-xml", lambda org: MetadataDocument(b"{}"), ToolkitError, ""),
    ("document-1000-deep", lambda org: MetadataDocument(deep(1000)), ToolkitError, "nested more than 64"),
    ("document-2047-deep", lambda org: MetadataDocument(deep(2047)), ToolkitError, "nested more than 64"),
    ("document-3000-deep", lambda org: MetadataDocument(deep(3000)), ToolkitError, "2048 levels"),
    ("document-source-number", lambda org: MetadataDocument(b"<a/>", source=3), ArgumentError, "source"),  # type: ignore[arg-type]
    # catalog and compare_mobile --------------------------------------------------------
    ("catalog-unknown-field", lambda org: catalog.field("pin_lenght"), UnknownFieldError, "pin_lenght"),
    ("catalog-field-number", lambda org: catalog.field(5), UnknownFieldError, "text"),  # type: ignore[arg-type]
    ("catalog-unknown-group", lambda org: catalog.fields(group="mobil"), ToolkitError, "known: identity"),
    ("catalog-unknown-kind", lambda org: catalog.fields(kind="CA"), ToolkitError, "ConnectedApp"),
    (
        "catalog-read-value-none",
        lambda org: catalog.read_value(None, "pin_length"),
        ArgumentError,
        "AppBundle",
    ),
    ("compare-text", lambda org: toolkit.compare_mobile("apps"), ArgumentError, "Inventory"),  # type: ignore[arg-type]
    ("compare-empty-dict", lambda org: toolkit.compare_mobile({}), ArgumentError, "no 'apps' table"),
    ("compare-empty-frame", lambda org: toolkit.compare_mobile(pd.DataFrame()), ArgumentError, "lacks"),
    (
        "compare-unknown-app",
        lambda org: toolkit.compare_mobile(build_tables(Inventory()), apps=["Nope"]),
        ToolkitError,
        "no app 'Nope'",
    ),
    # findings and the mobile matrix ------------------------------------------------------------------------
    ("findings-none", lambda org: toolkit.findings(None), ArgumentError, "findings(tables) cannot be None"),  # type: ignore[arg-type]
    ("findings-frame", lambda org: toolkit.findings(pd.DataFrame()), ArgumentError, "dict of tables"),  # type: ignore[arg-type]
    ("findings-no-apps", lambda org: toolkit.findings({}), ArgumentError, "no 'apps' table"),
    (
        "findings-apps-without-name",
        lambda org: toolkit.findings({"apps": pd.DataFrame({"kind": ["ConnectedApp"]})}),
        ArgumentError,
        "lacks the column(s) name",
    ),
    ("matrix-empty-dict", lambda org: toolkit.mobile_matrix({}), ArgumentError, "no 'apps' table"),
    ("matrix-none", lambda org: toolkit.mobile_matrix(None), ArgumentError, "mobile_matrix(tables)"),  # type: ignore[arg-type]
    ("styled-matrix-empty", lambda org: toolkit.style_mobile_matrix({}), ArgumentError, "no 'apps' table"),
    ("twins-empty-dict", lambda org: toolkit.mobile_twins({}), ArgumentError, "no 'apps' table"),
    # outputs and the demo org -------------------------------------------------------------------------------
    (
        "write-outputs-empty-text",
        lambda org: write_outputs(build_tables(Inventory()), ""),
        ArgumentError,
        "out",
    ),
    (
        "write-outputs-into-a-file",
        lambda org: write_outputs(build_tables(Inventory()), __file__),
        ToolkitError,
        "not a folder",
    ),
    ("demo-org-port-neg", lambda org: DemoOrg(port=-1), ToolkitError, "port cannot be -1"),
    ("demo-org-port-huge", lambda org: DemoOrg(port=70000), ToolkitError, "0 to 65535"),
    ("demo-org-apps-text", lambda org: DemoOrg(apps="many"), ToolkitError, "apps"),  # type: ignore[arg-type]
    ("demo-org-latency-neg", lambda org: DemoOrg(latency_ms=-1), ToolkitError, "latency_ms"),
    ("demo-org-from-missing", lambda org: DemoOrg(from_dir="/nonexistent"), ToolkitError, "not a folder"),
]


@pytest.mark.parametrize("case", API_CASES, ids=[c[0] for c in API_CASES])
def test_bad_argument_raises_a_toolkit_error(
    case: tuple[str, Call, type[ToolkitError], str], org: Any
) -> None:
    _, call, kind, text = case
    with pytest.raises(ToolkitError) as info:
        call(org)
    assert isinstance(info.value, kind), type(info.value)
    message = str(info.value)
    assert text in message and "\n" not in message.strip(), message
    assert SECRET not in message and org.demo.access_token not in message
    assert "{content}" not in message


def test_argument_errors_stay_value_errors_and_lookups_key_errors() -> None:
    """Callers that caught ValueError / KeyError before still catch the new types."""
    with pytest.raises(ValueError):
        toolkit.connect(instance_url=URL, access_token=SECRET, concurrency=0)
    with pytest.raises(KeyError):
        catalog.field("nope")
    assert (
        str(UnknownFieldError("catalog", "nope")) == "catalog: no field 'nope'"
    )  # not quoted like a KeyError


def test_demo_org_start_that_fails_leaves_no_temp_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A port in use: DemoOrgError, and the folder with the JWT private key is gone."""
    import socket
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(ToolkitError, match="in use"):
            DemoOrg(apps=1, ecas=0, port=busy.getsockname()[1]).start()
    assert not list(tmp_path.iterdir())


def test_sf_access_token_does_not_disturb_the_demo_org(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--org demo`` with SF_ACCESS_TOKEN exported (the documented way to pass a token) uses the demo org."""
    import argparse

    from toolkit.commands.options import add_source_arguments, open_org, require_source

    monkeypatch.setenv("SF_ACCESS_TOKEN", SECRET)
    parser = argparse.ArgumentParser()
    add_source_arguments(parser)
    args = parser.parse_args(["--org", "demo"])
    require_source(args)
    with open_org(args, apps=1, ecas=0) as connected:
        assert connected.auth == "demo" and connected.sf.session_id != SECRET


def test_redaction_keeps_the_word_after_an_error_code() -> None:
    assert (
        redact("INVALID_SESSION_ID: Session expired or invalid")
        == "INVALID_SESSION_ID: Session expired or invalid"
    )
    assert redact("access_token=abc123def") == "access_token=****"
    assert redact("SF_ACCESS_TOKEN=abc123def") == "SF_ACCESS_TOKEN=****"


def test_failed_login_says_why_not_a_template(org: Any) -> None:
    with pytest.raises(OrgError) as info:
        toolkit.connect(
            username=org.demo.username,
            password="wrong",
            login_url=org.demo.instance_url,
            ca_file=org.demo.ca_file,
        )
    assert "{content}" not in str(info.value) and "INVALID_LOGIN" in str(info.value)


def test_csv_cells_that_start_a_formula_are_neutralised() -> None:
    frame = pd.DataFrame({"a": ["=1+1", "+1", "-1", "@x", "\tx", "ok", None], "n": [1, 2, 3, 4, 5, 6, -7]})
    lines = to_csv(frame).splitlines()[1:]
    assert [line.split(",")[0] for line in lines] == ["'=1+1", "'+1", "'-1", "'@x", "'\tx", "ok", ""]
    assert lines[-1].endswith(",-7")  # numbers stay numbers


def test_write_outputs_replaces_the_previous_run_atomically(tmp_path: Path) -> None:
    out = tmp_path / "out"
    tables = build_tables(load_folder(EXAMPLES))
    write_outputs({**tables, "usage": pd.DataFrame({"x": [1]})}, out)
    assert (out / "usage.csv").exists()
    write_outputs(tables, out)
    assert not (out / "usage.csv").exists()  # a file of the earlier run does not survive
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temp folder left beside it
    assert all(p.stat().st_size > 0 for p in out.iterdir())
    assert oct(out.stat().st_mode & 0o777) == oct(0o755) or os.geteuid() != 0
