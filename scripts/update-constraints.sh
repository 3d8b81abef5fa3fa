#!/usr/bin/env bash
# Regenerate constraints.txt: the exact versions `make setup` (and so CI) installs. Run it (`make constraints`)
# to take newer releases on purpose, run `make test`, and commit both: a new pandas or lxml major then lands
# in a reviewed commit, never unannounced.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$PYTHON" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --upgrade pip >"$tmp/log" 2>&1
"$tmp/venv/bin/python" -m pip install --quiet -e '.[dev]' >>"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
{
    echo "# Exact versions of every dependency (pip constraints), written by scripts/update-constraints.sh"
    echo "# (make constraints) on $("$tmp/venv/bin/python" --version) $(uname -m). make setup installs with -c."
    # --all: setuptools too (a dev dependency: tests build the wheel without downloading a build backend)
    "$tmp/venv/bin/python" -m pip freeze --all --exclude-editable | grep -v '^pip==' | LC_ALL=C sort -f
} >constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) packages"
