#!/usr/bin/env bash
# The long fuzz run: scripts/fuzz.sh --examples 1000000 [--round 2000] [--slow 10] [--out DIR]
# (DIR defaults to $TMPDIR/verifier-fuzz, or /tmp/verifier-fuzz)
#
# Runs the fuzz targets of tests/fuzz in rounds (each round: --round inputs per target, a
# new Hypothesis seed) until --examples inputs have been tried in all, or it is stopped.
# A failing round is kept in DIR/round-N.log with the input that failed, and the run goes on.
# --slow: seconds one input may take before it counts as a failure (default 10).
# At the end (or on Ctrl-C) it prints the number of inputs tried and the failing rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
examples=1000000
round=2000
slow=10
out=${TMPDIR:-/tmp}/verifier-fuzz
while [ $# -gt 0 ]; do
  case "$1" in
    --examples) examples=$2; shift 2 ;;
    --round) round=$2; shift 2 ;;
    --slow) slow=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "fuzz: unknown option $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done
[ -x .venv/bin/python ] || bash scripts/setup.sh >&2
mkdir -p "$out"
report="$out/counts.jsonl"
: > "$report"
tried() { .venv/bin/python -c 'import json,sys; print(sum(json.loads(l)["total"] for l in open(sys.argv[1]) if l.strip()))' "$report"; }
summary() {
  echo "fuzz: $(tried) inputs tried in $n round(s); failing rounds: ${failed:-none}"
}
n=0
failed=""
trap 'summary; exit 130' INT TERM
while [ "$(tried)" -lt "$examples" ]; do
  n=$((n + 1))
  seed=$(( $(date +%s) * 100 + n ))
  if ! VERIFIER_FUZZ_EXAMPLES=$round VERIFIER_FUZZ_SLOW=$slow VERIFIER_FUZZ_REPORT=$report \
      .venv/bin/python -m pytest tests/fuzz -q -p no:cacheprovider --hypothesis-seed="$seed" \
      > "$out/round-$n.log" 2>&1; then
    failed="$failed $n"
    echo "fuzz: round $n (seed $seed) found a failure: $out/round-$n.log" >&2
  else
    rm -f "$out/round-$n.log"
  fi
  echo "fuzz: $(tried) inputs tried after round $n" >&2
done
summary
[ -z "$failed" ]
