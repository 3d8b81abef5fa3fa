"""Audit tables: an :class:`~toolkit.model.bundle.Inventory` as pandas DataFrames.

``build_tables(inventory)`` returns ``apps`` (one row per app, the canonical catalog columns shared by CAs and
ECAs) and the long tables ``scopes``, ``callbacks``, ``ip_ranges``, ``attributes``, ``grants`` and
``problems``. Every column name and value comes from :mod:`toolkit.model.catalog`; SOQL-only settings
(``pin_length``, ``lock_after``...) are read from ``bundle.soql`` through the same catalog
(empty for folders).

Secrets never reach a table: consumer keys are masked (first/last four), consumer secrets and push secrets are
left out, and certificates appear only as ``has_certificate`` and ``certificate_expires`` (SAML ones as
``has_saml_certificate``, ``saml_certificate_expires``...: :func:`certificate_columns`).
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from ..model import catalog
from ..model.bundle import AppBundle, Inventory
from ..redact import mask_key

LONG_TABLES = ("scopes", "callbacks", "ip_ranges", "attributes", "grants", "problems")
BASE_COLUMNS = (
    "name",
    "kind",
    "label",
    "origin",
    "coverage",
    "coverage_reason",
    "editable",
    "not_editable_reason",
    "read_only",
    "unknown",
)
_LIST_SEP = "; "

# ``known`` is False on the one marker row of an app whose metadata could not be read: its scopes,
# callbacks... are unknown, which an absence of rows (nothing set) would not say
LONG_COLUMNS: dict[str, tuple[str, ...]] = {
    "scopes": ("app", "kind", "scope", "equivalent", "custom", "known"),
    "callbacks": ("app", "kind", "position", "url", "scheme", "host", "localhost", "known"),
    "ip_ranges": ("app", "kind", "start", "end", "description", "known"),
    "attributes": ("app", "kind", "key", "formula", "known"),
    "grants": ("app", "kind", "grant_type", "name", "source", "known"),
    "problems": ("source", "line", "problem"),
}


def build_tables(inventory: Inventory) -> dict[str, pd.DataFrame]:
    """The audit tables of an inventory.

    >>> from toolkit.model.document import MetadataDocument
    >>> doc = MetadataDocument.from_bytes(b'<ConnectedApp xmlns="http://soap.sforce.com/2006/04/metadata">'
    ...     b'<label>A</label><oauthConfig><callbackUrl>myapp://cb</callbackUrl><consumerKey>3MVG9EXAMPLE0001'
    ...     b'</consumerKey><scopes>Api</scopes></oauthConfig></ConnectedApp>', full_name="A")
    >>> t = build_tables(Inventory(apps=[AppBundle(name="A", kind="ConnectedApp", documents=[doc])]))
    >>> t["apps"].loc[0, ["name", "consumer_key", "scopes"]].tolist()
    ['A', '3MVG…0001', 'Api']
    >>> t["callbacks"].loc[0, "scheme"]
    'myapp'
    """
    rows = [app_row(b) for b in inventory.apps]
    apps = pd.DataFrame(rows, columns=list(apps_columns()))
    for f in catalog.fields():
        if f.id in apps.columns and f.type == "boolean":
            apps[f.id] = apps[f.id].astype("boolean")
        elif f.id in apps.columns and f.type == "integer":
            apps[f.id] = apps[f.id].astype("Int64")
    apps["editable"] = apps["editable"].astype("boolean")  # <NA>: unknown
    tables = {"apps": apps}
    long: dict[str, list[dict[str, Any]]] = {name: [] for name in LONG_TABLES}
    for bundle in inventory.apps:
        _long_rows(bundle, long)
    long["problems"] = [
        {"source": p.source, "line": p.line, "problem": p.problem} for p in inventory.problems
    ]
    for name in LONG_TABLES:
        frame = pd.DataFrame(long[name], columns=list(LONG_COLUMNS[name]))
        if "known" in frame.columns:
            frame["known"] = frame["known"].astype(object).ne(False)
        if name == "problems":
            frame["line"] = frame["line"].astype("Int64")
        tables[name] = frame
    return tables


def _table_fields() -> list[catalog.Field]:
    """Catalog fields that become ``apps`` columns: never secrets, never the certificate body."""
    return [f for f in catalog.fields() if not f.secret and f.type not in ("certificate", "records")]


def apps_columns() -> tuple[str, ...]:
    """The columns of the ``apps`` table, in order.

    >>> cols = apps_columns()
    >>> cols[:3], "consumer_secret" in cols, "has_certificate" in cols
    (('name', 'kind', 'label'), False, True)
    """
    cols = list(BASE_COLUMNS)
    cols += [f"has_{s}" for s in catalog.SECTIONS]
    cols += [f.id for f in _table_fields() if f.id not in cols]
    cols += [c for fid in CERTIFICATES for c in certificate_columns(fid)]
    return tuple(cols)


# certificate fields: each becomes two columns (has it, and its notAfter date), never its body
CERTIFICATES = ("certificate", "saml_certificate", "saml_encryption_certificate")


def certificate_columns(field_id: str) -> tuple[str, str]:
    """The two columns of a certificate field (``certificate``: ``has_certificate``, ``certificate_expires``).

    >>> certificate_columns("saml_certificate")
    ('has_saml_certificate', 'saml_certificate_expires')
    """
    return f"has_{field_id}", f"{field_id}_expires"


def app_row(bundle: AppBundle) -> dict[str, Any]:
    """One ``apps`` row: base columns, section flags, then the non-secret catalog fields."""
    row: dict[str, Any] = {
        "name": bundle.name,
        "kind": bundle.kind,
        "origin": bundle.origin,
        "coverage": bundle.coverage,
        "coverage_reason": bundle.coverage_reason,
        "editable": bundle.editable,
        "not_editable_reason": bundle.not_editable_reason,
        "read_only": _LIST_SEP.join(sorted(bundle.read_only)),
        "unknown": "; ".join(bundle.unknown),
    }
    row.update({f"has_{k}": v for k, v in catalog.sections(bundle).items()})
    for f in _table_fields():
        value = catalog.read_value(bundle, f)
        if f.masked:
            value = mask_key(value)
        elif f.many:
            value = _LIST_SEP.join(value) if value else None
        row[f.id] = value
    for field_id in CERTIFICATES:
        cert = catalog.read_value(bundle, field_id)
        has, expires = certificate_columns(field_id)
        row[has] = bool(cert)
        row[expires] = certificate_expiry(cert) if cert else None
    return row


def certificate_expiry(text: str) -> date | None:
    """The ``notAfter`` date of a PEM or bare base64 X.509 certificate; None when it cannot be parsed.

    >>> certificate_expiry("not a certificate") is None
    True
    """
    from cryptography import x509

    body = re.sub(r"-----(BEGIN|END) CERTIFICATE-----|\s", "", text)
    try:
        der = base64.b64decode(body, validate=True)
        cert = x509.load_der_x509_certificate(der)
    except (ValueError, binascii.Error):
        return None
    return cert.not_valid_after_utc.date()


def _long_rows(bundle: AppBundle, out: dict[str, list[dict[str, Any]]]) -> None:
    key = {"app": bundle.name, "kind": bundle.kind}
    if any(u.startswith("metadata") for u in bundle.unknown):  # all of it, or some of its types
        for name in ("scopes", "callbacks", "ip_ranges", "attributes"):
            out[name].append({**key, "known": False})
        out["grants"].append({**key, "source": "metadata", "known": False})
    if "SetupEntityAccess" in bundle.unknown:
        out["grants"].append({**key, "source": "SetupEntityAccess", "known": False})
    for scope in catalog.read_value(bundle, "scopes"):
        out["scopes"].append(
            {**key, "scope": scope, "equivalent": catalog.SCOPE_EQUIVALENT.get(scope, scope), "custom": False}
        )
    if bundle.kind == catalog.ECA:
        # ECA custom scopes are free text (developer-defined), kept apart from the enum scopes
        for doc in bundle.docs("ExtlClntAppOauthSettings"):
            for scope in catalog.split_commas(doc.get("commaSeparatedCustomScopes") or ""):
                out["scopes"].append({**key, "scope": scope, "equivalent": scope, "custom": True})
    for i, url in enumerate(catalog.read_value(bundle, "callback_urls"), start=1):
        parts = urlsplit(url)
        host = parts.hostname or ""
        out["callbacks"].append(
            {
                **key,
                "position": i,
                "url": url,
                "scheme": parts.scheme.lower(),
                "host": host,
                "localhost": host in ("localhost", "127.0.0.1", "::1"),
            }
        )
    for rng in catalog.read_value(bundle, "ip_ranges"):
        out["ip_ranges"].append({**key, **rng})
    for attr in catalog.read_value(bundle, "custom_attributes"):
        out["attributes"].append({**key, **attr})
    for field_id, grant_type in (("profiles", "Profile"), ("permission_sets", "PermissionSet")):
        for name in catalog.read_value(bundle, field_id):
            out["grants"].append({**key, "grant_type": grant_type, "name": name, "source": "metadata"})
    for row in bundle.soql.get("SetupEntityAccess", []) or []:
        grant = _setup_entity_access(row)
        if grant is not None:
            out["grants"].append({**key, **grant, "source": "SetupEntityAccess"})


def _setup_entity_access(row: Any) -> dict[str, str] | None:
    """A SetupEntityAccess row as simple-salesforce returns it (``Parent`` = the PermissionSet; profiles are
    permission sets with ``IsOwnedByProfile``)."""
    if not isinstance(row, dict):
        return None
    parent = row.get("Parent") or {
        "IsOwnedByProfile": row.get("Parent.IsOwnedByProfile"),  # flat (Bulk API CSV) rows
        "Name": row.get("Parent.Name"),
        "Profile": {"Name": row.get("Parent.Profile.Name")},
    }
    if parent.get("IsOwnedByProfile") in (True, "true"):
        profile = parent.get("Profile") or {}
        return {"grant_type": "Profile", "name": str(profile.get("Name") or parent.get("Name") or "")}
    return {"grant_type": "PermissionSet", "name": str(parent.get("Name") or row.get("ParentId") or "")}
