"""Connected app → external client app readiness, per app, with the ECA settings it would map to.

Salesforce's supported path is the App Manager button "Migrate to External Client App" (help
``xcloud.migrate_connected_app_to_external_client_app.htm``): only *local* connected apps are eligible, and
ECAs do not support the username-password flow. Settings with no ECA equivalent (mobile distribution, PIN
length, mobile start URL...) do not block it but are lost. The mapping below is a **plan** read from the
field catalog, not a Salesforce migration.

>>> import pandas as pd
>>> apps = pd.DataFrame([{"name": "A", "kind": "ConnectedApp", "coverage": "metadata", "scopes": "Api",
...                       "ip_relaxation": "ENFORCE"}])
>>> eca_readiness({"apps": apps}).loc[0, ["status", "reasons"]].tolist()
['eligible', '']
"""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd

from ..model import catalog
from .definitions import USERNAME_PASSWORD_FLOWS, logins_of
from .model import AppFacts

READINESS_COLUMNS = ("app", "status", "eligible", "reasons", "lost_settings", "plan")
PLAN_NOTE = "plan only: migrate with Setup > App Manager > Migrate to External Client App"
KB_IP_ALLOWLIST = "https://help.salesforce.com/s/articleView?id=005387022"
# what Salesforce says happens on migration that no audit field can tell beforehand (GOV-04 says them)
MIGRATION_CAVEATS = (
    "the username-password flow stops working (external client apps do not support it)",
    f"the Refresh Token IP Allowlist is not migrated (KB 005387022 {KB_IP_ALLOWLIST}): set it again on the "
    "ECA",
    "the connected app stays as a read-only copy: later changes go to the ECA (no API field tells a migrated "
    "connected app, so the toolkit cannot refuse an edit of one beforehand: the org refuses it)",
)
PUSH_CAVEAT = (
    "migration fails if push settings are invalid (an expired Apple P12 certificate, a legacy Android server "
    "key): a connected app's push settings are not in metadata, so the audit cannot check them"
)


def migration_caveats(mobile: bool | None) -> list[str]:
    """The caveats of migrating one connected app (the push one unless it is known not to be mobile).

    >>> len(migration_caveats(False)), len(migration_caveats(None))
    (3, 4)
    """
    return [*MIGRATION_CAVEATS, *([] if mobile is False else [PUSH_CAVEAT])]


def readiness_of(f: AppFacts) -> tuple[bool, list[str], list[str]]:
    """(eligible, reasons, plan lines) for one connected app."""
    reasons: list[str] = []
    if f.value("namespace") or f.row.get("coverage") == "soql_only":
        reasons.append("packaged or installed from another org: only local apps can migrate")
    if f.row.get("coverage") in ("tokens_only", "unreadable"):
        reasons.append(f"not readable: {f.value('coverage_reason') or f.row.get('coverage')}")
    if logins_of(f, USERNAME_PASSWORD_FLOWS):
        reasons.append("username-password flow in use (external client apps do not support it)")
    plan = []
    for fld, where in _mapped_fields():
        value = f.value(fld.id)
        if value is not None and value != "":
            plan.append(f"{fld.label}: {value} -> {where}")
    return not reasons, reasons, plan


@functools.lru_cache(maxsize=1)
def _mapped_fields() -> tuple[tuple[catalog.Field, str], ...]:
    """Connected app settings that an ECA setting carries, with where (component.path) it lives."""
    out = []
    for fld in catalog.fields(kind=catalog.CA):
        if fld.eca is not None and fld.eca.reads and not (fld.secret or fld.masked or fld.many):
            out.append((fld, f"{fld.eca.reads[0].type_name}.{fld.eca.reads[0].path}"))
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _unmapped_fields() -> tuple[catalog.Field, ...]:
    return tuple(f for f in catalog.fields(kind=catalog.CA) if f.eca is None and not f.secret)


def lost_settings(f: AppFacts) -> list[str]:
    """Settings set on the connected app that no external client app setting carries."""
    return [fld.label for fld in _unmapped_fields() if f.value(fld.id) not in (None, "", False)]


def eca_readiness(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per connected app: ``status`` (eligible / eligible, settings lost / not eligible),
    ``reasons``, ``lost_settings`` and the ECA ``plan`` (labelled as a plan, see :data:`PLAN_NOTE`)."""
    from .engine import app_facts

    rows: list[dict[str, Any]] = []
    for f in app_facts(tables):
        if f.kind != catalog.CA:
            continue
        eligible, reasons, plan = readiness_of(f)
        lost = lost_settings(f)
        status = "not eligible" if not eligible else "eligible, settings lost" if lost else "eligible"
        rows.append(
            {
                "app": f.name,
                "status": status,
                "eligible": eligible,
                "reasons": "; ".join(reasons),
                "lost_settings": "; ".join(lost),
                "plan": (PLAN_NOTE + ": " + "; ".join(plan)) if plan else "",
            }
        )
    return pd.DataFrame(rows, columns=list(READINESS_COLUMNS))
