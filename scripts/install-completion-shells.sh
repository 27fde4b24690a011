#!/usr/bin/env bash
# Install the shells whose completion scripts the tests load for real (as root): zsh and fish
# (bash is always there). `verifier completion SHELL` prints those scripts.
set -euo pipefail
missing=()
for pkg in zsh fish; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} = 0 ]; then
  echo "install-completion-shells: zsh and fish already installed" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-completion-shells: run as root to install: ${missing[*]}" >&2
  exit 10
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || {
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
echo "install-completion-shells: installed ${missing[*]}" >&2
