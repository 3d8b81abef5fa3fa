"""The rules table of docs/findings.md, generated from the rules (``definitions.RULES``).

``python -m toolkit.rules.doc`` rewrites the table between its two markers; tests/test_rules.py fails when the
file is not current. Each row gives the rule's basis (its public source: a URL or an RFC section).

>>> rules_markdown().splitlines()[0].split(" | ")[:3]
['| id', 'severity', 'applies to']
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from ..model import catalog
from .definitions import RULES
from .model import Rule

BEGIN = "<!-- rules table: generated from toolkit/rules/definitions.py by python -m toolkit.rules.doc -->"
END = "<!-- end of the generated rules table -->"
DOC = Path(__file__).resolve().parents[2] / "docs" / "findings.md"


def rules_markdown(rules: Iterable[Rule] = RULES) -> str:
    """One Markdown row per rule: id, severity, applies to, title, remedy, API-fixable, baselines, basis."""
    rows = [
        "| id | severity | applies to | rule | remedy | API-fixable (CA / ECA) | baselines | basis |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rules:
        fixable = " / ".join("yes" if r.remedy.fixable_by_api(k) else "no" for k in (catalog.CA, catalog.ECA))
        baselines = ", ".join(r.baselines)
        cells = [r.id, r.severity, r.applies_to, r.title, r.remedy.describe(), fixable, baselines, r.basis]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def updated(text: str) -> str:
    """``text`` (docs/findings.md) with the table between the markers replaced by :func:`rules_markdown`."""
    head, begin, rest = text.partition(BEGIN)
    _old, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"docs/findings.md has no {BEGIN!r} ... {END!r} markers")
    return f"{head}{BEGIN}\n{rules_markdown()}{END}{tail}"


def main(path: Path = DOC) -> int:
    text = path.read_text(encoding="utf-8")
    new = updated(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
        print(f"{path}: rules table updated")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
