#!/usr/bin/env bash
# The monitor end to end on the local lab (root), the way scripts/lab-demo.sh shows the probe:
# bring the lab up, attach newsletter@mydomain.test to a send connector, start
# `verifier monitor` (two targets, 15 s interval) with a webhook receiver, show its
# metrics, detach the account through the API (the next run is a route change: history,
# metrics, one webhook), re-attach it (one recovery), stop the monitor with SIGTERM and
# bring the lab down. Run it under the lab lock: flock /tmp/verifier-lab.lock scripts/monitor-demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "monitor-demo: the lab needs root (network namespace, Postfix); try: sudo $0" >&2
  exit 10
fi
bash scripts/setup.sh --lab
v=.venv/bin/verifier
py=.venv/bin/python
work=$(mktemp -d)
mon_pid="" hook_pid=""
cleanup() {
  [ -n "$mon_pid" ] && kill -TERM "$mon_pid" 2>/dev/null && wait "$mon_pid" 2>/dev/null || true
  [ -n "$hook_pid" ] && kill -TERM "$hook_pid" 2>/dev/null || true
  $v lab down >/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
$v lab up
$v lab env > "$work/lab.toml"
eval "$($v lab env --shell | grep -E '^export (OVH|VERIFIER)_')"
state=$(sed -n 's/^state_dir = "\(.*\)"$/\1/p' "$work/lab.toml")
cid=$($v connector list --json | $py -c 'import json,sys; print(next((str(c["id"]) for c in json.load(sys.stdin) if c["smartHost"]=="smtp.relay.test"), ""))')
if [ -z "$cid" ]; then
  $v connector create --name "lab relay" --smart-host smtp.relay.test --port 587 --require-tls \
    --auth-mechanism basicAuthRequireTLS --user platform-mydomain@relay.test \
    --password-file "$state/secrets/platform-mydomain@relay.test.password" --wait
  cid=$($v connector list --json | $py -c 'import json,sys; print(next(str(c["id"]) for c in json.load(sys.stdin) if c["smartHost"]=="smtp.relay.test"))')
fi
$v account attach newsletter@mydomain.test "$cid"
sleep 2

# a webhook receiver: prints each body it gets
$py - "$work/hook.log" <<'PY' &
import json, sys
from aiohttp import web
out = sys.argv[1]
async def hook(request):
    body = await request.json()
    with open(out, "a") as fh:
        fh.write(json.dumps(body) + "\n")
    for a in body["alerts"]:
        print(f"webhook: {a['status']:8} {a['labels']['alertname']} {a['labels']['target']}/{a['labels']['leg']}: "
              f"{a['annotations'].get('description', '')}", flush=True)
    return web.Response(text="ok")
app = web.Application(); app.router.add_post("/hook", hook)
web.run_app(app, host="127.0.0.1", port=9478, print=None)
PY
hook_pid=$!
$v lab env --monitor --interval 15 --listen 127.0.0.1:9477 --webhook http://127.0.0.1:9478/hook > "$work/monitor.toml"
sed -i 's/^min_interval = .*/min_interval = 0/; s/^delivery = .*/delivery = 10/' "$work/monitor.toml"
sed -i "s|^history = .*|history = \"$work/monitor.sqlite\"|" "$work/monitor.toml"   # a fresh history for the demo
$v monitor --config "$work/monitor.toml" 2> "$work/monitor.log" &
mon_pid=$!

# finished runs of the 'connector' target (0 before the history exists)
runs() { $v monitor history connector --config "$work/monitor.toml" --json 2>/dev/null \
  | $py -c 'import json,sys; t=sys.stdin.read(); print(sum(r["status"] != "running" for r in json.loads(t)["runs"]) if t else 0)'; }
wait_runs() { local n=$1; for _ in $(seq 1 120); do [ "$(runs)" -ge "$n" ] && return 0; sleep 1; done; echo "monitor-demo: no run" >&2; exit 1; }

echo "== first runs"
for _ in $(seq 1 60); do curl -sf 127.0.0.1:9477/healthz >/dev/null && break; sleep 0.5; done
wait_runs 1
curl -s 127.0.0.1:9477/metrics | grep -E '^verifier_probe_(success|verdict\{.*\} 1)' || true
n=$(runs)
echo "== detaching newsletter@mydomain.test through the API"
$v account detach newsletter@mydomain.test
wait_runs $((n + 1)); sleep 1
$v monitor history connector --config "$work/monitor.toml" --limit 2
curl -s 127.0.0.1:9477/metrics | grep -E '^verifier_probe_route_changes_total'
n=$(runs)
echo "== re-attaching it"
$v account attach newsletter@mydomain.test "$cid"
sleep 2
wait_runs $((n + 2)); sleep 1
echo "== webhook calls received: $(wc -l < "$work/hook.log")"
echo "== status page: http://127.0.0.1:9477/ ($(curl -s 127.0.0.1:9477/ | wc -c) bytes)"
kill -TERM "$mon_pid"; wait "$mon_pid"; mon_pid=""
echo "== monitor stopped cleanly"
