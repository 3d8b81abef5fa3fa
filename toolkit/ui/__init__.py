"""JupyterLab UI (ipywidgets): the top layer. :class:`AuditPanel` runs an audit and shows its tables;
:class:`MobileComparison` shows the apps' mobile settings side by side.

Every label comes from :mod:`toolkit.model.catalog`; nothing secret is rendered (consumer keys are masked by
the audit tables, tokens and secrets never reach them).

>>> from toolkit.ui import AuditPanel, MobileComparison
>>> AuditPanel().status.value
'Choose a source and click <b>Run audit</b>.'
"""

from __future__ import annotations

from .mobile import MobileComparison
from .panel import AuditPanel

__all__ = ["AuditPanel", "MobileComparison"]
