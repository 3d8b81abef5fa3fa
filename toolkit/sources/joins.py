"""Join the three surfaces of an org into :class:`AppBundle` rows (domain notes §2.7, §9).

Keys, in order of trust:

1. metadata ``ConnectedApp`` <-> ``ConnectedApplication``: the listMetadata ``FileProperties.id`` equals the
   ``ConnectedApplication.Id`` (both ``0H4`` ids, compared on their 15-character prefix). Salesforce does not
   document this (domain §2.7 ⚠️), so when no id matches we fall back to metadata ``label`` == SOQL ``Name``,
   and then ``fullName`` == ``Name``, each only when the name is unique on both sides. The key used is kept
   in ``bundle.soql["join_key"]``.
2. ``AppMenuItem.ApplicationId`` and ``SetupEntityAccess.SetupEntityId`` -> ``ConnectedApplication.Id``.
3. ``OauthToken``: ``AppMenuItemId`` -> AppMenuItem -> app, else ``AppName`` == ``ConnectedApplication.Name``;
   ``LoginHistory.Application`` == ``Name``. Token/login names that match no app are *phantom* apps
   (used, not installed): rows with coverage ``tokens_only``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..model.bundle import AppBundle
from ..model.catalog import policies_only_reason, publisher_types
from ..model.document import MetadataDocument

PACKAGED_STATES = frozenset(
    {"installed", "released", "beta", "installedEditable", "deprecated", "deprecatedEditable"}
)


def id15(value: Any) -> str:
    """The case-sensitive 15-character form of a Salesforce Id ('' for None).

    >>> id15("0H4000000000001AAA")
    '0H4000000000001'
    """
    return str(value or "")[:15]


@dataclass
class OrgFacts:
    """What an org said, before joining: listings, read documents, failures and SOQL rows."""

    origin: str
    listing: list[dict[str, str]] = field(default_factory=list)  # FileProperties of every listed component
    documents: dict[tuple[str, str], MetadataDocument] = field(default_factory=dict)  # (type, fullName)
    read_failures: dict[tuple[str, str], str] = field(default_factory=dict)  # (type, fullName) -> why
    refused: dict[str, str] = field(default_factory=dict)  # SOQL object -> the refusal's code (running user)
    soql: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # object name -> flat rows
    list_failures: dict[str, str] = field(default_factory=dict)  # metadata type not listed -> why
    soql_failures: dict[str, str] = field(default_factory=dict)  # object not read -> why

    def unknown_objects(self, *objects: str) -> list[str]:
        """The ``objects`` whose query failed (their facts are unknown, not empty)."""
        return [o for o in objects if o in self.soql_failures]


def _unique(rows: Iterable[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    rows = list(rows)
    counts = Counter(r.get(key) for r in rows)
    return {str(r[key]): r for r in rows if r.get(key) and counts[r.get(key)] == 1}


def join(facts: OrgFacts) -> list[AppBundle]:
    """:func:`join_apps` then :func:`attach_usage`: every app, phantoms included."""
    bundles = join_apps(facts)
    return bundles + attach_usage(facts, bundles)


def join_apps(facts: OrgFacts) -> list[AppBundle]:
    """Every app of the org as an :class:`AppBundle`, whatever is known of it.

    >>> facts = OrgFacts(origin="https://x", listing=[{"type": "ConnectedApp", "fullName": "A",
    ...     "id": "0H4000000000001AAA", "manageableState": "unmanaged"}],
    ...     soql={"ConnectedApplication": [{"Id": "0H4000000000001AAA", "Name": "App A", "PinLength": "6"}]})
    >>> [(b.name, b.coverage, b.soql["join_key"]) for b in join(facts)]
    [('A', 'unreadable', 'id')]
    """
    ca_rows = facts.soql.get("ConnectedApplication", [])
    ca_by_id = {id15(r.get("Id")): r for r in ca_rows}
    menu_by_app = {id15(r.get("ApplicationId")): r for r in facts.soql.get("AppMenuItem", [])}
    grants: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in facts.soql.get("SetupEntityAccess", []):
        grants[id15(r.get("SetupEntityId"))].append(r)

    bundles: list[AppBundle] = []
    matched: set[str] = set()
    pending: list[tuple[AppBundle, dict[str, str]]] = []
    for props in facts.listing:
        if props.get("type") != "ConnectedApp":
            continue
        b = _metadata_bundle(facts, "ConnectedApp", props)
        row = ca_by_id.get(id15(props.get("id")))
        if row is not None:
            _attach(b, row, "id", menu_by_app, grants)
            matched.add(id15(row.get("Id")))
        else:
            pending.append((b, props))
        bundles.append(b)

    # fallback keys, only where the name is unique on both sides
    for key, label_of in (("label", _label), ("fullName", _api_name)):
        free = _unique((r for r in ca_rows if id15(r.get("Id")) not in matched), "Name")
        names = Counter(label_of(b) for b, _ in pending)
        still = []
        for b, props in pending:
            name = label_of(b)
            row = free.get(name) if name and names[name] == 1 else None
            if row is None:
                still.append((b, props))
                continue
            _attach(b, row, key, menu_by_app, grants)
            matched.add(id15(row.get("Id")))
        pending = still
    ca_failed = facts.soql_failures.get("ConnectedApplication")
    for b, _ in pending:
        if b.coverage == "metadata":
            b.coverage_reason = (
                f"query ConnectedApplication failed ({ca_failed}): its SOQL facts are unknown"
                if ca_failed
                else "no ConnectedApplication row matched its id, label or API name"
            )
    unlisted = facts.list_failures.get("ConnectedApp")

    # apps only SOQL knows: installed from a package or another org (readMetadata cannot see them)
    for row in ca_rows:
        if id15(row.get("Id")) in matched:
            continue
        menu = menu_by_app.get(id15(row.get("Id")))
        ns = (menu or {}).get("NamespacePrefix")
        if unlisted and not ns:
            # the listing failed: nothing says whether this app is local or packaged
            b = AppBundle(
                name=str(row.get("Name")),
                kind="ConnectedApp",
                origin=facts.origin,
                coverage="metadata_unknown",
                coverage_reason=f"listMetadata ConnectedApp failed ({unlisted}): whether it is local or "
                "packaged, and its OAuth settings, are unknown; policies from SOQL only",
                editable=None,
                not_editable_reason="unknown: the connected apps could not be listed",
            )
        else:
            b = AppBundle(
                name=str(row.get("Name")),
                kind="ConnectedApp",
                origin=facts.origin,
                coverage="soql_only",
                coverage_reason="packaged or installed app: not in listMetadata"
                + (f" (namespace {ns})" if ns else "")
                + "; policies from SOQL only",
                editable=False,
                not_editable_reason="not created in this org: only Setup can change its policies",
            )
        b.unknown.append("metadata")
        _attach(b, row, "soql_only", menu_by_app, grants)
        bundles.append(b)
    for b in bundles:
        b.unknown.extend(facts.unknown_objects("AppMenuItem", "SetupEntityAccess"))
        if ca_failed:
            b.unknown.append("ConnectedApplication")
        if "AppMenuItem" in facts.soql_failures:
            b.soql["installed"] = None  # unknown, not "not installed"

    bundles.extend(_eca_bundles(facts, grants))
    return bundles


def is_packaged(props: dict[str, str]) -> bool:
    """A listed component that came from a package (namespace or a packaged manageableState).

    >>> is_packaged({"namespacePrefix": "acme", "manageableState": "installed"}), is_packaged({})
    (True, False)
    """
    return bool(props.get("namespacePrefix")) or props.get("manageableState", "") in PACKAGED_STATES


def _label(b: AppBundle) -> str | None:
    doc = b.doc("ConnectedApp")
    return doc.get("label") if doc is not None else None


def _api_name(b: AppBundle) -> str | None:
    return b.name


def _metadata_bundle(facts: OrgFacts, type_name: str, props: dict[str, str]) -> AppBundle:
    name = props.get("fullName", "")
    ns, state = props.get("namespacePrefix") or "", props.get("manageableState") or ""
    packaged = is_packaged(props)
    b = AppBundle(
        name=name,
        kind="ConnectedApp" if type_name == "ConnectedApp" else "ExternalClientApplication",
        origin=facts.origin,
        file_properties=dict(props),
    )
    doc = facts.documents.get((type_name, name))
    failure = facts.read_failures.get((type_name, name))
    if doc is not None:
        b.documents.append(doc)
    else:
        b.coverage = "unreadable"
        b.unknown.append("metadata")
        if packaged:
            b.coverage_reason = (
                f"packaged app ({'namespace ' + ns + ', ' if ns else ''}{state or 'installed'}): "
                + (
                    f"the Metadata API could not load it ({failure})"
                    if failure
                    else "the Metadata API returns nothing for apps not created in this org"
                )
            )
        elif failure:
            b.coverage_reason = f"readMetadata failed: {failure}"
        else:
            b.coverage_reason = "readMetadata returned no record"
    if packaged and doc is not None and b.kind == "ExternalClientApplication":
        # the subscriber's policy files stay editable through the Metadata API (help:
        # xcloud.meta_configure_external_client_app_policies.htm); the publisher's settings do not
        b.editable, b.not_editable_reason = True, policies_only_reason(ns, state)
        b.read_only = publisher_types(ns)
    elif packaged:
        b.editable, b.not_editable_reason = (
            False,
            f"packaged ({state or 'installed'}): only Setup can change it",
        )
    elif failure:
        b.editable, b.not_editable_reason = None, "unknown: its metadata could not be read"
    elif doc is None:
        b.editable, b.not_editable_reason = False, "its metadata could not be read"
    return b


def _attach(
    b: AppBundle,
    row: dict[str, Any],
    key: str,
    menu_by_app: dict[str, dict[str, Any]],
    grants: dict[str, list[dict[str, Any]]],
) -> None:
    app_id = id15(row.get("Id"))
    b.soql["ConnectedApplication"] = row
    b.soql["join_key"] = key
    menu = menu_by_app.get(app_id)
    if menu is not None:
        b.soql["AppMenuItem"] = menu
    b.soql["SetupEntityAccess"] = grants.get(app_id, [])
    b.soql["installed"] = menu is not None
    if b.coverage == "metadata":
        b.coverage = "metadata+soql"
    elif b.coverage == "unreadable" and is_packaged(b.file_properties):
        b.coverage = "soql_only"  # what the org allows for a packaged app, not a failure


def _eca_bundles(facts: OrgFacts, grants: dict[str, list[dict[str, Any]]]) -> list[AppBundle]:
    eca_rows = _unique(facts.soql.get("ExternalClientApplication", []), "DeveloperName")
    policies = {
        id15(r.get("ExternalClientApplicationId")): r for r in facts.soql.get("ExtlClntAppOauthPlcyCnfg", [])
    }
    members: dict[str, list[MetadataDocument]] = defaultdict(list)
    for (type_name, _), doc in sorted(facts.documents.items()):
        if type_name not in ("ConnectedApp", "ExternalClientApplication"):
            members[doc.get("externalClientApplication") or ""].append(doc)
    out = []
    seen: set[str] = set()
    unlisted_parts = sorted(
        t for t in facts.list_failures if t not in ("ConnectedApp", "ExternalClientApplication")
    )
    soql_unknown = facts.unknown_objects(
        "ExternalClientApplication", "ExtlClntAppOauthPlcyCnfg", "SetupEntityAccess"
    )
    for props in facts.listing:
        if props.get("type") != "ExternalClientApplication":
            continue
        b = _metadata_bundle(facts, "ExternalClientApplication", props)
        b.documents.extend(members.get(b.name, []))
        b.unknown.extend([f"metadata:{t}" for t in unlisted_parts] + soql_unknown)
        if unlisted_parts:
            b.coverage_reason = "; ".join(
                filter(
                    None,
                    [b.coverage_reason, f"not listed (listMetadata failed): {', '.join(unlisted_parts)}"],
                )
            )
        row = eca_rows.get(b.name)
        if row is not None:
            seen.add(b.name)
            _attach_eca(b, row, policies, grants)
        out.append(b)
    unlisted = facts.list_failures.get("ExternalClientApplication")
    for name, row in eca_rows.items():
        if name in seen:
            continue
        b = AppBundle(
            name=name,
            kind="ExternalClientApplication",
            origin=facts.origin,
            coverage="soql_only",
            coverage_reason="not in listMetadata (packaged or not visible to this user)",
            editable=False,
            not_editable_reason="its metadata could not be listed",
            unknown=["metadata", *soql_unknown],
        )
        if unlisted:
            b.coverage = "metadata_unknown"
            b.coverage_reason = (
                f"listMetadata ExternalClientApplication failed ({unlisted}): its metadata is unknown"
            )
            b.editable, b.not_editable_reason = None, "unknown: the ECAs could not be listed"
        _attach_eca(b, row, policies, grants)
        out.append(b)
    return out


def _attach_eca(
    b: AppBundle,
    row: dict[str, Any],
    policies: dict[str, dict[str, Any]],
    grants: dict[str, list[dict[str, Any]]],
) -> None:
    app_id = id15(row.get("Id"))
    b.soql["ExternalClientApplication"] = row
    b.soql["join_key"] = "DeveloperName"
    if app_id in policies:
        b.soql["ExtlClntAppOauthPlcyCnfg"] = policies[app_id]
    b.soql["SetupEntityAccess"] = grants.get(app_id, [])
    if b.coverage == "metadata":
        b.coverage = "metadata+soql"
    elif b.coverage == "unreadable" and is_packaged(b.file_properties):
        b.coverage = "soql_only"


def attach_usage(facts: OrgFacts, bundles: list[AppBundle]) -> list[AppBundle]:
    """Tag every token and login row with its app (``_app``); returns the phantom apps (new bundles)."""
    menu_to_app: dict[str, str] = {}
    name_to_app: dict[str, str] = {}
    for b in bundles:
        menu = b.soql.get("AppMenuItem")
        if menu:
            menu_to_app[id15(menu.get("Id"))] = b.name
        for candidate in _names(b):
            name_to_app.setdefault(candidate, b.name)
    phantoms: dict[str, AppBundle] = {}
    for obj, name_key in (
        ("OauthToken", "AppName"),
        ("LoginHistory", "Application"),
    ):
        for r in facts.soql.get(obj, []):
            app = menu_to_app.get(id15(r.get("AppMenuItemId"))) if r.get("AppMenuItemId") else None
            name = str(r.get(name_key) or "")
            app = app or name_to_app.get(name)
            if app is None and name:
                if name not in phantoms:
                    phantoms[name] = AppBundle(
                        name=name,
                        kind="ConnectedApp",
                        origin=facts.origin,
                        coverage="tokens_only",
                        coverage_reason="phantom: used (OAuth tokens or logins), not installed in this org",
                        editable=False,
                        not_editable_reason="not installed in this org",
                    )
                    phantoms[name].soql["installed"] = False
                app = name
            r["_app"] = app
    # IdpEventLog.AppId refers to ConnectedApplication (Object Reference); an Id no app has stays untagged
    by_id = {
        id15((b.soql.get("ConnectedApplication") or {}).get("Id")): b.name
        for b in bundles
        if (b.soql.get("ConnectedApplication") or {}).get("Id")
    }
    for r in facts.soql.get("IdpEventLog", []):
        r["_app"] = by_id.get(id15(r.get("AppId")))
    return list(phantoms.values())


def may_be_saml(b: AppBundle) -> bool:
    """Whether a connected app may sign users in by SAML: its metadata has a ``samlConfig``, or no metadata
    was read (a packaged or unreadable app: its configuration is not known)."""
    if b.kind != "ConnectedApp" or b.coverage == "tokens_only":
        return False
    if not b.documents:
        return True
    return any(d.has("samlConfig") for d in b.documents)


def _names(b: AppBundle) -> list[str]:
    out = []
    row = b.soql.get("ConnectedApplication") or {}
    if row.get("Name"):
        out.append(str(row["Name"]))
    for d in b.documents[:1]:
        label = d.get("label")
        if label:
            out.append(label)
    out.append(b.name)
    return out
