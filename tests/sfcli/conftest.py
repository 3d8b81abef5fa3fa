"""Fixtures of the Salesforce CLI tests (see sf_support.py)."""

from sf_support import sf_cli, sf_cli_older

__all__ = ["sf_cli", "sf_cli_older"]
