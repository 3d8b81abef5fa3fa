"""Findings: rules as data (:mod:`.definitions`), the engine (:mod:`.engine`), baselines and ignores
(:mod:`.baseline`), the mobile matrix (:mod:`.matrix`), CA → ECA readiness (:mod:`.readiness`), fixes as edits
(:mod:`.fixes`) and report formats (:mod:`.report`: text, CSV, JSON, SARIF). See docs/findings.md."""
