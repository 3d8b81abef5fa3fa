"""Built-in and TOML baselines: severities, disabled rules, expectations, expiring ignores, clear errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import toolkit
from tests.test_rules import MOBILE, TODAY, WEB, fails, tables
from toolkit.rules.baseline import BaselineError, builtin, load_baseline


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "baseline.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_builtins_select_their_rules() -> None:
    recommended, mobile = builtin("Salesforce recommended"), builtin("Mobile SDK ready")
    assert recommended.enabled("SES-01") and not recommended.enabled("MSDK-02")
    assert mobile.enabled("MSDK-02") and mobile.enabled("MOB-01") and not mobile.enabled("SES-01")
    assert str(recommended.expectation_for_field("pin_length")) == ">= 8"
    assert str(recommended.expectation_for_field("lock_after")) == "in [1, 5]"


def test_user_baseline_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
name = "Acme"
[rules]
NET-01 = "critical"
GOV-01 = "off"
MSDK-02 = "on"
[expect]
pin_length = ">= 6"
session_timeout = "<= 120"
""",
    )
    base = load_baseline(path)
    app = {
        **MOBILE,
        "pin_length": 6,
        "session_timeout": 90,
        "ip_relaxation": "BYPASS",
        "contact_email": None,
        "scopes": "Api",
    }
    f = fails(tables(app), base)
    rules = set(f["rule"])
    assert "MOB-01" not in rules and "SES-01" not in rules and "GOV-01" not in rules
    assert f.set_index("rule").loc["NET-01", "severity"] == "critical"
    assert "MSDK-02" in rules
    assert f.attrs["baseline"] == "Acme"


def test_ignores_with_reason_and_expiry(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[ignore]]
app = "App"
rule = "NET-01"
reason = "vendor IP list, SEC-42"
expires = 2026-12-31

[[ignore]]
app = "A*"
rule = "TOK-01"
reason = "legacy, until the rewrite"
expires = 2026-01-01
""",
    )
    app = {**WEB, "ip_relaxation": "BYPASS", "refresh_policy": "infinite"}
    f = toolkit.findings(tables(app), path, today=TODAY).set_index("rule")
    assert (
        f.loc["NET-01", "status"] == "ignored"
        and f.loc["NET-01", "ignore_reason"] == "vendor IP list, SEC-42"
    )
    # expired ignores come back, saying so
    assert f.loc["TOK-01", "status"] == "fail"
    assert f.loc["TOK-01", "ignore_reason"].startswith("ignore expired on 2026-01-01")
    later = toolkit.findings(tables(app), path, today=date(2027, 1, 1)).set_index("rule")
    assert later.loc["NET-01", "status"] == "fail"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('[rules]\nNET-01 = "severe"\n', 2, "allowed: critical, high"),
        ('[rules]\n\nXYZ-9 = "off"\n', 3, "unknown rule 'XYZ-9'"),
        ('[expect]\npin_length = "about 8"\n', 2, "is not an expectation"),
        ('[expect]\npin_lenght = ">= 6"\n', 2, "unknown field or rule 'pin_lenght'"),
        ('extends = "Strict"\n', 1, "allowed: Salesforce recommended, Mobile SDK ready"),
        ('[[ignore]]\napp = "A"\nrule = "NET-01"\n', 1, "needs reason"),
        ('[[ignore]]\napp = "A"\nrule = "NET-01"\nreason = "r"\nexpires = "soon"\n', 1, "not a date"),
        ('[rules\nNET-01 = "high"\n', 1, "not valid TOML"),
        ('colour = "red"\n', 1, "unknown key 'colour'"),
    ],
)
def test_bad_baselines_name_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(BaselineError) as err:
        load_baseline(path)
    assert str(err.value).startswith(f"{path}:{line}: "), str(err.value)
    assert words in str(err.value)


def test_unknown_baseline_name() -> None:
    with pytest.raises(BaselineError, match="no such file; give a TOML file or one of"):
        toolkit.findings(tables(WEB), "Strictest")
