"""Throughput of the full analysis over the shared header corpus, against baselines
measured in the same process on the same bytes:

* the standard library's ``BytesHeaderParser(policy=compat32)`` (bare parse);
* mail-parser (``parse_from_bytes`` and its ``.received`` hop list), when installed.

Run:  .venv/bin/python bench/bench_corpus.py [--rounds 5] [--corpus DIR]

Prints messages per second for each, and the ratios the project tracks:
analysis time / stdlib time (goal: at most 2) and mail-parser time /
analysis time (goal: at least 2.5). In each round the parsers take turns pass by pass
(one pass = every block once), and a round's figure for a parser is the median of its
passes; each time printed is the median of the rounds (with the fastest and slowest
round), each ratio the median of the per-round ratios (with the lowest and highest).
Times are the process's CPU time (``time.process_time``), so that waiting for a core on
a shared machine is not counted; ``--wall`` times with the wall clock instead.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from email.parser import BytesHeaderParser
from email.policy import compat32

HERE = os.path.dirname(os.path.abspath(__file__))
# The shared corpus sits beside the repository (or beside the directory of worktrees).
_CANDIDATES = [os.path.normpath(os.path.join(HERE, "..", *[".."] * up, "shared", "corpus", "headers")) for up in (1, 2)]
DEFAULT_CORPUS = next((c for c in _CANDIDATES if os.path.isdir(c)), _CANDIDATES[0])



def build_name() -> str:
    """Which build of verifier the run measured (docs/compiled.md)."""
    from verifier import _compiled

    return {"compiled": "compiled build (mypyc)", "pure": "pure Python (no compiled build)",
            "pure-requested": "pure Python (VERIFIER_PURE_PYTHON=1)",
            "pure-stale": "pure Python (the compiled build is stale)"}.get(_compiled.build, _compiled.build)

def load(corpus: str) -> list[bytes]:
    files = sorted(f for f in os.listdir(corpus) if f.endswith(".hdr"))
    out = []
    for f in files:
        with open(os.path.join(corpus, f), "rb") as fh:
            out.append(fh.read())
    return out


def rounds_of(parsers: dict, items, rounds: int, passes: int = 5, clock=time.process_time) -> dict[str, list[float]]:
    """Each parser's seconds per pass in each round: the median of ``passes`` passes over
    all items, the parsers taking turns pass by pass, so that a change in the load of a
    shared machine falls on all of them alike. ``clock`` is the process's CPU time by
    default (time spent waiting for a core is not counted)."""
    for fn in parsers.values():
        for it in items:
            fn(it)  # warm caches (regex compilation, the Public Suffix List)
    out: dict[str, list[float]] = {name: [] for name in parsers}
    for _ in range(rounds):
        per_pass: dict[str, list[float]] = {name: [] for name in parsers}
        gc.collect()
        for _ in range(passes):
            for name, fn in parsers.items():
                start = clock()
                for it in items:
                    fn(it)
                per_pass[name].append(clock() - start)
        for name, times in per_pass.items():
            out[name].append(statistics.median(times))
    return out


def _ratio(a: list[float], b: list[float]) -> str:
    per_round = sorted(x / y for x, y in zip(a, b, strict=True))
    return f"{statistics.median(per_round):.2f}x [{per_round[0]:.2f}-{per_round[-1]:.2f}]"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--passes", type=int, default=5, help="passes per parser in a round (default 5)")
    ap.add_argument("--wall", action="store_true", help="time with the wall clock instead of the process's CPU time")
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ns = ap.parse_args(argv)
    if not os.path.isdir(ns.corpus):
        print(f"bench: the corpus folder {ns.corpus} is not present; nothing measured.")
        return 1
    items = load(ns.corpus)
    n = len(items)
    size = sum(len(x) for x in items)

    from verifier.analysis.engine import Options, analyze_bytes

    opts = Options(smarthosts=("smtp-relay.example.com",))
    parser = BytesHeaderParser(policy=compat32)

    def stdlib(b):
        return parser.parsebytes(b)

    def ours(b):
        return analyze_bytes(b, opts)

    parsers = {"stdlib BytesHeaderParser(compat32)": stdlib, "verifier full analysis": ours}
    try:
        import mailparser

        def mp(b):
            m = mailparser.parse_from_bytes(b)
            return m.received

        import logging

        logging.getLogger("mailparser").setLevel(logging.CRITICAL)
        parsers["mail-parser parse_from_bytes + received"] = mp
    except ImportError:
        print("bench: mail-parser is not installed (pip install -e '.[bench]'); its row is missing.")
    runs = rounds_of(parsers, items, ns.rounds, ns.passes, time.perf_counter if ns.wall else time.process_time)

    clock = "wall clock" if ns.wall else "CPU time"
    print(f"corpus: {n} header blocks, {size / 1024:.0f} KiB, Python {sys.version.split()[0]}, {ns.rounds} rounds of {ns.passes} passes, {clock}, {build_name()}")
    print(f"{'parser':44} {'msg/s':>9} {'ms/pass':>9}  {'rounds (ms/pass)':>16}")
    for name, times in runs.items():
        sec = statistics.median(times)
        spread = f"{min(times) * 1000:.1f}-{max(times) * 1000:.1f}"
        print(f"{name:44} {n / sec:9.0f} {sec * 1000:9.1f}  {spread:>16}")
    base = runs["stdlib BytesHeaderParser(compat32)"]
    ours_t = runs["verifier full analysis"]
    print(f"ratio analysis / stdlib parse: {_ratio(ours_t, base)} (goal <= 2)")
    if "mail-parser parse_from_bytes + received" in runs:
        print(f"ratio mail-parser / analysis:  {_ratio(runs['mail-parser parse_from_bytes + received'], ours_t)} (goal >= 2.5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
