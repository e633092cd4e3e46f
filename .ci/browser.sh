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
# shellcheck source=.ci/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
apt_install "${TMPDIR:-/tmp}/penguins-browser-apt.log" chromium
say "installed $("$BROWSER" --version 2>/dev/null || echo chromium)"
