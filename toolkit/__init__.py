"""Connected App Toolkit: audit, compare and safely bulk-edit Salesforce connected apps.

>>> import toolkit
>>> "MetadataDocument" in toolkit.__all__
True
"""

from __future__ import annotations

from .analysis.compare import compare_mobile
from .analysis.tables import build_tables
from .api import audit
from .edits import EditPlan, EditResult, plan_edits, resume_edits, rollback_edits
from .edits.tokens import revoke_tokens
from .errors import (
    InvalidValueError,
    MetadataParseError,
    OrgError,
    ReadOnlyFieldError,
    SourceError,
    ToolkitError,
    UnknownFieldError,
)
from .model.document import Change, MetadataDocument, MissingRequiredError
from .model.values import RefreshTokenPolicy
from .model.views import ConnectedAppView, ExternalClientAppView
from .sources.connect import connect
from .sources.org import Org
from .sources.sfdx import load_folder

__version__ = "0.1.0"

__all__ = [
    "Change",
    "ConnectedAppView",
    "EditPlan",
    "EditResult",
    "ExternalClientAppView",
    "InvalidValueError",
    "MetadataDocument",
    "MetadataParseError",
    "MissingRequiredError",
    "Org",
    "OrgError",
    "ReadOnlyFieldError",
    "RefreshTokenPolicy",
    "SourceError",
    "ToolkitError",
    "UnknownFieldError",
    "__version__",
    "audit",
    "build_tables",
    "compare_mobile",
    "connect",
    "load_folder",
    "plan_edits",
    "resume_edits",
    "revoke_tokens",
    "rollback_edits",
]
