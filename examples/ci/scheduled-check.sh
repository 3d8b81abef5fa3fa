#!/bin/sh
# Scheduled connected-app check for cron (docs/history.md, "Scheduled checks"). Run from the toolkit's
# checkout after `make setup` (or any folder with a .venv holding the toolkit); ORG is a Salesforce CLI alias
# logged in once with `sf org login jwt` (or web). TOOLKIT_NOTIFY_URL, when set, is a Slack/Teams webhook
# (https://), posted to by `check --notify`.
# Exit code: the check's (0 ok, 1 gate failed, 2 bad input, 3 partial).
set -u
ORG="${ORG:-prod}"
OUT="${OUT:-out/scheduled}"
export TOOLKIT_HISTORY="${TOOLKIT_HISTORY:-$HOME/.local/share/connected-app-toolkit/history}"
PY="${PY:-.venv/bin/python}"

# the report first (no history entry), what changed since the previous run, then the check: it keeps this
# run's entry and notifies (new and fixed since the previous run)
"$PY" -m toolkit report --org "$ORG" --out "$OUT/report" --no-history
"$PY" -m toolkit diff --since last "$OUT/report" --out "$OUT/changes.txt"
notify=""
if [ -n "${TOOLKIT_NOTIFY_URL:-}" ]; then notify="--notify"; fi  # the URL stays in the environment
"$PY" -m toolkit check --org "$ORG" --fail-on high --format sarif --out "$OUT/findings.sarif" $notify
exit $?
