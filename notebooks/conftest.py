"""Notebooks run under nbval with their own folder as the kernel's working directory.

The kernel must import this checkout's ``toolkit`` whatever the editable install resolves from
``notebooks/`` (an editable finder that maps ``toolkit`` as a namespace package yields an empty module
there), so the repository root goes first on the kernel's PYTHONPATH.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = str(Path(__file__).resolve().parent.parent)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, os.environ.get("PYTHONPATH", "")) if p)
