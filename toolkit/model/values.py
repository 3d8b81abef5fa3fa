"""Parsing and formatting of metadata values: booleans, ints, refresh-token policies, URL and scope lists.

Pure functions on strings; no XML here. Parsers raise ``ValueError`` with a message naming what is
allowed; the document and view layers turn that into typed errors or flags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

RefreshKind = Literal["infinite", "zero", "specific_lifetime", "specific_inactivity"]
RefreshUnit = Literal["HOURS", "DAYS", "MONTHS"]

REFRESH_KINDS: tuple[str, ...] = ("infinite", "zero", "specific_lifetime", "specific_inactivity")
REFRESH_UNITS: tuple[str, ...] = ("HOURS", "DAYS", "MONTHS")
REFRESH_ALLOWED = (
    "infinite, zero, specific_lifetime:N:UNIT, specific_inactivity:N:UNIT (UNIT: HOURS, DAYS, MONTHS)"
)

# ECA policy form (ExtlClntAppOauthConfigurablePolicies.refreshTokenPolicyType / ...ValidityUnit)
ECA_REFRESH_KINDS = {
    "infinite": "Infinite",
    "zero": "Zero",
    "specific_lifetime": "SpecificLifetime",
    "specific_inactivity": "SpecificInactivity",
}
ECA_REFRESH_UNITS = {"HOURS": "Hours", "DAYS": "Days", "MONTHS": "Months"}

# oauthPolicy.ipRelaxation (CA) <-> ipRelaxationPolicyType (ECA)
IP_RELAXATION_CA_TO_ECA: dict[str, str] = {
    "ENFORCE": "Enforce",
    "ENFORCE_RELAXREFRESH": "Enforce_RelaxRefresh",
    "BYPASS_2FACTOR": "Bypass_2factor",
    "BYPASS": "Bypass",
}
IP_RELAXATION_ECA_TO_CA: dict[str, str] = {v: k for k, v in IP_RELAXATION_CA_TO_ECA.items()}

# scope equivalences (domain doc §1.4): retrieve collapses these to Basic; OfflineAccess == RefreshToken
SCOPE_EQUIVALENT: dict[str, str] = {
    "Profile": "Basic",
    "Email": "Basic",
    "Address": "Basic",
    "Phone": "Basic",
    "OfflineAccess": "RefreshToken",
}


def parse_bool(text: str) -> bool:
    """An ``xsd:boolean`` as Salesforce writes it.

    >>> parse_bool("true"), parse_bool("0")
    (True, False)
    """
    t = text.strip()
    if t in ("true", "1"):
        return True
    if t in ("false", "0"):
        return False
    raise ValueError(f"{text!r} is not a boolean; allowed: true, false")


def format_bool(value: bool) -> str:
    """An ``xsd:boolean`` as Salesforce writes it.

    >>> format_bool(True)
    'true'
    """
    return "true" if value else "false"


def parse_int(text: str) -> int:
    """An ``xsd:int``.

    >>> parse_int(" 60 ")
    60
    """
    t = text.strip()
    if not re.fullmatch(r"[+-]?\d+", t):
        raise ValueError(f"{text!r} is not an integer")
    return int(t)


@dataclass(frozen=True)
class RefreshTokenPolicy:
    """``oauthPolicy.refreshTokenPolicy`` as a value: ``kind`` plus ``n``/``unit`` for the specific kinds.

    >>> p = RefreshTokenPolicy.parse("specific_lifetime:90:DAYS")
    >>> p.kind, p.n, p.unit, p.format()
    ('specific_lifetime', 90, 'DAYS', 'specific_lifetime:90:DAYS')
    >>> p.to_eca()
    {'refreshTokenPolicyType': 'SpecificLifetime', 'refreshTokenValidityPeriod': '90', \
'refreshTokenValidityUnit': 'Days'}
    """

    kind: str
    n: int | None = None
    unit: str | None = None

    @classmethod
    def parse(cls, text: str) -> RefreshTokenPolicy:
        t = text.strip()
        if t in ("infinite", "zero"):
            return cls(t)
        m = re.fullmatch(r"(specific_lifetime|specific_inactivity):(\d+):([A-Z]+)", t)
        if not m or m.group(3) not in REFRESH_UNITS or int(m.group(2)) < 1:
            raise ValueError(f"{text!r} is not a refresh token policy; allowed: {REFRESH_ALLOWED}")
        return cls(m.group(1), int(m.group(2)), m.group(3))

    def format(self) -> str:
        if self.kind in ("infinite", "zero"):
            return self.kind
        return f"{self.kind}:{self.n}:{self.unit}"

    def to_eca(self) -> dict[str, str]:
        """The ECA policy fields (period and unit only for the specific kinds)."""
        out = {"refreshTokenPolicyType": ECA_REFRESH_KINDS[self.kind]}
        if self.n is not None and self.unit is not None:
            out["refreshTokenValidityPeriod"] = str(self.n)
            out["refreshTokenValidityUnit"] = ECA_REFRESH_UNITS[self.unit]
        return out

    @classmethod
    def from_eca(
        cls, policy_type: str, period: str | int | None = None, unit: str | None = None
    ) -> RefreshTokenPolicy:
        """Build from the ECA form.

        >>> RefreshTokenPolicy.from_eca("SpecificInactivity", "30", "Days").format()
        'specific_inactivity:30:DAYS'
        """
        kinds = {v: k for k, v in ECA_REFRESH_KINDS.items()}
        units = {v: k for k, v in ECA_REFRESH_UNITS.items()}
        if policy_type not in kinds:
            raise ValueError(f"{policy_type!r} is not a refreshTokenPolicyType; allowed: {', '.join(kinds)}")
        kind = kinds[policy_type]
        if kind in ("infinite", "zero"):
            return cls(kind)
        if period is None or unit not in units:
            raise ValueError(f"{policy_type} needs a refreshTokenValidityPeriod and Days, Hours or Months")
        n = parse_int(str(period))
        if n < 1:
            raise ValueError(f"refreshTokenValidityPeriod {period!r} must be at least 1")
        return cls(kind, n, units[unit])


def split_callback_urls(text: str | None) -> list[str]:
    """Callback URL lists are separated by line breaks (``\\n``, ``\\r\\n`` or a lone ``\\r``).

    >>> split_callback_urls("https://a/cb\\r\\nmyapp://cb\\rhttp://localhost:1717/OauthRedirect\\n")
    ['https://a/cb', 'myapp://cb', 'http://localhost:1717/OauthRedirect']
    """
    if not text:
        return []
    return [u.strip() for u in re.split(r"\r\n|\r|\n", text) if u.strip()]


def split_comma_list(text: str | None) -> list[str]:
    """ECA comma-separated lists (``commaSeparatedOauthScopes``: ``"Api, Web, OpenID"``).

    >>> split_comma_list("Api, Web,OpenID,")
    ['Api', 'Web', 'OpenID']
    """
    if not text:
        return []
    return [s.strip() for s in text.split(",") if s.strip()]


def canonical_scope(scope: str) -> str:
    """The equivalent scope (Profile/Email/Address/Phone -> Basic, OfflineAccess -> RefreshToken).

    >>> canonical_scope("Email"), canonical_scope("Api")
    ('Basic', 'Api')
    """
    return SCOPE_EQUIVALENT.get(scope, scope)


def canonical_scopes(scopes: list[str]) -> frozenset[str]:
    """The set of canonical scopes, for comparing scope lists without spurious differences.

    >>> sorted(canonical_scopes(["OfflineAccess", "Profile", "Api"]))
    ['Api', 'Basic', 'RefreshToken']
    """
    return frozenset(canonical_scope(s) for s in scopes)


def ip_relaxation_to_eca(value: str) -> str:
    """The ECA ``ipRelaxationPolicyType`` of a CA ``ipRelaxation``.

    >>> ip_relaxation_to_eca("BYPASS_2FACTOR")
    'Bypass_2factor'
    """
    try:
        return IP_RELAXATION_CA_TO_ECA[value]
    except KeyError:
        allowed = ", ".join(IP_RELAXATION_CA_TO_ECA)
        raise ValueError(f"{value!r} is not an ipRelaxation; allowed: {allowed}") from None


def ip_relaxation_from_eca(value: str) -> str:
    """The CA ``ipRelaxation`` of an ECA ``ipRelaxationPolicyType``.

    >>> ip_relaxation_from_eca("Enforce_RelaxRefresh")
    'ENFORCE_RELAXREFRESH'
    """
    try:
        return IP_RELAXATION_ECA_TO_CA[value]
    except KeyError:
        allowed = ", ".join(IP_RELAXATION_ECA_TO_CA)
        raise ValueError(f"{value!r} is not an ipRelaxationPolicyType; allowed: {allowed}") from None
