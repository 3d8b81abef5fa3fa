"""What the apps of an audit are, counted so that each number says what it counts (and they add up).

An org audit has more rows than connected apps with settings: installed (packaged) apps known from SOQL only,
apps whose metadata could not be read, and *phantom* apps that only OAuth tokens or logins name. Printing
them all as "connected apps" is how "60 connected apps" became "63 connected apps" between two lines.
"""

from __future__ import annotations

import pandas as pd

_METADATA = ("metadata", "metadata+soql")


def app_counts(apps: pd.DataFrame) -> dict[str, int]:
    """Apps by what is known of them; the values add up to ``len(apps)`` and zero groups are left out.

    >>> apps = pd.DataFrame({"kind": ["ConnectedApp"] * 4 + ["ExternalClientApplication"],
    ...     "coverage": ["metadata+soql", "soql_only", "tokens_only", "unreadable", "metadata"]})
    >>> app_counts(apps)  # doctest: +NORMALIZE_WHITESPACE
    {'connected apps with metadata': 1, 'installed connected apps (settings from SOQL only)': 1,
     'connected apps whose metadata is unknown': 1, 'external client apps': 1,
     'apps known only from OAuth tokens or logins (not installed)': 1}
    """
    kind = apps["kind"] if "kind" in apps.columns else pd.Series([], dtype="object")
    coverage = apps["coverage"] if "coverage" in apps.columns else pd.Series("metadata", index=apps.index)
    ca = (kind == "ConnectedApp") & (coverage != "tokens_only")
    groups = {
        "connected apps with metadata": ca & coverage.isin(_METADATA),
        "installed connected apps (settings from SOQL only)": ca & (coverage == "soql_only"),
        "connected apps whose metadata is unknown": ca & coverage.isin(("unreadable", "metadata_unknown")),
        "external client apps": (kind == "ExternalClientApplication") & (coverage != "tokens_only"),
        "apps known only from OAuth tokens or logins (not installed)": coverage == "tokens_only",
    }
    return {label: int(mask.sum()) for label, mask in groups.items() if int(mask.sum())}


def counts_line(apps: pd.DataFrame) -> str:
    """One sentence: the total, then each group.

    >>> counts_line(pd.DataFrame({"kind": ["ConnectedApp", "ConnectedApp"],
    ...     "coverage": ["metadata", "tokens_only"]}))
    '2 apps: 1 connected app with metadata, 1 app known only from OAuth tokens or logins (not installed)'
    """
    parts = ", ".join(f"{n} {_number(label, n)}" for label, n in app_counts(apps).items())
    total = f"{len(apps)} {_number('apps', len(apps))}"
    return f"{total}: {parts}" if parts else total


def _number(label: str, n: int) -> str:
    return label.replace("apps", "app", 1) if n == 1 else label
