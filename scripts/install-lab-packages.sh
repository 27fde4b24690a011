#!/usr/bin/env bash
# Install the Debian packages the mail lab runs (as root).
#
# Package maintainer scripts would start nsd, postfix, dovecot and opendkim in the
# main network namespace (ports 25, 53, 143...). While installing, a policy-rc.d
# that refuses every start is put in place (any existing one is set aside and put
# back afterwards); on a machine run by systemd the services this script newly
# installed are also disabled, because the lab starts its own instances.
set -euo pipefail
pkgs=(postfix postfix-policyd-spf-python opendkim opendkim-tools dovecot-core dovecot-imapd
      dovecot-lmtpd dovecot-sieve nsd libsasl2-modules iproute2 openssl ca-certificates
      util-linux procps)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-lab-packages: all ${#pkgs[@]} packages already installed" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-lab-packages: run as root to install: ${missing[*]}" >&2
  exit 10
fi
start=$(date +%s.%N)
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
printf '#!/bin/sh\n# verifier lab package install: start no service\nexit 101\n' > "$policy"
chmod 755 "$policy"

echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
  echo "install-lab-packages: install failed; refreshing the package index and retrying" >&2
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# On a systemd machine, keep the services just installed from starting at boot in
# the main namespace; the lab runs its own instances.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  for unit in postfix nsd dovecot opendkim; do
    for p in "${missing[@]}"; do
      case "$p" in "$unit"|"$unit"-core|"$unit"-imapd)
        systemctl disable --now "$unit" >/dev/null 2>&1 || true ;;
      esac
    done
  done
fi
end=$(date +%s.%N)
awk -v n="${#missing[@]}" -v names="${missing[*]}" -v s="$start" -v e="$end" \
  'BEGIN { printf "install-lab-packages: installed %d packages (%s) in %.1f s\n", n, names, e - s }' >&2
