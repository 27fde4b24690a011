"""Time of the field parsers over the header corpus, against the stdlib's header parse.

Run from the repository root:

    .venv/bin/python bench/bench_parsers.py                 # default corpus, 7 rounds
    .venv/bin/python bench/bench_parsers.py --rounds 15 --corpus DIR

Every ``.hdr`` file of the corpus (and every fixture under fixtures/headers) is
normalised once; the values of its Received, Authentication-Results /
ARC-Authentication-Results, Date, From and Return-Path fields are collected. Then,
in the same process, each round times

- ``parse_received`` + ``parse_authentication_results`` + ``parse_date`` +
  ``parse_address`` over those values, per parser and in total;
- ``email.parser.BytesHeaderParser(policy=compat32)`` over the same files' bytes
  (the baseline).

Times are the process's CPU time (``--wall`` for the wall clock), and the best round
of each is kept (the least disturbed by the other processes of the machine); the figure to compare between two trees is the ratio parsers/stdlib,
which the machine's speed largely cancels out.
"""

from __future__ import annotations

import argparse
import email.policy
import gc
import os
import sys
import time
from email.parser import BytesHeaderParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from verifier.parsers.addresses import parse_address  # noqa: E402
from verifier.parsers.auth import parse_authentication_results  # noqa: E402
from verifier.parsers.dates import parse_date  # noqa: E402
from verifier.parsers.paste import normalise  # noqa: E402
from verifier.parsers.received import parse_received  # noqa: E402

_CANDIDATES = [
    ROOT.joinpath(*[".."] * up, "shared", "corpus", "headers").resolve() for up in (1, 2)
]
_clock = time.process_time  # CPU time of this process: steadier on a shared machine (--wall)
DEFAULT_CORPUS = next((c for c in _CANDIDATES if c.is_dir()), _CANDIDATES[0])


def load(corpus: Path) -> tuple[list[bytes], dict[str, list[tuple[str, int, str]]]]:
    files = sorted(corpus.glob("*.hdr")) if corpus.is_dir() else []
    fixtures = ROOT / "fixtures" / "headers"
    files += sorted(p for p in fixtures.iterdir() if p.suffix in (".txt", ".eml"))
    blobs = [p.read_bytes() for p in files]
    values: dict[str, list[tuple[str, int, str]]] = {
        "received": [],
        "auth": [],
        "date": [],
        "address": [],
    }
    for data in blobs:
        for f in normalise(data).fields:
            n = f.lname
            if n == "received":
                values["received"].append((f.value, f.index, n))
            elif n in ("authentication-results", "arc-authentication-results"):
                values["auth"].append((f.value, f.index, n))
            elif n == "date":
                values["date"].append((f.value, f.index, n))
            elif n in ("from", "return-path"):
                values["address"].append((f.value, f.index, n))
    return blobs, values


def run_parsers(values: dict[str, list[tuple[str, int, str]]]) -> dict[str, float]:
    out: dict[str, float] = {}
    t0 = _clock()
    for v, i, _n in values["received"]:
        parse_received(v, i)
    t1 = _clock()
    for v, i, n in values["auth"]:
        parse_authentication_results(v, i, n)
    t2 = _clock()
    for v, _i, _n in values["date"]:
        parse_date(v)
    t3 = _clock()
    for v, i, _n in values["address"]:
        parse_address(v, i)
    t4 = _clock()
    out["received"] = t1 - t0
    out["auth"] = t2 - t1
    out["date"] = t3 - t2
    out["address"] = t4 - t3
    out["total"] = t4 - t0
    return out


def run_stdlib(blobs: list[bytes]) -> float:
    parser = BytesHeaderParser(policy=email.policy.compat32)
    t0 = _clock()
    for b in blobs:
        parser.parsebytes(b)
    return _clock() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--wall", action="store_true", help="time the wall clock instead of CPU time")
    args = ap.parse_args(argv)
    global _clock
    if args.wall:
        _clock = time.perf_counter
    blobs, values = load(args.corpus)
    counts = {k: len(v) for k, v in values.items()}
    print(f"{len(blobs)} files ({os.fspath(args.corpus)} + fixtures); values: {counts}")
    run_parsers(values)  # warm caches and imports
    best: dict[str, float] = {}
    best_std = float("inf")
    gc.disable()
    try:
        for _ in range(max(1, min(args.rounds, 100))):
            for k, v in run_parsers(values).items():
                best[k] = min(best.get(k, float("inf")), v)
            best_std = min(best_std, run_stdlib(blobs))
    finally:
        gc.enable()
    print(f"stdlib compat32 header parse: {best_std * 1000:8.2f} ms")
    for k in ("received", "auth", "date", "address", "total"):
        print(f"{k:>9}: {best[k] * 1000:8.2f} ms  = {best[k] / best_std:5.2f} x stdlib")
    return 0


if __name__ == "__main__":
    sys.exit(main())
