"""Time from a probe message landing in the mailbox to the probe's verdict, on the lab.

Three ways of watching the mailbox are measured in the same run, on the same
lab, with the same probe code: the probe's default (quick NOOP polling for a
few seconds after submission, then IMAP IDLE), IMAP IDLE alone, and a polling
loop that looks every 5 seconds (how most round-trip monitors wait).

"Landing" is when Dovecot writes the message into the Maildir: a thread
watches the mailbox's ``new/`` and ``cur/`` folders every 2 ms and records
the first time it sees each file. "Verdict" is the wall-clock time the probe
reached its verdict for that message. Both are read from this machine's
clock.

Run as root (the lab needs it):  .venv/bin/python bench/bench_probe.py [--probes 20]
It brings the lab up if it is down (and down again afterwards), attaches the
lab's send connector through the OVH API emulator, and prints the medians
and the ratio. Goal: median under 0.5 s with IDLE.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path


class MaildirWatch(threading.Thread):
    """First time each message file is seen in the Maildir, by token."""

    def __init__(self, root: Path) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.seen: dict[str, float] = {}  # token -> landing time
        self._names: set[str] = set()
        self._stop = threading.Event()

    def run(self) -> None:
        from verifier.probe.message import TOKEN_RE

        while not self._stop.is_set():
            for sub in self.root.rglob("Maildir*"):
                for part in ("new", "cur"):
                    d = sub / part
                    if not d.is_dir():
                        continue
                    for entry in os.scandir(d):
                        if entry.name in self._names:
                            continue
                        now = time.time()
                        self._names.add(entry.name)
                        try:
                            with open(entry.path, "rb") as fh:
                                m = TOKEN_RE.search(fh.read(65536).decode("latin-1"))
                        except OSError:
                            continue
                        if m and m.group(0) not in self.seen:
                            self.seen[m.group(0)] = now
            time.sleep(0.002)

    def stop(self) -> None:
        self._stop.set()


def _cli(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "verifier", *args], check=True, capture_output=True, text=True).stdout


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--probes", type=int, default=20)
    ap.add_argument("--poll", type=float, default=5.0, help="interval of the polling baseline (default 5 s)")
    ns = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("bench_probe: the lab needs root; nothing measured.")
        return 1

    from verifier.lab import topology as t
    from verifier.lab.control import Lab
    from verifier.lab.layout import Layout, lab_dir
    from verifier.platform.api import ExchangeApi
    from verifier.platform.client import ClientSettings, make_client
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
            prof = load_profile(str(prof_path))
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
            results: dict[str, list[float]] = {"verifier (default)": [], "IMAP IDLE only": [], f"polling every {ns.poll:g} s": []}
            profiles = {
                "verifier (default)": prof,
                "IMAP IDLE only": replace(prof, fast_window=0.0),
                f"polling every {ns.poll:g} s": replace(prof, recipient=replace(prof.recipient, idle=False), poll_interval=ns.poll, fast_window=0.0),
            }
            for name, p in profiles.items():
                for i in range(ns.probes):
                    r = asyncio.run(run_probe(p))
                    if not r.ok:
                        print(f"{name} probe {i}: not as expected: {[(leg.role, leg.verdict, leg.error) for leg in r.legs]}")
                        continue
                    for leg in r.legs:
                        landed = watch.seen.get(leg.token)
                        if landed is not None and leg.decided_at is not None:
                            results[name].append(leg.decided_at - landed)
            watch.stop()
    finally:
        if started_here:
            lab.down()

    print(f"landing in the mailbox -> verdict, {ns.probes} probes x 2 messages each")
    print(f"{'watching by':24} {'n':>3} {'median s':>9} {'p90 s':>7} {'max s':>7}")
    med = {}
    for name, xs in results.items():
        if not xs:
            print(f"{name:24} no measurement")
            continue
        xs.sort()
        med[name] = statistics.median(xs)
        p90 = xs[min(len(xs) - 1, int(len(xs) * 0.9))]
        print(f"{name:24} {len(xs):3} {med[name]:9.3f} {p90:7.3f} {xs[-1]:7.3f}")
    poll_name = f"polling every {ns.poll:g} s"
    if "verifier (default)" in med and poll_name in med:
        ours = med["verifier (default)"]
        print(f"ratio {poll_name} / verifier: {med[poll_name] / ours:.1f}x; verifier's median {'meets' if ours < 0.5 else 'misses'} the 0.5 s goal")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
