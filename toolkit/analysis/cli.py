"""``python -m toolkit audit`` (placeholder until the audit tables land)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", help="SFDX project, mdapi folder, or any folder of metadata files")
    parser.add_argument("--out", default="out/audit", help="output folder")


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError
