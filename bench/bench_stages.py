"""Where the time of the full analysis goes, stage by stage, over the shared header corpus.

Run:  .venv/bin/python bench/bench_stages.py [--rounds 5] [--passes 5] [--corpus DIR]

Each stage is timed alone over the whole corpus, on inputs prepared beforehand (the
normalised fields for the per-header parsers, the parsed headers for the analysis):

* ``normalise``: bytes to header fields (:func:`verifier.parsers.paste.normalise`);
* ``Received``, ``Authentication-Results``, ``dates``, ...: each parser over every value
  of its kind that ``parse_headers`` gives it;
* ``parse_headers``: all of the above, with its own dispatch;
* ``analysis``: :func:`verifier.analysis.engine.analyze` on parsed headers;
* ``analyze_bytes``: the whole, as ``bench_corpus.py`` times it;
* ``JSON report``: the ``--json`` contract built from an analysis (not part of
  ``analyze_bytes``; what ``verifier analyze --json`` adds before writing).

The stages take turns pass by pass within each round, timed in the process's CPU time
(as ``bench_corpus.py`` does); each figure is the median of the rounds' medians, with its
share of ``analyze_bytes``. The per-parser rows do not
add up to ``parse_headers`` exactly: its dispatch and isolation cost the difference.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_CANDIDATES = [os.path.normpath(os.path.join(HERE, "..", *[".."] * up, "shared", "corpus", "headers")) for up in (1, 2)]
DEFAULT_CORPUS = next((c for c in _CANDIDATES if os.path.isdir(c)), _CANDIDATES[0])



def build_name() -> str:
    """Which build of verifier the run measured (docs/compiled.md)."""
    from verifier import _compiled

    return {"compiled": "compiled build (mypyc)", "pure": "pure Python (no compiled build)",
            "pure-requested": "pure Python (VERIFIER_PURE_PYTHON=1)",
            "pure-stale": "pure Python (the compiled build is stale)"}.get(_compiled.build, _compiled.build)

def _rounds(stages: dict, rounds: int, passes: int) -> dict[str, list[float]]:
    """Each stage's CPU seconds per pass in each round (the median of ``passes`` passes,
    the stages taking turns pass by pass)."""
    out: dict[str, list[float]] = {k: [] for k in stages}
    for _ in range(rounds):
        per_pass: dict[str, list[float]] = {k: [] for k in stages}
        gc.collect()
        for _ in range(passes):
            for name, fn in stages.items():
                start = time.process_time()
                fn()
                per_pass[name].append(time.process_time() - start)
        for name, times in per_pass.items():
            out[name].append(statistics.median(times))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ns = ap.parse_args(argv)
    if not os.path.isdir(ns.corpus):
        print(f"bench: the corpus folder {ns.corpus} is not present; nothing measured.")
        return 1
    files = sorted(f for f in os.listdir(ns.corpus) if f.endswith(".hdr"))
    items = []
    for f in files:
        with open(os.path.join(ns.corpus, f), "rb") as fh:
            items.append(fh.read())

    from verifier.analysis.engine import Options, analyze, analyze_bytes
    from verifier.parsers import (
        parse_address,
        parse_authentication_results,
        parse_date,
        parse_headers,
        parse_received,
        parse_received_spf,
        parse_tag_list,
        spf_results_from_ar,
    )
    from verifier.parsers.paste import decode_words, normalise
    from verifier.report.json_report import to_json

    opts = Options(smarthosts=("smtp-relay.example.com",))
    blocks = [normalise(b) for b in items]
    by_kind: dict[str, list] = {}
    firsts: dict[str, list] = {}
    for block in blocks:
        seen: set[str] = set()
        for f in block.fields:
            name = f.lname
            by_kind.setdefault(name, []).append(f)
            if name not in seen:
                seen.add(name)
                firsts.setdefault(name, []).append(f)
    rcv = by_kind.get("received", [])
    ars = by_kind.get("authentication-results", []) + by_kind.get("arc-authentication-results", [])
    tags = [f for k in ("dkim-signature", "arc-seal", "arc-message-signature") for f in by_kind.get(k, [])]
    addrs = firsts.get("return-path", []) + firsts.get("from", [])
    dates = firsts.get("date", [])
    spf = by_kind.get("received-spf", [])
    subjects = firsts.get("subject", [])
    headers = [parse_headers(b) for b in items]
    parsed_ars = [parse_authentication_results(f.value, f.index, f.lname) for f in ars]
    analyses = [analyze(h, opts) for h in headers]

    stages = {
        "normalise": lambda: [normalise(b) for b in items],
        f"Received ({len(rcv)} values)": lambda: [parse_received(f.value, f.index) for f in rcv],
        f"Authentication-Results ({len(ars)})": lambda: [parse_authentication_results(f.value, f.index, f.lname) for f in ars],
        "  SPF results read from them": lambda: [spf_results_from_ar(a) for a in parsed_ars if a.kind == "authentication-results"],
        f"DKIM/ARC tag lists ({len(tags)})": lambda: [parse_tag_list(f.value, f.index, f.lname) for f in tags],
        f"Received-SPF ({len(spf)})": lambda: [parse_received_spf(f.value, f.index) for f in spf],
        f"Return-Path/From ({len(addrs)})": lambda: [parse_address(f.value, f.index) for f in addrs],
        f"Date ({len(dates)}) and Subject ({len(subjects)})": lambda: ([parse_date(f.value) for f in dates], [decode_words(f.value) for f in subjects]),
        "parse_headers (all of the above)": lambda: [parse_headers(b) for b in items],
        "analysis (analyze on parsed headers)": lambda: [analyze(h, opts) for h in headers],
        "analyze_bytes (the whole)": lambda: [analyze_bytes(b, opts) for b in items],
        "JSON report (not in analyze_bytes)": lambda: [to_json(a) for a in analyses],
    }
    for fn in stages.values():
        fn()
    runs = _rounds(stages, ns.rounds, ns.passes)
    whole = statistics.median(runs["analyze_bytes (the whole)"])
    print(f"corpus: {len(items)} header blocks, {sum(map(len, items)) / 1024:.0f} KiB, Python {sys.version.split()[0]}, {ns.rounds} rounds, {build_name()}")
    print(f"{'stage':44} {'ms/pass':>8} {'share':>6}  {'rounds (ms)':>13}")
    for name, times in runs.items():
        med = statistics.median(times)
        print(f"{name:44} {med * 1000:8.1f} {med / whole:6.0%}  {min(times) * 1000:6.1f}-{max(times) * 1000:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
