"""ECA policies hold profile/permission-set Ids; the audit shows names for both kinds (issue 7)."""

from __future__ import annotations

from typing import Any

import toolkit


def test_eca_grants_read_from_metadata_show_names_and_keep_the_id(fresh_demo_org: Any) -> None:
    org = toolkit.connect(
        "demo", instance_url=fresh_demo_org.instance_url, access_token=fresh_demo_org.access_token,
        ca_file=fresh_demo_org.ca_file,
    )
    with org:
        profile = org.query("SELECT Id, Name FROM Profile WHERE Name = 'Mobile Sales'")[0]
        # the edits layer writes the Id into the ECA policy (commaSeparatedProfile), as Salesforce stores it
        result = toolkit.plan_edits(org, ["profiles+=Mobile Sales"], apps=["Eca_Field_000"]).apply()
        assert result.ok, result.results.to_string()
        grants = toolkit.audit(org)["grants"]
    row = grants[(grants["app"] == "Eca_Field_000") & (grants["source"] == "metadata")].iloc[0]
    assert (row["grant_type"], row["name"], row["id"]) == ("Profile", "Mobile Sales", profile["Id"])
    # connected apps name their grants in metadata already: no Id column value for them
    ca = grants[(grants["kind"] == "ConnectedApp") & (grants["source"] == "metadata")]
    assert len(ca) and ca["id"].isna().all()
