"""Many concurrent probes through one shared MailboxHub, on the lab.

Three phases in the same run, same lab, same process:

1. baseline: one probe alone through a hub (landing-to-verdict latency);
2. private connections: ``--private`` probes at once, each with its own IMAP
   connections as before the hub (how many the lab's Dovecot, at its default
   ``mail_max_userip_connections`` of 10, refuses);
3. shared hub: ``--probes`` probes at once (default 200, two messages each),
   all delivering to the lab's one recipient mailbox through ONE hub.

Reported: probes per minute sustained in phase 3, the process's peak RSS
(sampled from /proc every 20 ms during phase 3, and ru_maxrss), the IMAP
connections the hub held, and the landing-to-verdict latency (p50/p90/max)
under load, as a ratio to the baseline. "Landing" is when the message file
appears in the Maildir (a thread scans ``new/`` and ``cur/`` every 2 ms, see
bench_probe.py); "verdict" is when the probe reached its verdict.

Run as root, holding the lab lock:
  flock /tmp/verifier-lab.lock .venv/bin/python bench/bench_probe_concurrency.py [--probes 200]
It brings the lab up if it is down (and down again afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_probe import MaildirWatch, _cli  # noqa: E402


class RssSampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.is_set():
            with open("/proc/self/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            time.sleep(0.02)

    def stop(self) -> None:
        self._stop.set()


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))]


def _latencies(results, watch: MaildirWatch) -> list[float]:
    out = []
    for r in results:
        if isinstance(r, BaseException):
            continue
        for leg in r.legs:
            landed = watch.seen.get(leg.token)
            if landed is not None and leg.decided_at is not None:
                out.append(leg.decided_at - landed)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--probes", type=int, default=200)
    ap.add_argument("--private", type=int, default=12, help="probes at once with private connections (phase 2)")
    ns = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("bench_probe_concurrency: the lab needs root; nothing measured.")
        return 1
    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="verifier-bench-state-")

    from verifier.errors import VerifierError
    from verifier.lab import topology as t
    from verifier.lab.control import Lab
    from verifier.lab.layout import Layout, lab_dir
    from verifier.platform.api import ExchangeApi
    from verifier.platform.client import ClientSettings, make_client
    from verifier.probe.mailbox import MailboxHub
    from verifier.probe.profile import load_profile
    from verifier.probe.run import run_probe

    lab = Lab(Layout(lab_dir()))
    started_here = not lab.is_up()
    if started_here:
        lab.up()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            prof_path = Path(tmp) / "lab.toml"
            prof_path.write_text(_cli("lab", "env"))
            prof = replace(load_profile(str(prof_path)), delivery_timeout=600)
            client, _ = make_client(ClientSettings(endpoint=prof.platform.endpoint, config_file=prof.platform.config_file))
            api = ExchangeApi(client, t.ORGANIZATION, t.SERVICE)
            cid = next((c.id for c in api.connectors() if c.smart_host == t.RELAY_NAME), None)
            if cid is None:
                pw = lab.layout.password_file(t.RELAY_USER).read_text().strip()
                task = api.create_connector(display_name="bench relay", smart_host=t.RELAY_NAME, port=t.RELAY_PORT,
                                            require_tls=True, auth_mechanism="basicAuthRequireTLS", user=t.RELAY_USER, password=pw)
                api.wait_task(task.id, timeout=30)
                cid = next(c.id for c in api.connectors() if c.smart_host == t.RELAY_NAME)
            api.attach(t.ATTACHED_SENDER, cid)
            time.sleep(1.5)  # the route hook rewrites the platform's maps and reloads it

            watch = MaildirWatch(lab.layout.mail)
            watch.start()

            async def through_hub(n: int):
                async with MailboxHub() as hub:
                    peak = [0]

                    def note(_leg):
                        peak[0] = max(peak[0], hub.connections())

                    res = await asyncio.gather(*(run_probe(prof, hub=hub, on_submitted=note) for _ in range(n)),
                                               return_exceptions=True)
                    return res, peak[0]

            async def private(n: int):
                return await asyncio.gather(*(run_probe(prof) for _ in range(n)), return_exceptions=True)

            base, _ = asyncio.run(through_hub(1))
            base_lat = _latencies(base, watch)

            priv = asyncio.run(private(ns.private))
            priv_fail: dict[str, int] = {}
            for r in priv:
                if isinstance(r, BaseException):
                    name = type(r).__name__ if not isinstance(r, VerifierError) else f"{type(r).__name__} (exit {int(r.exit_code)})"
                    priv_fail[name] = priv_fail.get(name, 0) + 1

            sampler = RssSampler()
            sampler.start()
            rss_before = sampler.peak_kb
            t0 = time.monotonic()
            res, peak_conn = asyncio.run(through_hub(ns.probes))
            wall = time.monotonic() - t0
            sampler.stop()
            watch.stop()
    finally:
        if started_here:
            lab.down()

    ok = sum(1 for r in res if not isinstance(r, BaseException) and r.ok)
    errors: dict[str, int] = {}
    for r in res:
        if isinstance(r, BaseException):
            errors[type(r).__name__] = errors.get(type(r).__name__, 0) + 1
        elif not r.ok:
            errors["not as expected"] = errors.get("not as expected", 0) + 1
    lat = _latencies(res, watch)
    print(f"phase 1, baseline: 1 probe through a hub: landing -> verdict {', '.join(f'{x:.3f}' for x in base_lat)} s")
    print(f"phase 2, private connections: {ns.private} probes at once: {ns.private - sum(priv_fail.values())} ran, "
          f"refused: {priv_fail or 'none'}")
    print(f"phase 3, one shared hub: {ns.probes} probes at once ({2 * ns.probes} messages), {ok} as expected, errors: {errors or 'none'}")
    print(f"  wall {wall:.1f} s -> {ns.probes / wall * 60:.0f} probes per minute; IMAP connections held by the hub: at most {peak_conn}")
    print(f"  peak RSS {sampler.peak_kb / 1024:.1f} MiB (sampled; {rss_before / 1024:.1f} MiB before phase 3); "
          f"ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")
    if lat and base_lat:
        b = sorted(base_lat)[len(base_lat) // 2]
        print(f"  landing -> verdict under load, n={len(lat)}: p50 {_pct(lat, 0.5):.3f} s, p90 {_pct(lat, 0.9):.3f} s, "
              f"max {max(lat):.3f} s; p50 / baseline p50 = {_pct(lat, 0.5) / b:.1f}x")
    return 0 if ok == ns.probes else 2


if __name__ == "__main__":
    raise SystemExit(main())
