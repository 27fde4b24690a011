#!/usr/bin/env bash
# Regenerate docs/paste-page.png: the browser test pastes the provider's sample
# (fixtures/headers/ovh-guide-sample.txt) into the paste page in headless
# Chromium and saves what it sees.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
if [ "$(id -u)" = 0 ]; then bash scripts/install-browser-packages.sh; fi
VERIFIER_SCREENSHOT="$PWD/docs/paste-page.png" .venv/bin/python -m pytest -q -p no:cacheprovider \
  tests/web/test_browser.py -k test_sample_banner_route_delays_auth_and_jump_to_line
echo "screenshot: docs/paste-page.png"
