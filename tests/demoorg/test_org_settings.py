"""The demo org's org-wide settings (readMetadata of the Settings types) and the gating permissions (SOQL)."""

from __future__ import annotations

from typing import Any

from lxml import etree

import toolkit
from toolkit.demoorg.org_settings import APPROVE_UNINSTALLED, SETTINGS_TYPES, USE_ANY_API_CLIENT, posture
from toolkit.demoorg.seed import build


def _connect(demo: Any) -> toolkit.Org:
    return toolkit.connect(
        "demo", instance_url=demo.instance_url, access_token=demo.access_token, ca_file=demo.ca_file
    )


def test_settings_read_back_as_seeded(demo_org: Any) -> None:
    org = _connect(demo_org)
    truth = demo_org.truth()["org"]["settings"]
    for type_name, full_name in SETTINGS_TYPES.items():
        (record,) = org.read_metadata(type_name, [full_name])
        assert record.get("{http://www.w3.org/2001/XMLSchema-instance}type") == type_name
        values = {etree.QName(c).localname: c for c in record.iter() if len(c) == 0}
        for key, value in truth[type_name].items():
            expected = value if isinstance(value, dict) else {key: value}
            for k, v in expected.items():
                shown = str(v).lower() if isinstance(v, bool) else str(v)
                assert values[k].text == shown, (type_name, k)
    (nil,) = org.read_metadata("OauthOidcSettings", ["NoSuchName"])
    assert nil.get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"


def test_gating_permission_holders_are_queryable(demo_org: Any) -> None:
    org = _connect(demo_org)
    holders = demo_org.truth()["org"]["assignees"]
    for perm in (USE_ANY_API_CLIENT, APPROVE_UNINSTALLED):
        rows = org.query(
            "SELECT PermissionSetId, AssigneeId FROM PermissionSetAssignment "
            f"WHERE PermissionSet.{perm} = true"
        )
        assert len(rows) == holders[perm]


def test_posture_is_deterministic_and_both_kinds_exist() -> None:
    weak, strong = build(apps=4, ecas=0, seed=1).truth["org"], build(apps=4, ecas=0, seed=2).truth["org"]
    assert weak == build(apps=4, ecas=0, seed=1).truth["org"]
    assert weak["settings"] == posture(1) and strong["settings"] == posture(2)
    assert weak["assignees"][USE_ANY_API_CLIENT] > 0 and strong["assignees"][USE_ANY_API_CLIENT] == 0
