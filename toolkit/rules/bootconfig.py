"""Cross-check Mobile SDK boot configuration files against the apps (domain notes §5.2).

Each file is matched to its app by consumer key (``remoteAccessConsumerKey`` = the app's consumer key), else
by callback; then: the callback must be one of the app's callback URLs, the scopes it asks for must be granted
to the app (none asked: the app gets all of its scopes), the app should have mobile settings, and a mobile
app should require PKCE (it cannot keep a secret). Template placeholders are reported, never matched.
Consumer keys are shown masked.

Columns of :func:`cross_check`: ``file``, ``platform``, ``app``, ``kind``, ``check``, ``status`` (ok / fail /
warn / info) and ``detail``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..model import catalog
from ..model.bundle import Inventory
from ..redact import mask_key
from ..sources.bootconfig import BootConfig

CHECK_COLUMNS = ("file", "platform", "app", "kind", "check", "status", "detail")


def cross_check(configs: list[BootConfig], inventory: Inventory) -> pd.DataFrame:
    """One row per (file, check); see the module docstring."""
    apps = [b for b in inventory.apps if b.kind in (catalog.CA, catalog.ECA)]
    by_key: dict[str, Any] = {}
    by_callback: dict[str, list[Any]] = {}
    for b in apps:
        key = catalog.read_value(b, "consumer_key")
        if key:
            by_key.setdefault(str(key), b)
        for url in catalog.read_value(b, "callback_urls"):
            by_callback.setdefault(url, []).append(b)
    rows: list[dict[str, Any]] = []
    for cfg in configs:
        rows += _check(cfg, by_key, by_callback)
    return pd.DataFrame(rows, columns=list(CHECK_COLUMNS), dtype=object)


def _check(
    cfg: BootConfig, by_key: dict[str, Any], by_callback: dict[str, list[Any]]
) -> list[dict[str, Any]]:
    def row(check: str, status: str, detail: str, app: Any = None) -> dict[str, Any]:
        return {
            "file": cfg.path,
            "platform": cfg.platform,
            "app": app.name if app else None,
            "kind": app.kind if app else None,
            "check": check,
            "status": status,
            "detail": detail,
        }

    if cfg.platform == "android-servers":
        bad = [f"{n}={u}" for n, u in cfg.servers if not u or "__INSERT" in u]
        return [
            row(
                "login servers",
                "fail" if bad else "info",
                f"placeholder login server(s): {', '.join(bad)}"
                if bad
                else "; ".join(f"{n}={u}" for n, u in cfg.servers) or "no server",
            )
        ]
    if cfg.consumer_key is None and cfg.callback is None:
        return [
            row(
                "consumer key",
                "info",
                "no consumer key or callback in this file (push or other settings only)",
            )
        ]
    if cfg.placeholder:
        return [row("consumer key", "fail", "template placeholder not replaced (__INSERT_..._HERE__)")]
    app = by_key.get(cfg.consumer_key or "")
    out = []
    if app is not None:
        out.append(row("consumer key", "ok", f"{mask_key(cfg.consumer_key)} is the app's consumer key", app))
    else:
        same_cb = by_callback.get(cfg.callback or "", [])
        if not same_cb:
            return [
                row(
                    "app found",
                    "fail",
                    f"no app has consumer key {mask_key(cfg.consumer_key)} or callback {cfg.callback}",
                )
            ]
        app = same_cb[0]
        out.append(
            row(
                "consumer key",
                "fail",
                f"{mask_key(cfg.consumer_key)} is not this app's consumer key (matched by callback)",
                app,
            )
        )
    callbacks = catalog.read_value(app, "callback_urls")
    if cfg.callback in callbacks:
        out.append(row("callback registered", "ok", f"{cfg.callback} is a callback URL of the app", app))
    else:
        out.append(
            row(
                "callback registered",
                "fail",
                f"{cfg.callback} is not among the app's callback URLs ({'; '.join(callbacks) or 'none'})",
                app,
            )
        )
    granted = {catalog.SCOPE_EQUIVALENT.get(s, s) for s in catalog.read_value(app, "scopes")}
    if cfg.scopes is None:
        out.append(row("scopes granted", "ok", "no oauthScopes requested: the app's scopes apply", app))
    else:
        missing = [s for s in cfg.scopes if _granted_as(s) not in granted]
        out.append(
            row(
                "scopes granted",
                "fail" if missing else "ok",
                f"requested but not granted: {', '.join(missing)}"
                if missing
                else f"requested {', '.join(cfg.scopes)}: all granted",
                app,
            )
        )
    mobile = catalog.sections(app)["mobile_config"] or bool(catalog.read_value(app, "mobile_plugin"))
    out.append(
        row(
            "mobile app",
            "ok" if mobile else "warn",
            "the app has mobile settings"
            if mobile
            else "the app has no mobile settings (Mobile App Settings / the ECA mobile plugin)",
            app,
        )
    )
    pkce = catalog.read_value(app, "pkce")
    out.append(
        row(
            "PKCE",
            "ok" if pkce else "warn",
            "the app requires PKCE" if pkce else "a mobile app cannot keep a secret: require PKCE",
            app,
        )
    )
    return out


def _granted_as(sdk_scope: str) -> str:
    """The scope an app must grant for the Mobile SDK's ``sdk_scope`` (``offline_access``: RefreshToken)."""
    value = catalog.SCOPE_WIRE_NAMES.get(sdk_scope.lower(), sdk_scope)
    return catalog.SCOPE_EQUIVALENT.get(value, value)
