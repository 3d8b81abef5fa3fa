"""Read every connected app and external client app of an org into an :class:`Inventory`, fast.

One pass, with the calls overlapped on a bounded thread pool (``org.concurrency``):

1. ``GET /limits`` (daily API usage before), then ``listMetadata`` (3 types per call) while the SOQL queries
   (``ConnectedApplication``, ``AppMenuItem``, ``SetupEntityAccess``, ``OauthToken``, ``LoginHistory``,
   the ECA objects) already run;
2. ``readMetadata`` in batches of 10 names, several batches in flight (more than 10 installed connected apps:
   one ``retrieve`` job, :func:`retrieve_batch`); meanwhile the org-wide settings
   (one ``readMetadata`` per Settings type) and the holders of the gating permissions (:mod:`.org_posture`);
3. the join (:mod:`.joins`). The usage after comes from the last ``Sforce-Limit-Info`` header (no extra call).

A call that still fails after the retries either stops the audit with an :class:`OrgError` (``strict=True``)
or leaves the inventory ``partial`` with the reason; it is never silently incomplete.
"""

from __future__ import annotations

import io
import re
import threading
import time
import zipfile
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..errors import OrgError
from ..model import schema
from ..model.bundle import AppBundle, Inventory, LoadProblem
from ..model.document import MetadataDocument
from . import mdapi_client as soap
from . import org_posture, running_user
from .joins import OrgFacts, attach_usage, is_packaged, join_apps, may_be_saml
from .org import Org
from .resilience import UNLOADABLE_MARK

CA_TYPE = "ConnectedApp"
# the ECA family as far as metadata files exist for it (the schema's file table is the one list)
# (types the v66 WSDL lacks are not asked for: an org at v66 answers INVALID_TYPE)
ECA_TYPES = tuple(k.type_name for k in schema.FILE_KINDS if k.type_name != CA_TYPE and k.in_wsdl)
DEFAULT_WINDOW_DAYS = 180
HEARTBEAT_S = 15.0  # with ``progress``: how often a call still waiting for the org is reported


def soql_queries(window_days: int = DEFAULT_WINDOW_DAYS) -> dict[str, str]:
    """The SOQL an audit runs (domain notes §2.8); no secret column (AccessToken, DeleteToken) is selected.

    >>> sorted(soql_queries())[:3]
    ['AppMenuItem', 'ConnectedApplication', 'ExternalClientApplication']
    """
    return {
        "ConnectedApplication": (
            "SELECT Id, Name, CreatedDate, LastModifiedDate, OptionsAllowAdminApprovedUsersOnly, "
            "OptionsRefreshTokenValidityMetric, RefreshTokenValidityPeriod, OptionsHasSessionLevelPolicy, "
            "StartUrl, MobileStartUrl, MobileSessionTimeout, PinLength FROM ConnectedApplication"
        ),
        "AppMenuItem": (
            "SELECT Id, ApplicationId, Name, Label, NamespacePrefix, IsUsingAdminAuthorization, "
            "IsAccessible, IsVisible, StartUrl, MobileStartUrl, MobilePlatform, MobileDeviceType, "
            "MobileMinOsVer, MobileAppVer "
            "FROM AppMenuItem WHERE Type = 'ConnectedApplication'"
        ),
        "SetupEntityAccess": (
            "SELECT SetupEntityId, SetupEntityType, ParentId, Parent.Name, Parent.Label, "
            "Parent.IsOwnedByProfile, "
            "Parent.Profile.Name FROM SetupEntityAccess "
            "WHERE SetupEntityType IN ('ConnectedApplication', 'ExternalClientApplication')"
        ),
        "OauthToken": (
            "SELECT AppName, AppMenuItemId, UserId, LastUsedDate, UseCount, CreatedDate FROM OauthToken"
        ),
        # users apart, joined here: a User.* relationship on every token row costs the org a join per row,
        # and relationship filters on OauthToken are not documented (domain notes §2.8 E)
        "User": "SELECT Id, Username, IsActive FROM User",
        # ECA policies name their pre-authorized profiles and permission sets by Id: the names come from here
        "PermissionSet": "SELECT Id, Name, IsOwnedByProfile, ProfileId, Profile.Name FROM PermissionSet",
        # aggregated by the org: a few hundred rows instead of every login (LoginHistory can hold millions)
        "LoginHistory": (
            "SELECT Application, LoginType, LoginSubType, COUNT(Id) n, COUNT_DISTINCT(UserId) u, "
            f"MAX(LoginTime) lastLogin FROM LoginHistory WHERE LoginTime = LAST_N_DAYS:{int(window_days)} "
            "GROUP BY Application, LoginType, LoginSubType"
        ),
        # SAML sign-ins with Salesforce as the identity provider (Object Reference, IdpEventLog): not in
        # OauthToken or LoginHistory; successes only (a failed sign-in is not use), one row per app
        "IdpEventLog": (
            "SELECT AppId, COUNT(Id) n, MAX(Timestamp) lastLogin FROM IdpEventLog "
            f"WHERE Timestamp = LAST_N_DAYS:{int(window_days)} AND ErrorCode = 'Success' GROUP BY AppId"
        ),
        "ExternalClientApplication": (
            "SELECT Id, DeveloperName, MasterLabel, CreatedDate, LastModifiedDate "
            "FROM ExternalClientApplication"
        ),
        "ExtlClntAppOauthPlcyCnfg": (
            "SELECT ExternalClientApplicationId, PermittedUsersPolicyType, IpRelaxationPolicyType, "
            "RefreshTokenPolicyType, RefreshTokenValidityPeriod, RefreshTokenValidityUnit, "
            "RequiredSessionLevel "
            "FROM ExtlClntAppOauthPlcyCnfg"
        ),
    }


ECA_OBJECTS = frozenset({"ExternalClientApplication", "ExtlClntAppOauthPlcyCnfg"})
# objects whose absence (older API version, feature off, no permission) does not make the audit partial;
# without IdpEventLog the usage of the apps that may be SAML is unknown (``AppBundle.unknown``), not zero
OPTIONAL_OBJECTS = ECA_OBJECTS | {"IdpEventLog"}
USAGE_OBJECTS = ("OauthToken", "LoginHistory", "User", "IdpEventLog")
_MISSING_CODES = frozenset({"INVALID_TYPE", "INVALID_FIELD", "NOT_FOUND"})


def load_org(
    org: Org,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    strict: bool = False,
    limits: bool = True,
    include_ecas: bool = True,
    posture: bool = True,
    objects: Collection[str] | None = None,
    on_apps: Callable[[list[AppBundle]], None] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Inventory:
    """Everything the org knows about its connected apps and ECAs, joined (see the module doc).

    ``objects``: run only the SOQL of these objects (default: every one of :func:`soql_queries`); the
    columns the others give are then empty, not unknown, so only a caller that reads none of them may say so.
    ``posture=False`` leaves out the org-wide settings (the ``org`` table; selecting apps needs none of it).
    ``progress(line)`` is called for each step and each retry (the CLI prints them on stderr; quiet by
    default). What could not be read is unknown, with the reason: listings and read batches that failed
    after their retries, queries that failed (``AppBundle.unknown``, ``problems``, ``partial``). When nothing
    at all could be read (the org stopped answering, refused the session...), the first :class:`OrgError` is
    raised instead: there is no table to show.

    Not run as a doctest (it needs an org); see tests/test_org_audit.py::

        inv = load_org(toolkit.connect())
    """
    started = time.perf_counter()
    facts = OrgFacts(origin=org.instance_url)
    problems: list[LoadProblem] = []
    partial: list[str] = []
    previous_progress = org.progress
    stop_heartbeat = threading.Event()
    if progress is not None:
        org.progress = progress
        threading.Thread(target=_heartbeat, args=(org, stop_heartbeat), daemon=True).start()

    errors: list[OrgError] = []

    def failed(what: str, exc: OrgError) -> None:
        if strict:
            raise exc
        errors.append(exc)
        partial.append(f"{what}: {exc}")
        problems.append(LoadProblem(org.instance_url, None, f"{what}: {exc}"))

    types = [CA_TYPE, *(ECA_TYPES if include_ecas else ())]
    queries = soql_queries(window_days)
    if not include_ecas:
        queries = {k: v for k, v in queries.items() if k not in ECA_OBJECTS}
    if objects is not None:
        queries = {k: v for k, v in queries.items() if k in objects}
    try:
        with ThreadPoolExecutor(max_workers=org.concurrency, thread_name_prefix="org") as pool:
            limits_future = pool.submit(org.limits) if limits else None
            soql_futures = {
                obj: pool.submit(_run_query, org, obj, q, window_days) for obj, q in queries.items()
            }
            posture_futures = org_posture.submit(pool, org) if posture else {}
            # what the running user may see of the usage tables (one query, beside the others)
            seen_in_part = tuple(o for o in running_user.SEES_ALL if o in queries)
            perms_future = pool.submit(running_user.read, org) if seen_in_part else None
            try:
                facts.listing, types, list_errors = _list(org, pool, types, strict)
            except OrgError:  # strict: the first listing failure stops the audit
                _cancel([*soql_futures.values(), *posture_futures.values()])
                raise
            for what, exc in list_errors.items():
                for t in what.split(", "):
                    facts.list_failures[t] = str(exc)
                failed(f"listMetadata {what}", exc)
            org.say(f"listed {len(facts.listing)} metadata components")
            read_futures = _submit_reads(pool, org, facts.listing, strict)
            for (type_name, _names), fut in read_futures:
                try:
                    batch = fut.result()
                except OrgError:  # strict
                    _cancel(f for _, f in read_futures)
                    _cancel([*soql_futures.values(), *posture_futures.values()])
                    raise
                _take_batch(org, facts, type_name, batch, failed, problems, strict)
            org.say(f"read {len(facts.documents)} metadata records")
            # the apps are known before the usage tables (the largest) arrive: let the caller work meanwhile
            app_futures = {o: f for o, f in soql_futures.items() if o not in USAGE_OBJECTS}
            usage_futures = {o: f for o, f in soql_futures.items() if o in USAGE_OBJECTS}
            _collect(app_futures, facts, problems, failed, org.instance_url)
            bundles = join_apps(facts)
            if on_apps is not None:
                on_apps(bundles)
            _collect(usage_futures, facts, problems, failed, org.instance_url)
            limited = _limited(perms_future, seen_in_part, facts, problems, failed, org.instance_url)
            org_rows = (
                org_posture.collect(posture_futures, problems, failed, org.instance_url) if posture else []
            )
            org.say(f"queried {sum(len(r) for r in facts.soql.values())} SOQL rows")
            if limits_future is not None:
                try:
                    org.ledger.limits_before = limits_future.result()
                except OrgError as exc:  # the audit itself can go on: the before figure is then unknown
                    problems.append(LoadProblem(org.instance_url, None, f"GET /limits: {exc}"))
    finally:
        stop_heartbeat.set()
        org.progress = previous_progress
    if errors and not facts.listing and set(queries) <= set(facts.soql_failures):
        # nothing at all could be read (org not answering, session refused, TLS...): no tables to show
        raise org.unreachable or errors[0]
    _attach_users(facts.soql)
    phantoms = attach_usage(facts, bundles)
    usage_unknown = facts.unknown_objects("OauthToken", "LoginHistory", "User")
    usage_unknown += [why for obj, why in limited.items() if obj not in usage_unknown]
    for b in bundles + phantoms:
        b.unknown.extend(u for u in usage_unknown if u not in b.unknown)
    if "IdpEventLog" in facts.soql_failures:
        # SAML sign-ins could not be read: an app that may be SAML and shows no OAuth use is of unknown use
        # (refused to this user: the entry names the permission)
        kind = facts.refused.get("IdpEventLog")
        entry = running_user.refused("IdpEventLog", kind, _result(perms_future)) if kind else "IdpEventLog"
        seen = {r.get("_app") for obj in ("OauthToken", "LoginHistory") for r in facts.soql.get(obj, [])}
        for b in bundles:
            if may_be_saml(b) and b.name not in seen and entry not in b.unknown:
                b.unknown.append(entry)
    inventory = Inventory(apps=bundles + phantoms, problems=problems, origin=org.instance_url)
    if partial:
        inventory.partial = True
        inventory.partial_reason = "; ".join(partial)[:2000]
    inventory.extra.update(
        {
            "tokens": facts.soql.get("OauthToken", []),
            "logins": facts.soql.get("LoginHistory", []),
            "saml_logins": facts.soql.get("IdpEventLog", []),
            "unknown_objects": sorted({*facts.soql_failures, *limited}),
            "names_by_id": names_by_id(facts.soql.get("PermissionSet", [])),
            "window_days": window_days,
            "api": org.ledger.snapshot(),
            "lower_bound": lower_bound(facts.listing, facts.soql, types)
            + org_posture.calls(posture_futures)
            + (perms_future is not None),
            "org": org_rows,
            "api_version": org.api_version,
            "seconds": round(time.perf_counter() - started, 3),
        }
    )
    return inventory


def names_by_id(permission_sets: list[dict[str, Any]]) -> dict[str, str]:
    """Profile and permission set names by 15-character Id (ECA policies hold Ids; people read names).

    >>> names_by_id([{"Id": "0PS000000000001AAA", "Name": "Field_Sales", "IsOwnedByProfile": False},
    ...   {"Id": "0PS000000000002AAA", "Name": "X00ex", "IsOwnedByProfile": True,
    ...    "ProfileId": "00e000000000001AAA", "Profile": {"Name": "Sales User"}}])
    {'0PS000000000001': 'Field_Sales', '00e000000000001': 'Sales User'}
    """
    out: dict[str, str] = {}
    for row in permission_sets:
        if row.get("IsOwnedByProfile"):
            name = (row.get("Profile") or {}).get("Name")
            if row.get("ProfileId") and name:
                out[str(row["ProfileId"])[:15]] = str(name)
        elif row.get("Id") and row.get("Name"):
            out[str(row["Id"])[:15]] = str(row["Name"])
    return out


def _heartbeat(org: Org, stop: threading.Event) -> None:
    """Every ``HEARTBEAT_S`` seconds, say which call has waited longest for the org (a stall is visible)."""
    while not stop.wait(HEARTBEAT_S):
        waiting = org.waiting()
        if waiting:
            what, seconds = waiting[0]
            org.say(
                f"waiting for the org: {len(waiting)} request(s) in flight, longest {what} ({seconds:.0f} s; "
                f"read timeout {org.timeout[1]:g} s)"
            )


def _take_batch(
    org: Org,
    facts: OrgFacts,
    type_name: str,
    batch: ReadBatch,
    failed: Callable[[str, OrgError], None],
    problems: list[LoadProblem],
    strict: bool,
) -> None:
    """Documents of one read batch into ``facts``; its failed names become unknown, with the reason."""
    for rec in batch.records:
        if soap.record_full_name(rec) is None:
            continue
        doc = soap.record_to_document(rec, type_name, org.instance_url)
        facts.documents[(type_name, doc.full_name)] = doc
    for doc in batch.documents:
        facts.documents[(type_name, doc.full_name)] = doc
    packaged = {p.get("fullName") for p in facts.listing if p.get("type") == type_name and is_packaged(p)}
    for names, exc in batch.failures:
        for n in names:
            facts.read_failures[(type_name, n)] = str(exc)
        what = f"{batch.via} {type_name} {', '.join(names[:3])}{'...' if len(names) > 3 else ''}"
        if is_unloadable(exc) and set(names) <= packaged:
            # packaged apps are not readable anyway (readMetadata returns nothing for them): a problem
            # row, not a partial audit
            problems.append(LoadProblem(org.instance_url, None, f"{what}: {exc}"))
            continue
        failed(f"{what} ({len(names)} apps)", exc)


def _collect(
    futures: dict[str, Future[list[dict[str, Any]]]],
    facts: OrgFacts,
    problems: list[LoadProblem],
    failed: Callable[[str, OrgError], None],
    origin: str,
) -> None:
    for obj, fut in futures.items():
        try:
            facts.soql[obj] = fut.result()
        except OrgError as exc:
            facts.soql[obj] = []
            facts.soql_failures[obj] = str(exc)
            if obj in OPTIONAL_OBJECTS and exc.kind in _MISSING_CODES:
                problems.append(LoadProblem(origin, None, f"query {obj} skipped: {exc}"))
                continue
            if obj in running_user.READ_NEEDS and exc.kind in running_user.REFUSED:
                # refused to this user: what it holds is unknown (load_org names the permission), not a
                # failed audit
                problems.append(LoadProblem(origin, None, f"query {obj} refused to the running user: {exc}"))
                facts.refused[obj] = exc.kind
                continue
            failed(f"query {obj}", exc)


def _limited(
    future: Future[dict[str, Any]] | None,
    objects: tuple[str, ...],
    facts: OrgFacts,
    problems: list[LoadProblem],
    failed: Callable[[str, OrgError], None],
    origin: str,
) -> dict[str, str]:
    """The usage tables the running user sees only in part (:mod:`.running_user`), with a problem row each."""
    if future is None:
        return {}
    what = f"query {running_user.OBJECT}"
    try:
        permissions = future.result()
    except OrgError as exc:
        if exc.kind in running_user.MISSING:
            problems.append(
                LoadProblem(
                    origin,
                    None,
                    f"{what} skipped: {exc}; the running user's permissions are unknown, so whether "
                    f"{' and '.join(objects)} show every user's rows is unknown",
                )
            )
        else:
            failed(what, exc)
        return {}
    out = {o: why for o, why in running_user.limited(permissions, objects).items() if o in facts.soql}
    for why in out.values():
        problems.append(LoadProblem(origin, None, f"{why}: its usage figures are unknown"))
    return out


def _result(future: Future[dict[str, Any]] | None) -> dict[str, Any] | None:
    """The running user's permissions, or None when they were not read or could not be."""
    try:
        return future.result() if future is not None else None
    except OrgError:
        return None


def _attach_users(soql: dict[str, list[dict[str, Any]]]) -> None:
    """Give each token row its ``User`` (``Username``, ``IsActive``), as the relationship query would."""
    users = {str(u.get("Id"))[:15]: u for u in soql.get("User", [])}
    for t in soql.get("OauthToken", []):
        u = users.get(str(t.get("UserId"))[:15])
        t["User"] = {"Username": u.get("Username"), "IsActive": u.get("IsActive")} if u else {}


AGGREGATE_ROW_LIMIT = 2000  # an aggregate query returns at most 2,000 groups and cannot page


TOKEN_CAP = 2500  # Object Reference, OauthToken: "No more records are returned after 2500"
TOKEN_BATCH = 500  # ... "A query() call returns up to 500 rows. A queryMore() call returns 500 more"


def _run_query(org: Org, name: str, soql: str, window_days: int) -> list[dict[str, Any]]:
    if name == "OauthToken":
        return read_tokens(org, soql)
    if name != "LoginHistory":
        return org.query(soql)
    try:
        rows = org.query(soql, bulk_ok=False)
        if len(rows) < AGGREGATE_ROW_LIMIT:
            return rows
    except OrgError as exc:
        if exc.kind not in ("MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE"):
            raise
    # too many groups, or an org that refuses the aggregate: read the logins and count them here
    raw = org.query(
        "SELECT Application, LoginType, LoginSubType, LoginTime, UserId FROM LoginHistory "
        f"WHERE LoginTime = LAST_N_DAYS:{int(window_days)}"
    )
    return aggregate_logins(raw, by_flow=True)


def read_tokens(org: Org, soql: str) -> list[dict[str, Any]]:
    """Every OauthToken row. A query stops at 2,500 rows (its ``totalSize`` may too), as the Object Reference
    says ("No more records are returned after 2500... issue a COUNT() query... divide your query by filtering
    on fields"). So the rows are read in ``CreatedDate`` order, and a full-looking result is followed by one
    ``COUNT()`` and by the next window from the last ``CreatedDate`` read (``>=``: the rows of that second
    already read come first again and are dropped), until the count is reached: about one extra call in
    all, never a wasted page. Every extra call is in ``api_calls``; a table still short (more than 2,500
    tokens created in one second, or the org changing under the read) is unknown with the reason."""
    order = " ORDER BY CreatedDate ASC, Id ASC"
    rows = org.query(soql + order)
    if len(rows) < TOKEN_CAP:
        return rows
    count = _count_tokens(org, "")
    out = list(rows)
    part = rows
    while len(out) < count:
        last = part[-1].get("CreatedDate")
        second = _soql_time(last)
        seen = 0  # the rows of that second already read (the tail of ``out``, in the same order)
        while seen < len(out) and _soql_time(out[-1 - seen].get("CreatedDate")) == second:
            seen += 1
        part = org.query(f"{soql} WHERE CreatedDate >= {_lit(second)}{order}")
        org.ledger.note_extra("OauthToken window reads (2,500-row cap)")
        fresh = part[seen:]
        if len(part) >= TOKEN_CAP and not fresh:
            raise OrgError(
                "INCOMPLETE_QUERY",
                f"query OauthToken: more than {TOKEN_CAP} tokens created at {last}: more than the rows "
                "Salesforce returns per query, and a CreatedDate window cannot be split further",
            )
        out.extend(fresh)
        if len(part) < TOKEN_CAP:
            break  # the last window: nothing after it
    if len(out) != count:
        raise OrgError("INCOMPLETE_QUERY", f"query OauthToken: got {len(out)} rows of {count} (COUNT())")
    return out


def _count_tokens(org: Org, where: str) -> int:
    org.ledger.note_extra("OauthToken COUNT() (2,500-row cap)")
    return int(org.sf.query("SELECT COUNT() FROM OauthToken" + where).get("totalSize", 0))


def _soql_time(value: Any) -> datetime:
    """``2024-06-16T03:54:00.000+0000`` -> an aware datetime (seconds kept)."""
    return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S.%f%z").replace(microsecond=0)


def _lit(value: datetime) -> str:
    """A SOQL dateTime literal: ``2024-06-16T03:54:00Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def aggregate_logins(raw: list[dict[str, Any]], *, by_flow: bool) -> list[dict[str, Any]]:
    """LoginHistory rows counted like the GROUP BY query does (``n``, ``u`` distinct users, ``lastLogin``).

    >>> aggregate_logins([{"Application": "A", "LoginType": "T", "LoginSubType": "S", "UserId": "1",
    ...     "LoginTime": "2026-01-02"}, {"Application": "A", "LoginType": "T", "LoginSubType": "S",
    ...     "UserId": "1", "LoginTime": "2026-01-03"}], by_flow=True)
    [{'Application': 'A', 'LoginType': 'T', 'LoginSubType': 'S', 'n': 2, 'u': 1, 'lastLogin': '2026-01-03'}]
    """
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    users: dict[tuple[Any, ...], set[Any]] = {}
    for r in raw:
        flow = {"LoginType": r.get("LoginType"), "LoginSubType": r.get("LoginSubType")} if by_flow else {}
        key: tuple[Any, ...] = (r.get("Application"), *flow.values())
        g = groups.setdefault(key, {"Application": key[0], **flow, "n": 0, "u": 0, "lastLogin": None})
        g["n"] += 1
        users.setdefault(key, set()).add(r.get("UserId"))
        t = r.get("LoginTime")
        if t is not None and (g["lastLogin"] is None or str(t) > str(g["lastLogin"])):
            g["lastLogin"] = t
    for key, g in groups.items():
        g["u"] = len(users[key])
        if not by_flow:
            del g["n"], g["lastLogin"]
    return list(groups.values())


def _list(
    org: Org, pool: ThreadPoolExecutor, types: list[str], strict: bool = False
) -> tuple[list[dict[str, str]], list[str], dict[str, OrgError]]:
    """listMetadata for the types (3 per call); the ECA settings/policies types only when ECAs exist.

    Returns the FileProperties of every chunk that was listed, the types asked for (for the lower bound)
    and the chunks that failed after their retries (``"type, type": error``): what was listed is kept.
    """
    step = soap.LIST_QUERIES_PER_CALL
    head, rest = types[:step], types[step:]
    errors: dict[str, OrgError] = {}
    try:
        rows = _list_chunk(org, head)
    except OrgError as exc:
        if strict:
            raise
        # nothing tells whether ECAs exist: their component types are not listed either
        return [], types, {", ".join(types): exc}
    if rest and not any(r.get("type") == "ExternalClientApplication" for r in rows):
        return rows, head, errors  # no ECA in the org: its components cannot exist either
    chunks = [rest[i : i + step] for i in range(0, len(rest), step)]
    for chunk, fut in [(c, pool.submit(_list_chunk, org, c)) for c in chunks]:
        try:
            rows.extend(fut.result())
        except OrgError as exc:
            if strict:
                raise
            errors[", ".join(chunk)] = exc
    return rows, types, errors


def _list_chunk(org: Org, types: list[str]) -> list[dict[str, str]]:
    """One listMetadata call; an unknown type (older API version) is skipped rather than failing the rest."""
    try:
        return org.list_metadata(types)
    except OrgError as exc:
        if exc.kind != "INVALID_TYPE" or len(types) == 1:
            raise
    rows: list[dict[str, str]] = []
    for t in types:  # one type per call, only after a chunk failed on an unknown type
        try:
            rows.extend(org.list_metadata([t]))
        except OrgError as exc:
            if exc.kind != "INVALID_TYPE":
                raise
    return rows


@dataclass
class ReadBatch:
    """What one planned readMetadata batch gave: records, and the names that failed with the error."""

    records: list[Any] = field(default_factory=list)
    failures: list[tuple[list[str], OrgError]] = field(default_factory=list)
    documents: list[MetadataDocument] = field(default_factory=list)  # retrieved files (retrieve_batch)
    via: str = "readMetadata"  # the call that read them (``retrieve`` for retrieve_batch)
    unloadable: bool = False  # the failures are "Load of metadata from db failed" (isolated by splitting)


def _submit_reads(
    pool: ThreadPoolExecutor, org: Org, listing: list[dict[str, str]], strict: bool = False
) -> list[tuple[tuple[str, list[str]], Future[ReadBatch]]]:
    """readMetadata batches of 10 names. Packaged connected apps go apart (after the local ones): one that
    cannot be loaded (a whole-call failure of readMetadata on real orgs) then never costs a local app; more
    than 10 of them are fetched with one ``retrieve`` (:func:`retrieve_batch`), where an unloadable app is
    a message of its own instead of a failed call.
    """
    by_type: dict[str, list[tuple[bool, str]]] = {}
    for props in listing:
        if props.get("fullName"):
            type_name = props.get("type") or CA_TYPE
            by_type.setdefault(type_name, []).append(
                (type_name == CA_TYPE and is_packaged(props), props["fullName"])
            )
    out = []
    step = soap.READ_NAMES_PER_CALL
    for type_name, entries in by_type.items():
        for packaged in (False, True):
            names = [n for p, n in entries if p is packaged]
            if packaged and len(names) > step:
                for i in range(0, len(names), RETRIEVE_NAMES_PER_JOB):
                    chunk = names[i : i + RETRIEVE_NAMES_PER_JOB]
                    job = pool.submit(retrieve_batch, org, type_name, chunk, strict)
                    out.append(((type_name, chunk), job))
                continue
            for i in range(0, len(names), step):
                chunk = names[i : i + step]
                out.append(((type_name, chunk), pool.submit(read_batch, org, type_name, chunk, strict)))
    return out


RETRIEVE_NAMES_PER_JOB = 5000  # a retrieve holds at most 10,000 files (Metadata API Developer Guide)
_NOT_FOUND = re.compile(r"Entity of type '[^']*' named '(?P<name>[^']*)' cannot be found")


def retrieve_batch(org: Org, type_name: str, names: list[str], strict: bool = False) -> ReadBatch:
    """Packaged connected apps in one ``retrieve`` job (``retrieve`` + ``checkRetrieveStatus`` calls, not
    ⌈n/10⌉ ``readMetadata`` plus one per unloadable app). A component that cannot be loaded does not fail
    the job: it is a message ("Load of metadata from db failed ... file name:X", as ``sf project retrieve``
    shows it) and becomes that app's failure; "cannot be found" is the nil record of readMetadata (nothing
    for an app not created here); the files are the documents. A job that fails is read again with
    readMetadata batches (:func:`read_batch`), so the audit never knows less than it did before."""
    try:
        result = org.retrieve(type_name, names)
    except OrgError as exc:
        if exc.kind in ("INVALID_SESSION_ID", "REQUEST_LIMIT_EXCEEDED"):
            raise
        org.say(f"retrieve of {len(names)} packaged apps failed ({exc}); reading them with readMetadata")
        out = ReadBatch()
        for i in range(0, len(names), soap.READ_NAMES_PER_CALL):
            part = read_batch(org, type_name, names[i : i + soap.READ_NAMES_PER_CALL], strict)
            out.records += part.records
            out.failures += part.failures
            out.unloadable = out.unloadable or part.unloadable
        return out
    out = ReadBatch(via="retrieve")
    wanted = set(names)
    if result["zip"]:
        with zipfile.ZipFile(io.BytesIO(result["zip"])) as zf:
            for info in zf.infolist():
                stem = info.filename.rsplit("/", 1)[-1].rsplit(".", 1)[0]
                if info.filename.endswith("package.xml") or stem not in wanted:
                    continue
                source = f"{org.instance_url}#{type_name}/{stem}"
                data = soap.without_secrets(zf.read(info))
                out.documents.append(MetadataDocument.from_bytes(data, source=source, full_name=stem))
    for _file, problem in result["messages"]:
        if _NOT_FOUND.search(problem):
            continue  # as readMetadata's nil record: nothing to read for this name
        fault = OrgError("UNKNOWN_EXCEPTION" if UNLOADABLE_MARK in problem else "RETRIEVE_MESSAGE", problem)
        bad = named_file(fault, names)
        if bad is None:  # a message naming no member: every name not retrieved shares it
            got = {d.full_name for d in out.documents}
            out.failures.append(([n for n in names if n not in got], fault))
            continue
        out.unloadable = out.unloadable or is_unloadable(fault)
        out.failures.append(([bad], fault))
    return out


def read_batch(org: Org, type_name: str, names: list[str], strict: bool = False) -> ReadBatch:
    """readMetadata of up to 10 names. A call that fails because one component cannot be loaded
    (``UNKNOWN_EXCEPTION: Load of metadata from db failed``) drops the name its fault names (``...file
    name:connectedApps/X.connectedApp``) and reads the rest again in one call (one extra call per bad name,
    counted in the ledger); a fault naming no file of the batch is split in halves until the bad names are
    isolated (about log2(10) extra calls per bad name), not ten unread apps.
    Any other failure (after its retries) leaves the whole batch unknown, or raises when ``strict``."""
    out = ReadBatch()
    rest = list(names)
    for attempt in range(len(names) + 1):  # budget: each failed round drops one named file
        if attempt:
            org.ledger.note_extra(f"readMetadata split ({type_name})")
        try:
            out.records.extend(org.read_metadata(type_name, rest))
            return out
        except OrgError as exc:
            if not is_unloadable(exc):
                if strict:
                    raise
                out.failures.append((rest, exc))
                return out
            out.unloadable = True
            bad = named_file(exc, rest)
            if bad is None:  # no file named (or not one of these names): bisect
                _isolate(org, type_name, rest, exc, out, strict)
                return out
            out.failures.append(([bad], exc))
            rest = [n for n in rest if n != bad]
            if not rest:
                return out
    return out


def named_file(exc: OrgError, names: list[str]) -> str | None:
    """The name in ``names`` whose file the unloadable fault names (Salesforce's message ends
    ``...file name:connectedApps/X.connectedApp``), or None when it names no file or one not in ``names``.

    >>> e = OrgError("UNKNOWN_EXCEPTION", "Load of metadata from db failed for metadata of type:ConnectedApp "
    ...              "and file name:connectedApps/ns__App.connectedApp")
    >>> named_file(e, ["A", "ns__App"]), named_file(e, ["A"]), named_file(OrgError("X", "no file"), ["A"])
    ('ns__App', None, None)
    """
    _, mark, tail = str(exc).partition("file name:")
    words = tail.split()
    if not mark or not words:
        return None
    stem = words[0].rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    return stem if stem in names else None


def is_unloadable(exc: OrgError) -> bool:
    """The whole-call failure of a listed component that cannot be loaded (not worth a retry)."""
    return UNLOADABLE_MARK in str(exc)


def _isolate(
    org: Org, type_name: str, names: list[str], error: OrgError, out: ReadBatch, strict: bool
) -> None:
    """``names`` are known to fail as a whole: find the bad ones by reading halves.

    When the first half reads, the second is known to fail without asking again.
    """
    if len(names) == 1:
        out.failures.append((names, error))
        return
    half = len(names) // 2
    first, second = names[:half], names[half:]
    org.ledger.note_extra(f"readMetadata split ({type_name})")
    try:
        out.records.extend(org.read_metadata(type_name, first))
    except OrgError as exc:
        if not is_unloadable(exc):
            if strict:
                raise
            out.failures.append((first, exc))
        else:
            _isolate(org, type_name, first, exc, out, strict)
        # the second half may be fine: read it like a fresh batch
        org.ledger.note_extra(f"readMetadata split ({type_name})")
        rest = read_batch(org, type_name, second, strict)
        out.records.extend(rest.records)
        out.failures.extend(rest.failures)
        return
    _isolate(org, type_name, second, error, out, strict)


def _cancel(futures: Any) -> None:
    for f in futures:
        f.cancel()


def lower_bound(
    listing: list[dict[str, str]],
    soql: dict[str, list[dict[str, Any]]],
    types: list[str],
    page_size: int = 2000,
) -> int:
    """Fewest calls any client needs: list calls + ⌈n/10⌉ reads per type + one SOQL page per 2,000 rows
    (500 for OauthToken).

    >>> lower_bound([{"type": "ConnectedApp", "fullName": f"A{i}"} for i in range(50)],
    ...             {"ConnectedApplication": [{}] * 50, "OauthToken": [{}] * 2001}, ["ConnectedApp"])
    12
    """
    counts: dict[str, int] = {}
    for props in listing:
        counts[props.get("type", CA_TYPE)] = counts.get(props.get("type", CA_TYPE), 0) + 1
    lists = -(-len(types) // soap.LIST_QUERIES_PER_CALL)
    reads = sum(-(-n // soap.READ_NAMES_PER_CALL) for n in counts.values())
    # OauthToken pages hold at most 500 rows (Object Reference, OauthToken)
    sizes = {"OauthToken": TOKEN_BATCH}
    pages = sum(max(1, -(-len(rows) // sizes.get(obj, page_size))) for obj, rows in soql.items())
    return lists + reads + pages
