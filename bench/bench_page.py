"""Time from POST to a fully rendered page, against bare `verifier analyze --json`, in one run.

For the provider's sample (fixtures/headers/ovh-guide-sample.txt) and for header
blocks of 0.25, 0.5 and 1 MB (the sample repeated), three figures, each the
median of several rounds:

* json:   what `verifier analyze --json` does for one input (parse, analyse,
          report model, json.dumps) — the baseline;
* page:   what the paste server does for one POST /analyze, server side: the
          same analysis plus the HTML page (``verifier.web.work.run``);
* http:   a real POST /analyze to a running paste server on 127.0.0.1 (worker
          process, pipe and HTTP included), as a browser would send it.

Goals: page under 50 ms for the sample; time per MB about constant (linear).

    .venv/bin/python bench/bench_page.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from verifier.analysis.engine import Options, analyze_bytes  # noqa: E402
from verifier.report.model import build  # noqa: E402
from verifier.web.work import Job, run  # noqa: E402

SAMPLE = (ROOT / "fixtures" / "headers" / "ovh-guide-sample.txt").read_bytes()
OPTS = Options(smarthosts=("smtp-relay.example.com",))


def bare_json(data: bytes) -> str:
    return json.dumps(build(analyze_bytes(data, OPTS), header_lines=False).to_json(), ensure_ascii=False, indent=2)


def page(data: bytes) -> str:
    return run(Job("page", data, OPTS, form_text=data.decode("utf-8", "replace"))).body


def median_time(fn, data: bytes, rounds: int, min_seconds: float) -> float:
    times = []
    for _ in range(rounds):
        n, t0 = 0, time.perf_counter()
        while True:
            fn(data)
            n += 1
            el = time.perf_counter() - t0
            if el >= min_seconds:
                break
        times.append(el / n)
    return statistics.median(times)


class Server:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=lambda: self.loop.run_until_complete(self.main()), daemon=True)

    async def main(self) -> None:
        from verifier.web.paste import build_app, start_server

        self.stop = asyncio.Event()
        runner, srv, self.port = await start_server(build_app(OPTS, workers=1), "127.0.0.1", 0)
        self.ready.set()
        await self.stop.wait()
        srv.close()
        await runner.cleanup()

    def __enter__(self):
        self.thread.start()
        self.ready.wait(60)
        return self

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(60)

    def post(self, data: bytes) -> str:
        body = urllib.parse.urlencode({"headers": data.decode("utf-8", "replace"), "smarthost": "smtp-relay.example.com"}).encode()
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/analyze", body, timeout=300) as r:
            return r.read().decode()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    sizes = [("sample", SAMPLE)]
    for mb in (0.25, 0.5, 1.0):
        n = int(mb * 1024 * 1024)
        sizes.append((f"{mb:g} MB", (SAMPLE * (n // len(SAMPLE) + 1))[:n]))
    assert "Sent through the send connector" in page(SAMPLE)
    print(f"Python {sys.version.split()[0]}; median of {args.rounds} rounds")
    print(f"{'input':>8} {'bytes':>9} {'json ms':>9} {'page ms':>9} {'http ms':>9} {'page/json':>9} {'page ms/MB':>10}")
    with Server() as srv:
        for label, data in sizes:
            small = len(data) < 100_000
            j = median_time(bare_json, data, args.rounds, 0.3 if small else 0.0)
            p = median_time(page, data, args.rounds, 0.3 if small else 0.0)
            h = median_time(srv.post, data, args.rounds if small else max(1, args.rounds // 2), 0.3 if small else 0.0)
            per_mb = "" if small else f"{p * 1000 / (len(data) / 1048576):.0f}"
            print(f"{label:>8} {len(data):>9} {j * 1000:>9.1f} {p * 1000:>9.1f} {h * 1000:>9.1f} {p / j:>8.2f}x {per_mb:>10}")
    print("goal: page under 50 ms for the sample; page ms/MB about constant across sizes (linear)")


if __name__ == "__main__":
    main()
