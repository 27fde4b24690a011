"""Throughput of the full analysis over the shared header corpus, against baselines
measured in the same process on the same bytes:

* the standard library's ``BytesHeaderParser(policy=compat32)`` (bare parse);
* mail-parser (``parse_from_bytes`` and its ``.received`` hop list), when installed.

Run:  .venv/bin/python bench/bench_corpus.py [--rounds 5] [--corpus DIR]

Prints messages per second for each, and the ratios the project tracks:
analysis time / stdlib time (goal: at most 2) and mail-parser time /
analysis time (goal: at least 2). Each figure is the median of the rounds.
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
DEFAULT_CORPUS = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "corpus", "headers"))


def load(corpus: str) -> list[bytes]:
    files = sorted(f for f in os.listdir(corpus) if f.endswith(".hdr"))
    out = []
    for f in files:
        with open(os.path.join(corpus, f), "rb") as fh:
            out.append(fh.read())
    return out


def timed(fn, items, rounds: int, min_seconds: float = 0.5) -> float:
    """Median seconds per pass over all items."""
    fn(items[0])  # warm caches (regex compilation, the Public Suffix List)
    per_pass = []
    for _ in range(rounds):
        gc.collect()
        passes = 0
        start = time.perf_counter()
        while True:
            for it in items:
                fn(it)
            passes += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        per_pass.append(elapsed / passes)
    return statistics.median(per_pass)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
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

    results = {}
    results["stdlib BytesHeaderParser(compat32)"] = timed(stdlib, items, ns.rounds)
    results["verifier full analysis"] = timed(ours, items, ns.rounds)
    try:
        import mailparser

        def mp(b):
            m = mailparser.parse_from_bytes(b)
            return m.received

        import logging

        logging.getLogger("mailparser").setLevel(logging.CRITICAL)
        results["mail-parser parse_from_bytes + received"] = timed(mp, items, ns.rounds)
    except ImportError:
        print("bench: mail-parser is not installed (pip install -e '.[bench]'); its row is missing.")

    print(f"corpus: {n} header blocks, {size / 1024:.0f} KiB, Python {sys.version.split()[0]}")
    print(f"{'parser':44} {'msg/s':>9} {'ms/pass':>9}")
    for name, sec in results.items():
        print(f"{name:44} {n / sec:9.0f} {sec * 1000:9.1f}")
    base = results["stdlib BytesHeaderParser(compat32)"]
    ours_t = results["verifier full analysis"]
    print(f"ratio analysis / stdlib parse: {ours_t / base:.2f}x (goal <= 2)")
    if "mail-parser parse_from_bytes + received" in results:
        print(f"ratio mail-parser / analysis:  {results['mail-parser parse_from_bytes + received'] / ours_t:.2f}x (goal >= 2)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
