#!/usr/bin/env bash
# Capture the Received headers that real MTAs write (Exim, OpenSMTPD, dma, Sendmail),
# each with its truth taken from that MTA's own log, into fixtures/headers/mta/<mta>/.
#
#   sudo bash scripts/capture-mta-headers.sh [exim] [dma] [opensmtpd] [sendmail]
#
# (no argument: all four). Needs root: it mounts and makes namespaces.
# The Debian packages of these MTAs conflict with the installed Postfix (they all
# provide mail-transport-agent), so they are NOT installed: their .debs are
# downloaded and extracted into a private prefix, only the libraries they link
# against (which conflict with nothing) are installed with apt, and
# scripts/mta_capture.py runs them inside a private mount, network and PID
# namespace where the prefix is laid over /usr, /etc and /var. Nothing on the
# machine changes apart from those libraries and the prefix; every process the
# capture starts dies with its PID namespace. See docs/fixtures.md.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "capture-mta-headers: must run as root (it makes namespaces and mounts)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "capture-mta-headers: run scripts/setup.sh first (no .venv)" >&2
  exit 1
fi

mtas=("$@")
[ ${#mtas[@]} -gt 0 ] || mtas=(exim dma opensmtpd sendmail)

base=${MTA_CAPTURE_DIR:-/tmp/verifier-mta-capture}  # not under /usr, /etc or /var: those get overlays
debs="$base/debs"
prefix="$base/root"
work="$base/work"
out=${MTA_CAPTURE_OUT:-fixtures/headers/mta}
mkdir -p "$debs"

packages=()
for m in "${mtas[@]}"; do
  case "$m" in
    exim) packages+=(exim4-daemon-light exim4-base exim4-config) ;;
    dma) packages+=(dma) ;;
    opensmtpd) packages+=(opensmtpd) ;;
    sendmail) packages+=(sendmail-bin sendmail-base sendmail-cf) ;;
    *) echo "capture-mta-headers: unknown MTA '$m' (exim, dma, opensmtpd, sendmail)" >&2; exit 2 ;;
  esac
done

echo "capture-mta-headers: downloading ${packages[*]}" >&2
apt-get update -qq
# libraries the extracted binaries link against (none of them conflicts with Postfix);
# m4 builds sendmail.cf from the sendmail-cf macros; the SASL modules and saslpasswd2
# (sasl2-bin) let Sendmail check the AUTH case's password against a sasldb
apt-get install -y -qq --no-install-recommends libidn12 liblockfile1 m4 libdb5.3 \
  libgnutls-dane0 libevent-2.1-7 libwrap0 libsasl2-2 libldap-2.5-0 \
  libsasl2-modules libsasl2-modules-db sasl2-bin >/dev/null
(cd "$debs" && chown _apt: . 2>/dev/null; apt-get download "${packages[@]}" >/dev/null)

rm -rf "$prefix"
mkdir -p "$prefix"
for p in "${packages[@]}"; do
  dpkg-deb -x "$(ls "$debs/${p}"_*.deb | sort -V | tail -1)" "$prefix"
done
for p in "${packages[@]}"; do
  dpkg-deb -f "$(ls "$debs/${p}"_*.deb | sort -V | tail -1)" Package Version | paste -sd' '
done >"$prefix/versions.txt"

echo "capture-mta-headers: capturing into $out" >&2
mkdir -p "$out"
unshare --mount --net --pid --uts --fork --mount-proc \
  .venv/bin/python scripts/mta_capture.py "$prefix" "$work" "$out" "${mtas[@]}"
echo "capture-mta-headers: done; the MTAs' whole logs are under $work" >&2
