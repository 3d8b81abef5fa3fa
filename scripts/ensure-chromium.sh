#!/usr/bin/env bash
# Browser tests drive JupyterLab in Debian's chromium (Playwright's own browser download cannot work offline).
# Install it when missing and possible; otherwise the browser tests skip with a clear message (under CI=true
# they fail, and so does this script).
set -u
ci() { case "$(echo "${CI:-}" | tr '[:upper:]' '[:lower:]')" in true|1|yes) return 0;; esac; return 1; }
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian chromium for the browser test..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
    || { echo "warning: could not install chromium; browser tests will be skipped"; ci && exit 1; }
else
  echo "note: chromium is not installed and cannot be installed here (needs root + apt); browser tests will be skipped"
  ci && exit 1
fi
exit 0
