"""The mutation score from mutmut's results (``mutants/**/*.meta``), per module.

    .venv/bin/python scripts/mutation_score.py mutants
    .venv/bin/python scripts/mutation_score.py OLD/mutants NEW/mutants   # same mutants, two test sets
    .venv/bin/python scripts/mutation_score.py merge OUT A/mutants B/mutants ...

``merge`` writes OUT/merged.meta: every checked result of the folders, a later folder's
overriding an earlier one's (a rerun of some mutants over a full or partial run).

Killed: the tests failed (or timed out) with the mutant in place. Survived: they
passed. Mutants that no selected test reaches, or not yet run, are counted apart and
left out of the score. With two result folders, only the mutants checked in both count,
so the two scores are over the same mutants.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

NO_TESTS = {33, 5}
SKIPPED = {34}
TIMEOUT = {36, 24, 152, -24}


def status(code: int | None) -> str:
    if code is None:
        return "not checked"
    if code == 0:
        return "survived"
    if code in NO_TESTS:
        return "no tests"
    if code in SKIPPED:
        return "skipped"
    if code in TIMEOUT:
        return "timeout"
    return "killed"


def load(folder: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for meta in Path(folder).rglob("*.meta"):
        for key, code in json.loads(meta.read_text()).get("exit_code_by_key", {}).items():
            out[key] = status(code)
    return out


def report(name: str, results: dict[str, str], keys: set[str]) -> None:
    counts = Counter(results[k] for k in keys)
    per_module: dict[str, Counter] = {}
    for k in keys:
        mod = k.split(".x")[0].rsplit(".", 1)[-1] if ".x" in k else k
        per_module.setdefault(mod, Counter())[results[k]] += 1
    scored = counts["killed"] + counts["timeout"] + counts["survived"]
    score = 100.0 * (counts["killed"] + counts["timeout"]) / scored if scored else 0.0
    print(f"{name}: {len(keys)} mutants; killed {counts['killed']}, timeout {counts['timeout']}, survived {counts['survived']}, "
          f"no tests {counts['no tests']}, not checked {counts['not checked']}; score {score:.1f}% of {scored}")
    for mod, c in sorted(per_module.items()):
        s = c["killed"] + c["timeout"] + c["survived"]
        if s:
            print(f"    {mod:12} {100.0 * (c['killed'] + c['timeout']) / s:5.1f}%  ({c['survived']} survived of {s})")


def merge(out: str, folders: list[str]) -> int:
    merged: dict[str, int | None] = {}
    for folder in folders:
        for meta in Path(folder).rglob("*.meta"):
            for key, code in json.loads(meta.read_text()).get("exit_code_by_key", {}).items():
                if code is not None or key not in merged:
                    merged[key] = code
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / "merged.meta").write_text(json.dumps({"exit_code_by_key": merged}, indent=0, sort_keys=True))
    return 0


def main(argv: list[str]) -> int:
    if argv and argv[0] == "merge":
        return merge(argv[1], argv[2:])
    if len(argv) == 1:
        r = load(argv[0])
        report(argv[0], r, set(r))
        return 0
    a, b = load(argv[0]), load(argv[1])
    common = {k for k in set(a) & set(b) if a[k] != "not checked" and b[k] != "not checked"}
    report(argv[0], a, common)
    report(argv[1], b, common)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["mutants"]))
