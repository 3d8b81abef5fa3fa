"""``python -m toolkit demo-org``: serve the demo org until Ctrl-C/SIGTERM.

Prints ONE JSON line ``{"instance_url", "access_token", "username", "ca_file", ...}`` on stdout once the
org is ready, so scripts can read it and connect (trust ``ca_file``, e.g. ``REQUESTS_CA_BUNDLE=<ca_file>``).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from ..demoorg import MAX_APPS, MAX_ECAS, MAX_LATENCY_MS, USERS, DemoOrg
from .options import number, whole_number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``demo-org`` options.

    >>> p = argparse.ArgumentParser(); add_arguments(p); p.parse_args(["--apps", "5"]).apps
    5
    """
    parser.add_argument(
        "--port",
        type=whole_number(0, 65535),
        default=0,
        help="TCP port on 127.0.0.1, 0 to 65535 (0 = any free port)",
    )
    parser.add_argument(
        "--apps", type=whole_number(0, MAX_APPS), default=60, help="number of connected apps to seed"
    )
    parser.add_argument(
        "--ecas", type=whole_number(0, MAX_ECAS), default=10, help="number of external client apps to seed"
    )
    parser.add_argument(
        "--seed",
        type=whole_number(-(2**63), 2**63 - 1),
        default=1,
        help="seed of the generated org (same seed, same org)",
    )
    parser.add_argument(
        "--latency-ms",
        type=number(lambda v: 0 <= v <= MAX_LATENCY_MS, f"0 to {MAX_LATENCY_MS} milliseconds"),
        default=0,
        help="delay added to every API request",
    )
    parser.add_argument(
        "--from", dest="from_dir", default=None, help="seed from an SFDX/mdapi folder instead"
    )
    parser.add_argument(
        "--hostile-seed",
        action="store_true",
        help="also seed apps, users and usage whose labels, URLs, e-mails and names are HTML/script "
        "payloads (a test facility for escaping, not Salesforce behaviour)",
    )
    parser.add_argument(
        "--user",
        choices=sorted(USERS),
        default="admin",
        help="the running user of access_token and the logins: admin (every permission) or auditor (no "
        "Customize Application, Manage Users or Monitor Login History: sees only its own tokens and logins)",
    )
    parser.add_argument(
        "--proxy",
        action="store_true",
        help="also serve a CONNECT proxy: unmodified scripts run with HTTPS_PROXY=<proxy_url> "
        "REQUESTS_CA_BUNDLE=<ca_bundle_file>",
    )


def run(args: argparse.Namespace) -> int:
    """Start the org, print the JSON line, serve until interrupted."""
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    org = DemoOrg(
        apps=args.apps,
        ecas=args.ecas,
        seed=args.seed,
        latency_ms=args.latency_ms,
        from_dir=args.from_dir,
        port=args.port,
        hostile=getattr(args, "hostile_seed", False),
        user=getattr(args, "user", "admin"),
    )
    with org:
        previous = signal.signal(signal.SIGTERM, _stop)
        line = {
            "instance_url": org.instance_url,
            "access_token": org.access_token,
            "username": org.username,
            "ca_file": org.ca_file,
            "domain": org.domain,
            "startup_seconds": round(org.startup_seconds, 3),
        }
        if getattr(args, "proxy", False):
            line["proxy_url"] = org.start_proxy()
            line["ca_bundle_file"] = org.ca_bundle_file
        skipped = org.truth().get("skipped_files") or []
        if skipped:
            line["skipped_files"] = skipped
        print(json.dumps(line), flush=True)
        for problem in skipped:
            print(f"warning: --from: skipped {problem}", file=sys.stderr, flush=True)
        print(
            f"demo org ready at {org.instance_url} in {org.startup_seconds:.2f} s; Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
    return 0
