"""``--notify URL``: post a run's summary to a chat webhook (a Slack incoming webhook, a Teams workflow).

The payload is ``{"text": ..., "blocks": [...]}``: ``text`` is what Teams and every Slack client shows (and
Slack's fallback), ``blocks`` Slack's layout. It holds the source (host of the instance URL, or the folder's
name), the UTC time, the failed findings counted by severity (the toolkit has no single score), the findings
new and fixed since the last run kept in the history (rule + app), and the path of the report. No secret,
token, user name, consumer key or finding text is put in it, and the text is scrubbed of the run's known
secret values before it is sent.

The URL must be ``https://`` (checked before anything is read); a webhook URL holds its secret in its path, so
messages name only its host, and ``--notify`` alone reads it from ``$TOOLKIT_NOTIFY_URL`` (off the command
line, which other users of the machine can see). One POST with a 10 s timeout, retried twice (after 1 s,
then 2 s) on a connection failure, a timeout, HTTP 429 or 5xx.

>>> p = payload(source="acme.my.salesforce.com", command="check", counts={"high": 2, "low": 1},
...             new=[("NET-01", "A", "high")], fixed=[], report="/out/findings.sarif", when="2026-12-04")
>>> print(p["text"])
check of acme.my.salesforce.com, 2026-12-04: 3 failed findings (0 critical, 2 high, 0 medium, 1 low, 0 info)
new since the last run: 1 (high NET-01 A); fixed since the last run: 0
report: /out/findings.sarif
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..errors import OutputError, SourceError
from ..redact import redact

ENV = "TOOLKIT_NOTIFY_URL"  # what ``--notify`` alone posts to (a webhook URL is a secret: keep it off argv)
TIMEOUT = 10.0  # seconds, each attempt
RETRIES = 2  # after the first attempt
BACKOFF = (1.0, 2.0)
SEVERITIES = ("critical", "high", "medium", "low", "info")
SHOWN = 10  # new / fixed findings named in the message (the rest counted)


def check_url(url: str) -> str:
    """``url`` when it is an ``https://`` URL with a host; else :class:`SourceError` (the path not echoed)."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 (a bad port raises ValueError)
    except ValueError:
        raise SourceError("--notify: not a valid URL; allowed: an https:// webhook URL") from None
    if parts.scheme.lower() != "https" or not host or any(c.isspace() for c in text):
        shown = f"{parts.scheme}://{host}/..." if parts.scheme and host else "that value"
        raise SourceError(
            f"--notify cannot be {shown}; allowed: an https:// webhook (http:// is refused, not rewritten)"
        )
    return text


def host_of(url: str) -> str:
    return urlsplit(url).hostname or "?"


def payload(
    *,
    source: str,
    command: str,
    counts: Mapping[str, int],
    new: Iterable[tuple[str, str, str]],
    fixed: Iterable[tuple[str, str, str]],
    report: str = "",
    when: str,
    first_run: bool = False,
    secrets: Iterable[str] = (),
) -> dict[str, Any]:
    """The Slack/Teams-compatible message (``new``/``fixed``: (rule, app, severity) tuples)."""
    new, fixed = list(new), list(fixed)
    total = sum(int(counts.get(s, 0)) for s in SEVERITIES)
    by_severity = ", ".join(f"{int(counts.get(s, 0))} {s}" for s in SEVERITIES)
    head = f"{command} of {source}, {when}: {total} failed findings ({by_severity})"
    if first_run:
        since = "no earlier run kept in the history: new and fixed findings start with the next run"
    else:
        since = f"new since the last run: {_named(new)}; fixed since the last run: {_named(fixed)}"
    lines = [head, since] + ([f"report: {report}"] if report else [])
    text = redact("\n".join(lines), secrets, keywords=False)
    def scrubbed(value: str) -> str:
        return redact(value, secrets, keywords=False)

    title = scrubbed(f"Connected apps: {command} of {source}")[:150]  # Slack: header text up to 150
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title}},
        _mrkdwn("section", scrubbed(f"*{total} failed findings*: {by_severity}")),
        _mrkdwn("section", scrubbed(since)),
    ]
    if report:
        note = {"type": "mrkdwn", "text": scrubbed(f"report: {report}")}
        blocks.append({"type": "context", "elements": [note]})
    return {"text": text, "blocks": blocks}


def _mrkdwn(kind: str, text: str) -> dict[str, Any]:
    return {"type": kind, "text": {"type": "mrkdwn", "text": text}}


def _named(items: list[tuple[str, str, str]]) -> str:
    if not items:
        return "0"
    shown = ", ".join(f"{sev} {rule} {app}" for rule, app, sev in items[:SHOWN])
    more = f", and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return f"{len(items)} ({shown}{more})"


def post(
    url: str, message: Mapping[str, Any], *, sleep: Callable[[float], None] = time.sleep, session: Any = None
) -> int:
    """POST ``message`` as JSON to ``url``; the HTTP status. :class:`OutputError` (naming the host only) when
    every attempt failed or the webhook refused it."""
    import requests

    http = session or requests.Session()
    body = json.dumps(message).encode()
    host = host_of(url)
    last = ""
    for attempt in range(RETRIES + 1):
        if attempt:
            sleep(BACKOFF[min(attempt - 1, len(BACKOFF) - 1)])
        try:
            r = http.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=TIMEOUT,
                          allow_redirects=False)
        except requests.exceptions.SSLError:
            raise OutputError(
                f"--notify: {host}: TLS certificate not trusted (set REQUESTS_CA_BUNDLE for a private CA)"
            ) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            last = type(exc).__name__
            continue
        if r.status_code == 429 or r.status_code >= 500:
            last = f"HTTP {r.status_code}"
            continue
        if r.status_code >= 300:
            raise OutputError(f"--notify: {host} refused the message: HTTP {r.status_code}")
        return int(r.status_code)
    raise OutputError(f"--notify: {host}: no answer after {RETRIES + 1} attempts ({last})")
