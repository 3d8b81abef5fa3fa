"""The markers people see for values that are not values: one for *not set*, another for *unknown*.

*Not set*: the app was read and the setting is absent. *Unknown*: the audit could not read it (packaged app,
metadata-only source for a SOQL-only setting, a failed read...), shown apart and never as a pass or a fail.
*Not applicable*: this kind of app has no such setting (e.g. PIN Length on an external client app).
"""

from __future__ import annotations

NOT_SET = "(not set)"
UNKNOWN = "(unknown)"
NOT_APPLICABLE = "—"
