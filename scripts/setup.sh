#!/usr/bin/env bash
# Set up verifier in ./.venv. With --lab (or when run as root by scripts/test.sh),
# also install the Debian packages the mail lab needs, and (as root, or with
# --browser) what the paste page's browser tests need: Debian's Chromium and
# axe-core from npm (scripts/install-browser-packages.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
want_lab=0
want_browser=0
[ "$(id -u)" = 0 ] && want_browser=1
extras="test,bench,compiled"
for arg in "$@"; do
  case "$arg" in
    --lab) want_lab=1 ;;
    --no-lab) want_lab=0 ;;
    --browser) want_browser=1 ;;
    --no-browser) want_browser=0 ;;
    --minimal) extras="" ;;
  esac
done
py=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($py --version)" >&2
  "$py" -m venv .venv
fi
stamp=.venv/.verifier-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing verifier and its dependencies into .venv" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >&2
  # The distribution was once called "verifier"; drop that older editable install if present.
  if .venv/bin/python -m pip show -q verifier >/dev/null 2>&1; then
    .venv/bin/python -m pip uninstall -q -y verifier >&2
  fi
  if [ -n "$extras" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$extras]" >&2
  else
    .venv/bin/python -m pip install -q --disable-pip-version-check -e . >&2
  fi
  touch "$stamp"
fi
# The mypyc build of the parsers and the analysis (docs/compiled.md): the same sources,
# about 20 % faster. Without a C compiler it is skipped and verifier runs as pure Python;
# as root, the compiler is installed first. VERIFIER_PURE_PYTHON=1 skips it.
if [ -n "$extras" ] && [ -z "${VERIFIER_PURE_PYTHON:-}" ]; then
  if [ "$(id -u)" = 0 ] && ! command -v cc >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing a C compiler for the compiled build" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends gcc libc6-dev >&2
  fi
  .venv/bin/python scripts/build_compiled.py >&2 || echo "setup: continuing with the pure-Python build" >&2
fi
if [ "$want_lab" = 1 ]; then
  bash scripts/install-lab-packages.sh
  bash scripts/install-monitor-packages.sh
  bash scripts/install-completion-shells.sh
fi
if [ "$want_browser" = 1 ]; then
  bash scripts/install-browser-packages.sh
fi
