"""``ConnectForm``: reach an org from JupyterLab (demo org, Salesforce CLI alias, access token, JWT).

Secrets (the access token) are typed into a password box, handed to :func:`toolkit.connect` and cleared from
the form at once: never echoed, kept or rendered. The connected :class:`~toolkit.sources.org.Org` is
:attr:`ConnectForm.org`; callbacks registered with :meth:`ConnectForm.on_connect` receive it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..errors import SourceError
from ..redact import redact
from .html import error_text, status_html

DEMO, ALIAS, TOKEN, JWT = "demo", "alias", "token", "jwt"
SF_TIMEOUT_S = 20


def sf_aliases(timeout: float = SF_TIMEOUT_S) -> list[str]:
    """Aliases (else usernames) of the orgs the Salesforce CLI knows (``sf org list --json``); [] without sf.

    >>> isinstance(sf_aliases(), list)
    True
    """
    exe = shutil.which("sf")
    if exe is None:
        return []
    try:
        proc = subprocess.run([exe, "org", "list", "--json"], capture_output=True, text=True,
                              timeout=timeout, check=False)
        result = json.loads(proc.stdout or "{}").get("result") or {}
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return []
    names = []
    for group in result.values():
        for org in group if isinstance(group, list) else []:
            name = org.get("alias") or org.get("username") if isinstance(org, dict) else None
            if name and name not in names:
                names.append(str(name))
    return names


class ConnectForm(widgets.VBox):  # type: ignore[misc]
    """Connect to an org: pick how (Demo org / Salesforce CLI / Access token / JWT), fill in, click Connect.

    ``demo_options`` (size, seed) start an embedded demo org; ``demo_connect`` (``instance_url``,
    ``access_token``, ``ca_file`` of a demo org already running) attaches to it instead.

    >>> form = ConnectForm()
    >>> form.method.value = "token"; form.instance_url.value = ""; form.connect_button.click()
    >>> "instance URL" in form.status.value, form.org is None
    (True, True)
    """

    def __init__(
        self,
        *,
        method: str = DEMO,
        demo_options: dict[str, Any] | None = None,
        demo_connect: dict[str, Any] | None = None,
        aliases: list[str] | None = None,
    ) -> None:
        self.demo_options = dict(demo_options or {})
        self.demo_connect = dict(demo_connect or {})
        self.org: Any = None
        self._callbacks: list[Callable[[Any], None]] = []
        self.method = widgets.ToggleButtons(
            options=[("Demo org", DEMO), ("Salesforce CLI", ALIAS), ("Access token", TOKEN), ("JWT", JWT)],
            value=method, description="Connect to",
        )
        known = sf_aliases() if aliases is None else aliases
        self.alias = widgets.Combobox(
            description="Alias", options=known, ensure_option=False,
            placeholder="an alias of 'sf org list'" if known else "sf not found: type an alias",
        )
        self.instance_url = widgets.Text(description="Instance URL", placeholder="https://MyDomain.my.salesforce.com")
        self.access_token = widgets.Password(description="Access token")
        self.ca_file = widgets.Text(description="CA file", placeholder="optional: PEM bundle to trust")
        self.login_url = widgets.Text(description="Login URL", placeholder="https://login.salesforce.com")
        self.username = widgets.Text(description="Username")
        self.consumer_key = widgets.Text(description="Consumer key")
        self.key_file = widgets.Text(description="Private key", placeholder="path of the PEM key file")
        self.connect_button = widgets.Button(description="Connect", button_style="primary", icon="plug")
        self.status = widgets.HTML("Not connected.")
        self._groups = {
            DEMO: widgets.HTML("An embedded demo org (a local HTTPS Salesforce emulator with seeded apps)."),
            ALIAS: widgets.VBox([self.alias]),
            TOKEN: widgets.VBox([self.instance_url, self.access_token, self.ca_file]),
            JWT: widgets.VBox(
                [self.login_url, self.username, self.consumer_key, self.key_file, self.ca_file]
            ),
        }
        self.method.observe(lambda _c: self._show_method(), names="value")
        self.connect_button.on_click(lambda _b: self.connect())
        self._show_method()
        super().__init__([self.method, *self._groups.values(), self.connect_button, self.status])

    def _show_method(self) -> None:
        for name, group in self._groups.items():
            group.layout.display = "" if name == self.method.value else "none"

    def on_connect(self, callback: Callable[[Any], None]) -> None:
        """Call ``callback(org)`` after every successful connection."""
        self._callbacks.append(callback)

    def arguments(self) -> dict[str, Any]:
        """The :func:`toolkit.connect` arguments in the form; :class:`SourceError` when some are missing."""
        method = self.method.value
        if method == DEMO:
            return dict(self.demo_connect) if self.demo_connect else {"demo_options": self.demo_options}
        if method == ALIAS:
            alias = self.alias.value.strip()
            if not alias:
                raise SourceError("choose or type a Salesforce CLI alias ('sf org login web --alias NAME')")
            return {"alias": alias}
        if method == TOKEN:
            url, token = self.instance_url.value.strip(), self.access_token.value.strip()
            if not url or not token:
                raise SourceError("enter the instance URL and an access token")
            return {"instance_url": url, "access_token": token, "ca_file": self.ca_file.value.strip() or None}
        values = {
            "login_url": self.login_url.value.strip(), "username": self.username.value.strip(),
            "consumer_key": self.consumer_key.value.strip(), "private_key_file": self.key_file.value.strip(),
        }
        missing = [k.replace("_", " ") for k, v in values.items() if not v and k != "login_url"]
        if missing:
            raise SourceError(f"JWT needs {', '.join(missing)}")
        return {**{k: v for k, v in values.items() if v}, "ca_file": self.ca_file.value.strip() or None}

    def connect(self) -> Any:
        """Connect (closing the previous org); the status line says to what, or what went wrong."""
        from ..sources.connect import connect

        self.connect_button.disabled = True
        self.status.value = status_html("Connecting…")
        try:
            kwargs = self.arguments()
            target = "demo" if self.method.value == DEMO else None
            org = connect(target, **kwargs)
            try:
                org.limits()  # one cheap call: a wrong token fails here, not at the first audit
            except BaseException:
                org.close()
                raise
        except Exception as exc:  # a message in the form, never a traceback; the last org stays
            self.status.value = status_html(error_text(exc), error=True)
            return None
        finally:
            self.access_token.value = ""  # never kept in the form (nor in saved widget state)
            self.connect_button.disabled = False
        self.close_org()
        self.org = org
        self.status.value = status_html(f"Connected to {redact(org.instance_url)} ({org.auth}).")
        for callback in self._callbacks:
            callback(org)
        return org

    def close_org(self) -> None:
        """Close the connected org (stops an embedded demo org)."""
        if self.org is not None:
            self.org.close()
            self.org = None
