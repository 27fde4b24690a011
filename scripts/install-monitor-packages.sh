#!/usr/bin/env bash
# Install the Debian package the monitor's tests need (as root): `prometheus`,
# which brings the Prometheus server and promtool. The tests start their own
# server on loopback; the packaged service is kept from starting (policy-rc.d
# while installing, then disabled on a systemd machine).
set -euo pipefail
pkg=prometheus
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
  echo "install-monitor-packages: $pkg already installed" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-monitor-packages: run as root to install: $pkg" >&2
  exit 10
fi
policy=/usr/sbin/policy-rc.d
saved=""
if [ -e "$policy" ] || [ -L "$policy" ]; then
  saved=$(mktemp /usr/sbin/.policy-rc.d.saved.XXXXXX)
  mv -f "$policy" "$saved"
fi
restore_policy() {
  rm -f "$policy"
  if [ -n "$saved" ]; then mv -f "$saved" "$policy"; fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# verifier monitor package install: start no service\nexit 101\n' > "$policy"
chmod 755 "$policy"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends "$pkg" >&2; then
  echo "install-monitor-packages: install failed; refreshing the package index and retrying" >&2
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "$pkg" >&2
fi
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
echo "install-monitor-packages: installed $pkg ($(promtool --version 2>&1 | head -1))" >&2
