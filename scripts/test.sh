#!/usr/bin/env bash
# Set up everything the tests need (venv, Python packages, and as root the
# lab's Debian packages), then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then
  bash scripts/setup.sh --lab
else
  echo "test: not root, so the lab's Debian packages are not installed; lab tests will say why they did not run" >&2
  bash scripts/setup.sh
fi
exec .venv/bin/python -m pytest "$@"
