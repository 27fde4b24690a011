#!/usr/bin/env bash
# Mutation testing of the header analysis (verifier/analysis/) with mutmut.
#
#   scripts/mutation.sh            # run every mutant, then print the score
#   scripts/mutation.sh run 'verifier.analysis.border*'   # only the mutants matching a pattern
#   scripts/mutation.sh run NAME NAME ...                 # or named ones (rerun, even if checked)
#   scripts/mutation.sh results    # list the surviving mutants of the last run
#   scripts/mutation.sh show NAME  # the diff of one mutant
#   .venv/bin/python scripts/mutation_score.py OLD/mutants mutants  # two runs, same mutants
#
# The mutants and the test selection are set in pyproject.toml ([tool.mutmut]):
# the analysis and fixture tests, each mutant's run fastest first (tests/mutation_order.py)
# and stopped at the first failure. The run uses MUTATION_JOBS processes (default 2) and
# writes under ./mutants/ (ignored by git); a rerun only tests mutants whose code or
# tests changed (rm -rf mutants for a clean run). Every mutant of verifier/analysis/
# takes about a quarter of an hour with two jobs on two cores (docs/mutation.md).
set -euo pipefail
cd "$(dirname "$0")/.."
# Mutants are sources: never let the compiled build of the unmutated code stand in for them.
export VERIFIER_PURE_PYTHON=1
PY=.venv/bin/python
[ -x .venv/bin/mutmut ] || { echo "mutation.sh: mutmut is missing; run scripts/setup.sh" >&2; exit 10; }

case "${1:-run}" in
  run)
    shift || true
    .venv/bin/mutmut run --max-children "${MUTATION_JOBS:-2}" "$@" >/dev/null 2>&1 || true
    $PY scripts/mutation_score.py mutants
    ;;
  results) .venv/bin/mutmut results ;;
  show) .venv/bin/mutmut show "$2" ;;
  *) echo "usage: scripts/mutation.sh [run|results|show NAME]" >&2; exit 2 ;;
esac
