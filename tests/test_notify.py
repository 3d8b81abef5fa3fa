"""``--notify URL`` (issue 17): check and report post a Slack/Teams-compatible summary to a local HTTPS
server (trustme, as the demo org); the payload holds no secret, token, consumer key or user name."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme

from toolkit.analysis import notify
from toolkit.commands import main
from toolkit.demoorg import DemoOrg

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PORTAL = "force-app/main/default/connectedApps/Legacy_Partner_Portal.connectedApp-meta.xml"
HOOK_PATH = "/services/T000/B000/hook-secret-part"


class Webhook:
    """A local HTTPS webhook: records each POST; answers ``fail`` times with ``status`` first, then 200."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.fail, self.status = 0, 503
        self.url = ""


@pytest.fixture
def webhook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    ca = trustme.CA()
    ca_file = tmp_path / "webhook-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    monkeypatch.setattr(notify, "BACKOFF", (0.01, 0.01))
    hook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hook.headers.append(dict(self.headers))
            hook.posts.append({"path": self.path, "body": body.decode()})
            code = hook.status if hook.fail > 0 else 200
            hook.fail -= 1
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"https://127.0.0.1:{server.server_address[1]}{HOOK_PATH}"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()


def _message(hook: Webhook, n: int = -1) -> dict[str, Any]:
    post = hook.posts[n]
    assert post["path"] == HOOK_PATH
    message = json.loads(post["body"])
    assert set(message) == {"text", "blocks"} and isinstance(message["text"], str)
    assert [b["type"] for b in message["blocks"]][:3] == ["header", "section", "section"]
    return message


def test_check_posts_counts_new_and_fixed(
    webhook: Webhook, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = Path(shutil.copytree(EXAMPLES, tmp_path / "project"))
    out = tmp_path / "findings.sarif"
    argv = ["check", "--project", str(project), "--format", "sarif", "--out", str(out)]
    argv += ["--notify", webhook.url]
    webhook.fail = 1  # one 503 first: retried
    assert main(argv) == 0
    assert len(webhook.posts) == 2 and webhook.headers[-1]["Content-Type"] == "application/json"
    first = _message(webhook)["text"]
    assert first.startswith("check of project, ") and " high" in first
    assert "no earlier run kept in the history" in first and f"report: {out.resolve()}" in first
    app = project / PORTAL
    app.write_text(app.read_text().replace("<ipRelaxation>BYPASS<", "<ipRelaxation>ENFORCE<"))
    assert main(argv + ["--fail-on", "critical"]) == 1  # the gate's exit code stays
    text = _message(webhook)["text"]
    assert "new since the last run: 0; fixed since the last run: 1 (high NET-01 Legacy_Partner_Portal)" in (
        text
    )
    assert "notified 127.0.0.1 (HTTP 200)" in capsys.readouterr().err


def test_the_payload_of_an_org_run_holds_no_secret(
    webhook: Webhook, demo_org: DemoOrg, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    src = ["--instance-url", demo_org.instance_url, "--access-token", demo_org.access_token,
           "--ca-file", demo_org.ca_file]
    # the demo org's CA for the org, the webhook's for the webhook: both in one bundle
    bundle = tmp_path / "both.pem"
    hook_ca = Path(os.environ["REQUESTS_CA_BUNDLE"]).read_bytes()
    bundle.write_bytes(Path(demo_org.ca_file).read_bytes() + hook_ca)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    for _ in range(2):
        code = main(["check", *src, "--out", str(tmp_path / "f.txt"), "--notify", webhook.url])
        assert code == 0, capsys.readouterr().err
    raw = webhook.posts[-1]["body"]
    message = _message(webhook)
    assert message["text"].startswith("check of 127.0.0.1, ") and "new since the last run: 0;" in raw
    token = demo_org.access_token
    for secret in (token, token.split("!")[1], demo_org.client_secret, demo_org.refresh_token,
                   demo_org.client_id, demo_org.jwt_consumer_key, demo_org.password, "3MVG",
                   "@demo-org.example.com", demo_org.username.split("@")[0], "BEGIN ", HOOK_PATH):
        assert secret not in raw


def test_a_webhook_that_keeps_failing_makes_the_run_partial(
    webhook: Webhook, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    webhook.fail, webhook.status = 10, 500
    out = str(tmp_path / "f.txt")
    code = main(["check", "--project", str(EXAMPLES), "--out", out, "--notify", webhook.url])
    err = capsys.readouterr().err
    assert code == 3 and len(webhook.posts) == 1 + notify.RETRIES
    assert "warning: --notify: 127.0.0.1: no answer after 3 attempts (HTTP 500)" in err
    assert HOOK_PATH not in err
    assert (tmp_path / "f.txt").is_file()
    webhook.fail, webhook.status = 1, 404  # refused: not retried
    assert main(["check", "--project", str(EXAMPLES), "--notify", webhook.url, "--no-history"]) == 3
    assert "refused the message: HTTP 404" in capsys.readouterr().err and len(webhook.posts) == 4


@pytest.mark.parametrize(
    "url", ["http://hooks.example.com/services/T/B/secret", "hooks.example.com/x", "https://"]
)
def test_only_https_is_accepted_before_anything_is_read(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", "--project", str(EXAMPLES), "--out", str(tmp_path / "f.txt"), "--notify", url])
    err = capsys.readouterr().err
    assert code == 2 and "--notify" in err and "allowed: an https:// webhook" in err and "secret" not in err
    assert not (tmp_path / "f.txt").exists()


def test_report_posts_the_path_of_its_report(webhook: Webhook, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(["report", "--project", str(EXAMPLES), "--out", str(out), "--notify", webhook.url]) == 0
    message = _message(webhook)
    assert message["text"].startswith("report of examples, ")
    assert f"report: {(out / 'report.html').resolve()}" in message["text"]
    assert message["blocks"][-1]["type"] == "context"


def test_notify_alone_reads_the_url_from_the_environment(
    webhook: Webhook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TOOLKIT_NOTIFY_URL", raising=False)
    code = main(["check", "--project", str(EXAMPLES), "--notify", "--out", str(tmp_path / "f.txt")])
    assert code == 2 and "$TOOLKIT_NOTIFY_URL, which is not set" in capsys.readouterr().err
    assert not (tmp_path / "f.txt").exists()
    monkeypatch.setenv("TOOLKIT_NOTIFY_URL", webhook.url)
    assert main(["check", "--project", str(EXAMPLES), "--notify", "--out", str(tmp_path / "f.txt")]) == 0
    assert len(webhook.posts) == 1 and _message(webhook)["text"].startswith("check of examples, ")
    monkeypatch.setenv("TOOLKIT_NOTIFY_URL", "http://hooks.example.com/services/secret")
    code = main(["check", "--project", str(EXAMPLES), "--notify"])
    err = capsys.readouterr().err
    assert code == 2 and "allowed: an https:// webhook" in err and "secret" not in err
