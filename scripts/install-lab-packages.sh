#!/usr/bin/env bash
# Install the Debian packages the mail lab runs (as root). Daemons are kept
# from starting in the main namespace by a policy-rc.d while installing.
set -euo pipefail
pkgs=(postfix postfix-policyd-spf-python opendkim opendkim-tools dovecot-imapd
      dovecot-lmtpd dovecot-sieve nsd libsasl2-modules iproute2 openssl ca-certificates)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-lab-packages: run as root to install: ${missing[*]}" >&2
  exit 10
fi
start=$(date +%s)
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  created_policy=1
fi
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
[ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
echo "install-lab-packages: installed ${#missing[@]} packages in $(( $(date +%s) - start )) s" >&2
