"""Fixtures of the Salesforce CLI tests (see sf_support.py)."""

from sf_support import _sf_cli_login, _sf_cli_older_login, sf_cli, sf_cli_older

__all__ = ["_sf_cli_login", "_sf_cli_older_login", "sf_cli", "sf_cli_older"]
