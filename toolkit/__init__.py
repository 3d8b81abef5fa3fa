"""Connected App Toolkit: audit, compare and safely bulk-edit Salesforce connected apps.

>>> import toolkit
>>> "MetadataDocument" in toolkit.__all__
True
"""

from __future__ import annotations

from .analysis.compare import compare_mobile
from .analysis.drift import diff_audits, load_snapshot, save_snapshot
from .analysis.tables import build_tables
from .api import audit, fix_plan, load_plan
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
from .rules.baseline import Baseline, BaselineError, load_baseline
from .rules.bootconfig import cross_check as bootconfig_check
from .rules.engine import findings, rule_table
from .rules.fixes import findings_to_changes, manual_fixes
from .rules.matrix import mobile_matrix, mobile_twins, style_mobile_matrix
from .rules.readiness import eca_readiness
from .sources.bootconfig import parse_bootconfig
from .sources.connect import connect
from .sources.org import Org
from .sources.sfdx import load_folder

__version__ = "0.1.0"

__all__ = [
    "Baseline",
    "BaselineError",
    "Change",
    "EditPlan",
    "EditResult",
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
    "bootconfig_check",
    "build_tables",
    "compare_mobile",
    "connect",
    "diff_audits",
    "eca_readiness",
    "findings",
    "findings_to_changes",
    "fix_plan",
    "load_baseline",
    "load_folder",
    "load_plan",
    "load_snapshot",
    "manual_fixes",
    "mobile_matrix",
    "mobile_twins",
    "parse_bootconfig",
    "plan_edits",
    "resume_edits",
    "revoke_tokens",
    "rollback_edits",
    "rule_table",
    "save_snapshot",
    "style_mobile_matrix",
]
