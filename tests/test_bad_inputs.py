"""Bad inputs and faults through ``python -m toolkit ...``, as a demanding tester types them (issue 7).

Every case ends in one clear line (exit 2, ``error: ...`` alone on stderr, no output written) or a flagged
result (exit 0 with a problem row, exit 3 with the PARTIAL reason): never a traceback, never a run without a
bound (each has a timeout), never exit 0 after a failure, never a secret in what is printed or written, and
never a temporary folder left behind (each run gets its own ``TMPDIR``; outputs are swapped in by rename).

All command-line cases run at once, a few in parallel, in one module fixture; each test then checks one.
The Python API cases are in tests/test_bad_inputs_api.py.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from toolkit.demoorg import DemoOrg

REPO = Path(__file__).resolve().parent.parent
NS = 'xmlns="http://soap.sforce.com/2006/04/metadata"'
WRONG_TOKEN = "00D000000000001!AQwrongTOKENwrongTOKENwrongTOKENwrong"
TIMEOUT = 90  # seconds: any case still running after this is a failure (a hang), never a wait for ever


def app_xml(name: str, label: str | None = None, inner: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ConnectedApp {NS}><label>{label or name}</label>'
        f"<contactEmail>a@example.com</contactEmail>{inner}</ConnectedApp>\n"
    ).encode()


def nested(depth: int) -> bytes:
    """A connected app whose body nests ``depth`` elements (RecursionError bait)."""
    return app_xml("Deep", inner="<description>" + "<x>" * depth + "</x>" * depth + "</description>")


def good(folder: Path, *extra: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Good.connectedApp-meta.xml").write_bytes(app_xml("Good"))
    for name in extra:
        (folder / name).write_bytes(app_xml(name.split(".")[0]))
    return folder


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Folders of bad files, made once: FIFOs, devices, huge, deep, undecodable names, odd project files."""
    root = tmp_path_factory.mktemp("lab")
    os.mkfifo(good(root / "fifo") / "F.connectedApp-meta.xml")
    (root / "fifo_only").mkdir()
    os.mkfifo(root / "fifo_only" / "F.connectedApp-meta.xml")
    (good(root / "zero") / "Z.connectedApp-meta.xml").symlink_to("/dev/zero")
    with open(good(root / "big") / "Big.connectedApp-meta.xml", "wb") as f:
        f.truncate(11 * 1024 * 1024)  # sparse: costs no disk
    for depth in (1000, 2047, 3000):
        (good(root / f"deep{depth}") / "Deep.connectedApp-meta.xml").write_bytes(nested(depth))
    badname = good(root / "badname")
    (badname / os.fsdecode(b"Caf\xe9.connectedApp-meta.xml")).write_bytes(app_xml("Cafe"))
    (good(root / "deepjson") / "sfdx-project.json").write_text('{"a":' * 100_000 + "1" + "}" * 100_000)
    os.mkfifo(good(root / "fifojson") / "sfdx-project.json")
    (good(root / "notjson") / "sfdx-project.json").write_text("{ not json")
    (good(root / "nopkgdir") / "sfdx-project.json").write_text('{"packageDirectories": [{"path": "nope"}]}')
    (root / "broken_only").mkdir()
    (root / "broken_only" / "A.connectedApp-meta.xml").write_text("<ConnectedApp><label>x</ConnectedApp>")
    evil = root / "formulas"
    evil.mkdir()
    (evil / "Evil.connectedApp-meta.xml").write_bytes(
        app_xml(
            "Evil",
            label='=HYPERLINK("http://evil.example.com","x")',
            inner="<description>@SUM(A1)</description>",
        )
    )
    (root / "a_file.txt").write_text("not a folder")
    (root / "not.pem").write_text("hello, not a certificate")
    (root / "ca_folder").mkdir()
    yield root


@pytest.fixture(scope="module")
def orgs() -> Iterator[dict[str, DemoOrg]]:
    """A small running demo org, and one whose SOQL always fails (an audit of it can only be partial)."""
    with DemoOrg(apps=6, ecas=2, seed=3) as org, DemoOrg(apps=4, ecas=1, seed=4) as faulty:
        faulty.inject_fault("http500", operation="query")
        yield {"org": org, "faulty": faulty}


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


Check = Callable[[subprocess.CompletedProcess[str], Path], None]


@dataclass
class Case:
    id: str
    argv: list[str]
    rc: int
    text: str = ""  # expected in stderr (exit 2/3) or in stdout+stderr (exit 0)
    prepare: Callable[[Path], None] | None = None  # gets the case's --out path before the run
    check: Check | None = None
    env: dict[str, str | None] = field(default_factory=dict)
    fsize: int | None = None  # RLIMIT_FSIZE: writes past it fail (a full disk, without filling one)


def problem(text: str) -> Check:
    def check(proc: subprocess.CompletedProcess[str], out: Path) -> None:
        assert "could not be loaded" in proc.stdout
        problems = pd.read_csv(out / "problems.csv")
        assert problems["problem"].str.contains(text, regex=False).sum() == 1, problems["problem"].tolist()
        assert "Good" in set(pd.read_csv(out / "apps.csv")["name"])  # the rest still loaded

    return check


def previous_output(out: Path) -> None:
    out.mkdir()
    (out / "apps.csv").write_text("name\nPrevious\n")
    (out / "summary.html").write_text("<p>previous</p>")


def previous_intact(proc: subprocess.CompletedProcess[str], out: Path) -> None:
    assert (out / "apps.csv").read_text() == "name\nPrevious\n"
    assert sorted(p.name for p in out.iterdir()) == ["apps.csv", "summary.html"]


def user_file(out: Path) -> None:
    out.mkdir()
    (out / "notes.txt").write_text("mine")


def output_folder_named_like_output(out: Path) -> None:
    (out / "apps.csv").mkdir(parents=True)


def plain_file(out: Path) -> None:
    out.write_text("a file where the output folder should be")


def no_stale_files(out: Path) -> None:
    out.mkdir()
    for name in ("usage.csv", "tokens.csv", "logins.csv", "api_calls.csv", "apps.csv"):
        (out / name).write_text("name\nstale\n")


def only_folder_outputs(proc: subprocess.CompletedProcess[str], out: Path) -> None:
    names = {p.name for p in out.iterdir()}
    assert not names & {"usage.csv", "tokens.csv", "logins.csv", "api_calls.csv"}, names
    assert "stale" not in (out / "apps.csv").read_text()


def formulas_neutralised(proc: subprocess.CompletedProcess[str], out: Path) -> None:
    apps = pd.read_csv(out / "apps.csv")
    row = apps.set_index("name").loc["Evil"]
    assert row["label"].startswith("'=HYPERLINK") and row["description"] == "'@SUM(A1)"
    assert not any(line.startswith(("=", "@", "+")) for line in (out / "apps.csv").read_text().splitlines())


def partial_outputs(proc: subprocess.CompletedProcess[str], out: Path) -> None:
    assert "PARTIAL" in proc.stderr
    assert "PARTIAL audit" in (out / "summary.html").read_text()
    assert len(pd.read_csv(out / "problems.csv")) >= 1 and len(pd.read_csv(out / "apps.csv")) >= 1


def audit(*args: str) -> list[str]:
    return ["audit", *args]


ORG = ["--instance-url", "{url}", "--ca-file", "{ca}"]
TOKEN = ["--access-token", "{token}"]
OUT = ["--out", "{out}"]
FORMULAS = audit("--project", "{lab}/formulas", *OUT)


CASES = [
    # folders ------------------------------------------------------------------------------------------
    Case("project-missing", audit("--project", "{lab}/nope", *OUT), 2, "no such folder"),
    Case("project-is-a-file", audit("--project", "{lab}/a_file.txt", *OUT), 2, "not a folder"),
    Case("project-empty-text", audit("--project", "", *OUT), 2, "nothing to read"),
    Case("project-fifo-only", audit("--project", "{lab}/fifo_only", *OUT), 2, "not a regular file (a FIFO)"),
    Case("project-broken-only", audit("--project", "{lab}/broken_only", *OUT), 2, "no app could be loaded"),
    Case("fifo-is-a-problem-row", audit("--project", "{lab}/fifo", *OUT), 0, check=problem("a FIFO")),
    Case("dev-zero-symlink", audit("--project", "{lab}/zero", *OUT), 0, check=problem("a character device")),
    Case("file-too-big", audit("--project", "{lab}/big", *OUT), 0, check=problem("larger than 10 MB")),
    Case("xml-1000-deep", audit("--project", "{lab}/deep1000", *OUT), 0, check=problem("nested more than")),
    Case("xml-2047-deep", audit("--project", "{lab}/deep2047", *OUT), 0, check=problem("nested more than")),
    Case("xml-3000-deep", audit("--project", "{lab}/deep3000", *OUT), 0, check=problem("nested more than")),
    Case("undecodable-file-name", audit("--project", "{lab}/badname", *OUT), 0, "audited 2 apps"),
    Case(
        "sfdx-project-deep", audit("--project", "{lab}/deepjson", *OUT), 0, check=problem("nested too deeply")
    ),
    Case("sfdx-project-fifo", audit("--project", "{lab}/fifojson", *OUT), 0, check=problem("a FIFO")),
    Case("sfdx-project-not-json", audit("--project", "{lab}/notjson", *OUT), 0, check=problem("unreadable")),
    Case("sfdx-project-no-dir", audit("--project", "{lab}/nopkgdir", *OUT), 0, check=problem("'nope'")),
    Case("csv-formulas", audit("--project", "{lab}/formulas", *OUT), 0, check=formulas_neutralised),
    # options --------------------------------------------------------------------------------------------
    Case("concurrency-0", audit("--project", "{lab}/fifo", "--concurrency", "0", *OUT), 2, "--concurrency"),
    Case("concurrency-neg", audit(*ORG, *TOKEN, "--concurrency", "-1", *OUT), 2, "from 1 to 64"),
    Case("concurrency-text", audit(*ORG, *TOKEN, "--concurrency", "many", *OUT), 2, "invalid int value"),
    Case("concurrency-huge", audit(*ORG, *TOKEN, "--concurrency", "100000", *OUT), 2, "from 1 to 64"),
    Case("window-days-0", audit(*ORG, *TOKEN, "--window-days", "0", *OUT), 2, "LoginHistory"),
    Case("window-days-neg", audit(*ORG, *TOKEN, "--window-days", "-30", *OUT), 2, "from 1 to 3650"),
    Case("window-days-huge", audit(*ORG, *TOKEN, "--window-days", "999999", *OUT), 2, "from 1 to 3650"),
    Case("unknown-option", audit("--project", "{lab}/fifo", "--bogus", *OUT), 2, "unrecognized arguments"),
    Case("no-command", [], 2, "required"),
    Case("unknown-command", ["frobnicate"], 2, "invalid choice"),
    Case("two-sources", audit("--project", "{lab}/fifo", "--org", "demo", *OUT), 2, "not both"),
    Case("no-source", audit(*OUT), 2, "nothing to read"),
    Case("org-blank", audit("--org", "  ", *OUT), 2, "--org cannot be empty"),
    # outputs ---------------------------------------------------------------------------------------------
    Case("out-empty-text", audit("--project", "{lab}/fifo", "--out", ""), 2, "current folder"),
    Case("out-is-a-file", audit("--project", "{lab}/fifo", *OUT), 2, "not a folder", prepare=plain_file),
    Case("out-under-a-file", audit("--project", "{lab}/fifo", "--out", "{lab}/a_file.txt/out"), 2, "cannot"),
    Case("out-in-proc", audit("--project", "{lab}/fifo", "--out", "/proc/toolkit-out"), 2, "cannot create"),
    Case(
        "out-holds-folder-named-like-output",
        audit("--project", "{lab}/fifo", *OUT),
        2,
        "holds the folder 'apps.csv'",
        prepare=output_folder_named_like_output,
    ),
    Case(
        "out-holds-user-file",
        audit("--project", "{lab}/fifo", *OUT),
        2,
        "'notes.txt'",
        prepare=user_file,
        check=lambda proc, out: None if (out / "notes.txt").read_text() == "mine" else pytest.fail("lost"),
    ),
    Case("out-disk-full", FORMULAS, 2, "are unchanged", previous_output, previous_intact, fsize=300),
    Case("out-no-stale-files", FORMULAS, 0, "audited 1 app", no_stale_files, only_folder_outputs),
    # org URLs and TLS --------------------------------------------------------------------------------------
    Case("url-not-a-url", audit("--instance-url", "not a url", *TOKEN, *OUT), 2, "it is not a URL"),
    Case(
        "url-http", audit("--instance-url", "http://127.0.0.1:9", *TOKEN, *OUT), 2, "refused, not rewritten"
    ),
    Case("url-ftp", audit("--instance-url", "ftp://acme.my.salesforce.com", *TOKEN, *OUT), 2, "ftp://"),
    Case("url-with-path", audit("--instance-url", "{url}/services/data", *TOKEN, *OUT), 2, "without a path"),
    Case("url-with-query", audit("--instance-url", "{url}?x=1", *TOKEN, *OUT), 2, "without a path"),
    Case(
        "url-with-password",
        audit("--instance-url", "https://me:hunter2@acme.my.salesforce.com", *TOKEN, *OUT),
        2,
        "do not belong in the URL",
    ),
    Case(
        "url-bad-port", audit("--instance-url", "https://127.0.0.1:99999", *TOKEN, *OUT), 2, "not a valid URL"
    ),
    Case("url-ipv6-broken", audit("--instance-url", "https://[::1", *TOKEN, *OUT), 2, "not a valid URL"),
    Case("url-ipv6-nobody-home", audit("--instance-url", "https://[::1]:9", *TOKEN, *OUT), 2, "::1"),
    Case(
        "url-without-token",
        audit("--instance-url", "{url}", *OUT),
        2,
        "--access-token",
        env={"SF_ACCESS_TOKEN": None},
    ),
    *(
        Case(f"ca-file-{kind}", audit("--instance-url", "{url}", *TOKEN, "--ca-file", path, *OUT), 2, text)
        for kind, path, text in (
            ("missing", "{lab}/nope.pem", "no such file"),
            ("folder", "{lab}/ca_folder", "not a regular file"),
            ("not-pem", "{lab}/not.pem", "no PEM certificate"),
            ("dev-zero", "/dev/zero", "not a regular file"),
        )
    ),
    Case(
        "tls-untrusted",
        audit("--instance-url", "{url}", *TOKEN, *OUT),
        2,
        "REQUESTS_CA_BUNDLE",
        env={"REQUESTS_CA_BUNDLE": None, "CURL_CA_BUNDLE": None},
    ),
    Case("wrong-token", audit(*ORG, "--access-token", WRONG_TOKEN, *OUT), 2, "authentication failed"),
    Case(
        "wrong-token-from-env",
        audit(*ORG, *OUT),
        2,
        "authentication failed",
        env={"SF_ACCESS_TOKEN": WRONG_TOKEN},
    ),
    Case(
        "wrong-token-keeps-previous",
        audit(*ORG, "--access-token", WRONG_TOKEN, *OUT),
        2,
        "authentication failed",
        prepare=previous_output,
        check=previous_intact,
    ),
    Case(
        "alias-without-sf",
        audit("--org", "no-such-alias", *OUT),
        2,
        "no-such-alias",
        env={"PATH": "/nonexistent"},
    ),
    Case(
        "partial-exits-3",
        audit(
            "--instance-url",
            "{faulty_url}",
            "--ca-file",
            "{faulty_ca}",
            "--access-token",
            "{faulty_token}",
            *OUT,
        ),
        3,
        "PARTIAL",
        check=partial_outputs,
    ),
    Case("complete-exits-0", audit(*ORG, *TOKEN, *OUT), 0, "API calls"),
    Case(
        "demo-with-sf-access-token-set",
        audit("--org", "demo", *OUT),
        0,
        "audited",
        env={"SF_ACCESS_TOKEN": WRONG_TOKEN},
    ),
    # demo-org ----------------------------------------------------------------------------------------------
    Case("demo-org-port-neg", ["demo-org", "--port", "-1"], 2, "from 0 to 65535"),
    Case("demo-org-port-huge", ["demo-org", "--port", "99999"], 2, "from 0 to 65535"),
    Case("demo-org-port-text", ["demo-org", "--port", "http"], 2, "invalid int value"),
    Case("demo-org-port-in-use", ["demo-org", "--port", "{busy_port}"], 2, "in use"),
    Case("demo-org-apps-neg", ["demo-org", "--apps", "-1"], 2, "apps cannot be -1"),
    Case("demo-org-apps-huge", ["demo-org", "--apps", "1000000000"], 2, "from 0 to 100000"),
    Case("demo-org-latency-neg", ["demo-org", "--latency-ms", "-5"], 2, "--latency-ms: cannot be '-5'"),
    Case("demo-org-from-missing", ["demo-org", "--from", "{lab}/nope"], 2, "is not a folder"),
    Case("demo-org-from-file", ["demo-org", "--from", "{lab}/a_file.txt"], 2, "is not a folder"),
    Case("demo-bad-apps", ["demo", "--apps", "-2", *OUT], 2, "apps cannot be -2"),
]


def _run(case: Case, base: Path, values: dict[str, str]) -> subprocess.CompletedProcess[str]:
    out = base / "out"
    tmp = base / "tmp"
    tmp.mkdir()
    if case.prepare is not None:
        case.prepare(out)
    env = {**os.environ, "TMPDIR": str(tmp)}
    env.pop("TOOLKIT_DEBUG", None)
    for key, value in case.env.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    argv = [a.format(out=out, **values) for a in case.argv]
    limit = case.fsize

    def limit_file_size() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    started = time.monotonic()
    try:
        return subprocess.run(
            [sys.executable, "-m", "toolkit", *argv],
            cwd=base,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            preexec_fn=limit_file_size if limit is not None else None,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(argv, -9, str(exc.stdout or ""), f"TIMEOUT after {TIMEOUT} s")
    finally:
        if os.environ.get("BAD_INPUTS_TIMES"):
            print(f"{case.id}: {time.monotonic() - started:.1f} s", file=sys.stderr)


@pytest.fixture(scope="module")
def results(
    lab: Path, orgs: dict[str, DemoOrg], busy_port: int, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[subprocess.CompletedProcess[str], Path]]:
    org, faulty = orgs["org"], orgs["faulty"]
    values = {
        "lab": str(lab),
        "url": org.instance_url,
        "ca": org.ca_file,
        "token": org.access_token,
        "faulty_url": faulty.instance_url,
        "faulty_ca": faulty.ca_file,
        "faulty_token": faulty.access_token,
        "busy_port": str(busy_port),
    }
    bases = {c.id: tmp_path_factory.mktemp(c.id) for c in CASES}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {c.id: pool.submit(_run, c, bases[c.id], values) for c in CASES}
        return {cid: (f.result(), bases[cid]) for cid, f in futures.items()}


def test_at_least_80_bad_inputs_are_covered() -> None:
    from test_bad_inputs_api import API_CASES

    assert len(CASES) + len(API_CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_ends_in_one_clear_line(
    case: Case, results: dict[str, tuple[subprocess.CompletedProcess[str], Path]], orgs: dict[str, DemoOrg]
) -> None:
    proc, base = results[case.id]
    out = base / "out"
    everything = proc.stdout + proc.stderr
    assert "Traceback" not in everything and "TIMEOUT after" not in proc.stderr, everything[-2000:]
    assert proc.returncode == case.rc, everything[-2000:]
    if case.rc == 2:
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
        assert case.text in lines[0], lines[0]
        if case.prepare is None and case.id != "out-in-proc":
            assert not out.exists(), "a failed run wrote outputs"
    elif case.text:
        assert case.text in everything, everything[-2000:]
    if case.check is not None:
        case.check(proc, out)
    for secret in (WRONG_TOKEN, orgs["org"].access_token, orgs["faulty"].access_token, "hunter2"):
        assert secret not in everything, "a secret was printed"
        if out.is_dir():
            for path in out.iterdir():
                assert not path.is_file() or secret not in path.read_text(errors="replace"), path.name
    assert not list((base / "tmp").iterdir()), "a temporary folder was left behind (JWT key, CA...)"
    assert not [p.name for p in base.iterdir() if p.name.startswith(".out.")], "a temp output folder survived"


def test_oversized_unauthenticated_post_is_refused_unread(orgs: dict[str, DemoOrg]) -> None:
    """A 200 MB POST without a session is answered 413 at once, from its Content-Length, never read."""
    import ssl

    org = orgs["org"]
    host, port = org.instance_url.removeprefix("https://").split(":")
    context = ssl.create_default_context(cafile=org.ca_file)
    for path in ("/services/Soap/u/66.0", "/services/data/v66.0/query", "/services/oauth2/token"):
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname=host) as s:
                s.sendall(
                    f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/xml\r\n"
                    f"Content-Length: {200 * 1024 * 1024}\r\n\r\n".encode()
                    + b"<x>" * 100
                )
                chunks = []
                while chunk := s.recv(65536):  # the server closes the connection after its answer
                    chunks.append(chunk)
                answer = b"".join(chunks).decode("latin-1")
        assert answer.startswith("HTTP/1.1 413"), answer[:200]
        assert "REQUEST_ENTITY_TOO_LARGE" in answer and "50 MB" in answer and "Connection: close" in answer


def test_demo_org_from_a_folder_with_bad_files_skips_them(tmp_path: Path) -> None:
    """``demo-org --from``: a FIFO, /dev/zero, a huge file and 1,000-2,047-deep XML are named and skipped."""
    folder = good(tmp_path / "from")
    os.mkfifo(folder / "F.connectedApp-meta.xml")
    (folder / "Z.connectedApp-meta.xml").symlink_to("/dev/zero")
    (folder / "D1.connectedApp-meta.xml").write_bytes(nested(1000))
    (folder / "D2.connectedApp-meta.xml").write_bytes(nested(2047))
    with open(folder / "Big.connectedApp-meta.xml", "wb") as f:
        f.truncate(11 * 1024 * 1024)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "toolkit", "demo-org", "--from", str(folder), "--apps", "0", "--ecas", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp)},
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert line.startswith("{"), err
    assert '"skipped_files"' in line
    assert "Traceback" not in err
    for what in ("a FIFO", "a character device", "nested more than", "larger than 10 MB"):
        assert what in err, err
    assert not list(tmp.iterdir()), "the demo org left its temporary folder (it holds the JWT key)"
