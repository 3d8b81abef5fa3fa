"""OAuth token revocation: ``POST /services/oauth2/revoke`` with ``token=<OauthToken.DeleteToken>``.

Salesforce documents revocation through this endpoint (help "Revoke OAuth Tokens Programmatically"; the
``OauthToken.DeleteToken`` field is "the value to revoke with", domain doc §2.2). ``OauthToken`` itself only
supports ``describeSObjects()`` and ``query()``: there is no documented ``delete`` of its rows.
"""

from __future__ import annotations

from .models import OrgState


def revoke_delete_token(state: OrgState, token: str) -> bool:
    """Remove the ``OauthToken`` row whose ``DeleteToken`` is ``token``; True when there was one."""
    if not token:
        return False
    with state.lock:
        rows = state.objects.get("OauthToken", [])
        kept = [r for r in rows if r.get("DeleteToken") != token]
        if len(kept) == len(rows):
            return False
        state.objects["OauthToken"] = kept
        state.__dict__.pop("_derived_cache", None)
        return True
