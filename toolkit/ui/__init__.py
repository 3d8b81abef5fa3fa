"""JupyterLab UI (ipywidgets): the top layer. :class:`AuditPanel` runs an audit and shows its tables;
:class:`MobileComparison` shows the apps' mobile settings side by side; :class:`ConnectForm` reaches an org;
:class:`AppPicker` filters and selects apps; :class:`FieldForm` is the form library generated from the field
catalog (one input per setting, inline validation, values as edit changes); :class:`FindingsView` shows the
findings of :func:`toolkit.findings`; :class:`EditForm` drives a bulk edit through :func:`toolkit.plan_edits`.

Every label comes from :mod:`toolkit.model.catalog`; nothing secret is rendered (consumer keys are masked by
the audit tables, tokens and secrets never reach them).

>>> from toolkit.ui import AuditPanel, MobileComparison
>>> AuditPanel().status.value
'Choose a source and click <b>Run audit</b>.'
"""

from __future__ import annotations

from .connect import ConnectForm
from .edit import EditForm
from .findings import FindingsView
from .forms import FieldForm, FieldInput
from .mobile import MobileComparison
from .panel import AuditPanel
from .picker import AppPicker

__all__ = [
    "AppPicker", "AuditPanel", "ConnectForm", "EditForm", "FieldForm", "FieldInput", "FindingsView",
    "MobileComparison",
]
