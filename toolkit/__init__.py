"""Connected App Toolkit: audit, compare and safely bulk-edit Salesforce connected apps.

>>> import toolkit
>>> "MetadataDocument" in toolkit.__all__
True
"""

from __future__ import annotations

from .api import audit
from .errors import (
    InvalidValueError,
    MetadataParseError,
    OrgError,
    ReadOnlyFieldError,
    SourceError,
    ToolkitError,
    UnknownFieldError,
)
from .model.document import MetadataDocument
from .sources.connect import connect
from .sources.org import Org

__version__ = "0.1.0"

__all__ = [
    "InvalidValueError",
    "MetadataDocument",
    "MetadataParseError",
    "Org",
    "OrgError",
    "ReadOnlyFieldError",
    "SourceError",
    "ToolkitError",
    "UnknownFieldError",
    "__version__",
    "audit",
    "connect",
]
