"""The emulator's `like` filter: the linear wildcard matcher against the regular expression it replaced.

For k = 1..MAX_K `%` wildcards followed by a character the value lacks (the worst case: no
match, so a backtracking engine tries every split), time one match of each against a
24-character address, in the same run, and print the ratio regex/glob. The regex's time
grows like C(24 + k, k); the matcher's stays about flat. The regex column stops at
MAX_K (default 8) so the run ends; the test suite shows that 14 wildcards do not hang.

    .venv/bin/python bench/bench_emulator_matching.py [MAX_K]
"""

from __future__ import annotations

import re
import sys
import time

from verifier.lab.api.matching import glob_match

VALUE = "newsletter@mydomain.test"


def regex_like(pattern: str, value: str) -> bool:
    """The emulator's former filter: % and _ turned into .* and . (backtracking)."""
    regex = "^" + re.escape(pattern).replace("%", ".*").replace("_", ".") + "$"
    return re.match(regex, value, re.IGNORECASE) is not None


def best_of(fn, rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    max_k = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    print(f"value: {VALUE!r} ({len(VALUE)} chars); pattern: k x '%' then 'x' (no match)")
    print(f"{'k':>3} {'regex s':>12} {'glob s':>12} {'regex/glob':>12}")
    for k in range(1, max_k + 1):
        pattern = "%" * k + "x"
        assert regex_like(pattern, VALUE) is glob_match(pattern, VALUE, many="%", one="_", fold=True) is False
        r = best_of(lambda p=pattern: regex_like(p, VALUE))
        g = best_of(lambda p=pattern: glob_match(p, VALUE, many="%", one="_", fold=True))
        print(f"{k:>3} {r:>12.6f} {g:>12.6f} {r / g:>12.1f}")
    k = 14
    g = best_of(lambda: glob_match("%" * k + "x", VALUE, many="%", one="_", fold=True))
    print(f"{k:>3} {'(not run)':>12} {g:>12.6f}")


if __name__ == "__main__":
    main()
