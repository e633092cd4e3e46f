#!/usr/bin/env bash
# .ci/browser.sh (CI, and `make browser`): Debian's chromium for the headless-browser tests (/docs,
# JupyterLab, the slides), installed with apt-get as root. Playwright drives it; it never downloads
# a browser of its own. Elsewhere those tests skip and say why.
set -euo pipefail

BROWSER=/usr/bin/chromium
say() { echo "browser: $*"; }

if [[ -x "$BROWSER" ]]; then
    exit 0
fi
if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null; then
    say "cannot install chromium: needs root and apt-get (Debian/Ubuntu)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
say "installed $("$BROWSER" --version 2>/dev/null || echo chromium)"
