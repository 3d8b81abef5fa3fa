"""CONNECT proxy mode: an unmodified user script (default login.salesforce.com) runs against the demo org."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import requests

from toolkit.demoorg import DemoOrg

USER_SCRIPT = textwrap.dedent(
    """
    import os
    from simple_salesforce import Salesforce
    sf = Salesforce(username=os.environ["SF_USER"], password=os.environ["SF_PASS"], security_token="")
    rows = sf.query_all("SELECT Id, Name FROM ConnectedApplication")["records"]
    print("apps", len(rows))
    print("names", len(sf.mdapi.list_metadata([sf.mdapi.ListMetadataQuery(type="ConnectedApp")])))
    """
)


def test_unmodified_script_runs_through_the_proxy(demo_org: DemoOrg) -> None:
    proxy = demo_org.start_proxy()
    env = dict(
        os.environ,
        HTTPS_PROXY=proxy,
        https_proxy=proxy,
        NO_PROXY="",
        no_proxy="",
        REQUESTS_CA_BUNDLE=demo_org.ca_bundle_file,
        SF_USER=demo_org.username,
        SF_PASS=demo_org.password,
    )
    done = subprocess.run([sys.executable, "-c", USER_SCRIPT], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    counts = dict(line.split() for line in done.stdout.splitlines())
    direct = demo_org.requests_session().get(
        f"{demo_org.instance_url}/services/data/v66.0/query",
        params={"q": "SELECT COUNT() FROM ConnectedApplication"},
        headers={"Authorization": f"Bearer {demo_org.access_token}"},
        timeout=30,
    ).json()["totalSize"]
    assert int(counts["apps"]) == direct > 0
    assert int(counts["names"]) > 0
    assert demo_org.password not in done.stdout + done.stderr


def test_proxy_refuses_plain_requests_and_untrusted_clients(demo_org: DemoOrg) -> None:
    proxy = demo_org.start_proxy()
    assert requests.get(proxy + "/", timeout=10).status_code == 405
    # a client that does not trust the demo org's CA refuses the proxy's certificate for a real host name
    try:
        requests.get("https://login.salesforce.com/services/data/", proxies={"https": proxy}, timeout=10,
                     verify=True)
    except requests.exceptions.SSLError:
        pass
    else:  # pragma: no cover - would mean the proxy certificate is trusted by the system
        raise AssertionError("the proxy's certificate must not be trusted without the demo CA")
