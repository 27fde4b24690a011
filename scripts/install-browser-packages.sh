#!/usr/bin/env bash
# Install what the browser tests of the paste page need:
#  - Debian's Chromium and its driver (as root; Playwright drives /usr/bin/chromium,
#    it never downloads a browser of its own);
#  - axe-core from the npm registry into ./node_modules (the accessibility check).
# Safe to run again: only what is missing is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(chromium chromium-driver fonts-dejavu-core)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ! -f node_modules/axe-core/axe.min.js ] && ! command -v npm >/dev/null; then
  missing+=(npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-browser-packages: run as root to install: ${missing[*]}" >&2
    exit 10
  fi
  echo "install-browser-packages: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
if [ ! -f node_modules/axe-core/axe.min.js ]; then
  if ! command -v npm >/dev/null; then
    echo "install-browser-packages: npm is missing (needed for axe-core); run as root to install it" >&2
    exit 10
  fi
  echo "install-browser-packages: installing axe-core from npm into ./node_modules" >&2
  npm install --no-save --no-audit --no-fund --silent --prefix . axe-core@4 >&2
fi
echo "install-browser-packages: chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), axe-core $(node -p "require('./node_modules/axe-core/package.json').version" 2>/dev/null || echo '?')" >&2
