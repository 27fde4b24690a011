#!/usr/bin/env bash
# The main job end to end on the local lab (root): set up, bring the lab up,
# create a send connector through the OVH API emulator, attach it to
# newsletter@mydomain.test, then probe: the attached address must go through
# the smarthost, contact@mydomain.test through the platform.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "lab-demo: the lab needs root (network namespace, Postfix); try: sudo $0" >&2
  exit 10
fi
bash scripts/setup.sh --lab
v=.venv/bin/verifier
$v lab up
profile=$(mktemp --suffix=.toml)
$v lab env > "$profile"
eval "$($v lab env --shell | grep -E '^export (OVH|VERIFIER)_')"
state=$(sed -n 's/^state_dir = "\(.*\)"$/\1/p' "$profile")
cid=$($v connector list --json | .venv/bin/python -c 'import json,sys; print(next((str(c["id"]) for c in json.load(sys.stdin) if c["smartHost"]=="smtp.relay.test"), ""))')
if [ -z "$cid" ]; then
  $v connector create --name "lab relay" --smarthost smtp.relay.test --port 587 --require-tls \
    --auth-mechanism basicAuthRequireTLS --user platform-mydomain@relay.test \
    --password-file "$state/secrets/platform-mydomain@relay.test.password" --wait
  cid=$($v connector list --json | .venv/bin/python -c 'import json,sys; print(next(str(c["id"]) for c in json.load(sys.stdin) if c["smartHost"]=="smtp.relay.test"))')
fi
$v account attach newsletter@mydomain.test "$cid"
sleep 1
exec $v probe --profile "$profile" "$@"
