"""`verifier monitor` under load on the lab: peak memory, probes per minute, landing-to-verdict.

One monitor process (``verifier monitor --once --no-listen``) with N targets that all
share the lab's addresses (each target: the attached sender and the control address,
two messages per run, all into one recipient mailbox). Measured per scenario:

- peak RSS of the monitor process (VmHWM from /proc, sampled every 50 ms);
- probes (messages with a verdict) per minute, over the whole --once pass;
- landing-to-verdict: when Dovecot writes the message into the Maildir (seen by a
  thread scanning the Maildir every 2 ms, as bench/bench_probe.py does) to when the
  probe reached its verdict (the history's arrived_at), both on this machine's clock.

The baseline is the same monitor with one target, measured in the same run; the
figures are printed with their ratio to it. The concurrency of each scenario is the
monitor's ``concurrency`` setting (runs in progress at once). All runs share the
monitor's mailbox hub, so the lab Dovecot's default limit of 10 connections per user
and address is not reached however many runs wait at once; the second scenario runs
a smaller set at another concurrency for comparison.

Run as root, under the lab lock:
  flock /tmp/verifier-lab.lock .venv/bin/python bench/bench_monitor.py [--targets 200] [--concurrency 4]
It brings the lab up if it is down (and down again afterwards) and attaches the lab's
send connector through the OVH API emulator.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import tomli_w

sys.path.insert(0, str(Path(__file__).parent))
from bench_probe import MaildirWatch  # noqa: E402


def _cli(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "verifier", *args], check=True, capture_output=True, text=True).stdout


def _vm(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def scenario(base_cfg: dict, work: Path, watch: MaildirWatch, targets: int, concurrency: int, label: str) -> dict:
    cfg = {k: v for k, v in base_cfg.items() if k != "target"}
    cfg["monitor"] = {**cfg["monitor"], "concurrency": concurrency, "history": str(work / f"{label}.sqlite"),
                      "jitter": 0}
    cfg["alerts"] = {"failures": 3, "min_interval": 900}
    proto = base_cfg["target"][0]
    cfg["target"] = [{**proto, "name": f"t{i:03d}"} for i in range(targets)]
    path = work / f"{label}.toml"
    path.write_text(tomli_w.dumps(cfg))
    peak = 0
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "verifier", "monitor", "--config", str(path), "--once", "--no-listen"],
                            stdout=subprocess.DEVNULL, stderr=open(work / f"{label}.log", "wb"))  # noqa: SIM115
    while proc.poll() is None:
        peak = max(peak, _vm(proc.pid, "VmHWM") or 0)
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    db = sqlite3.connect(path.with_suffix(".sqlite"))
    legs = db.execute("SELECT legs.token, legs.state, legs.arrived_at, legs.error FROM legs").fetchall()
    delivered = [x for x in legs if x[1] == "delivered"]
    time.sleep(0.2)
    lat = sorted(x[2] - watch.seen[x[0]] for x in delivered if x[0] in watch.seen and x[2])
    errors: dict[str, int] = {}
    for x in legs:
        if x[1] != "delivered":
            key = (x[3] or x[1])[:90]
            errors[key] = errors.get(key, 0) + 1
    return {"label": label, "targets": targets, "concurrency": concurrency, "peak_rss": peak, "elapsed": elapsed,
            "messages": len(legs), "delivered": len(delivered), "per_minute": len(delivered) / elapsed * 60,
            "lat": lat, "errors": errors, "exit": proc.returncode}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--targets", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--over", type=int, default=20, help="the concurrency of the comparison scenario (0: skip it)")
    ns = ap.parse_args(argv)
    if not 1 <= ns.targets <= 1000 or not 1 <= ns.concurrency <= 1000 or not 0 <= ns.over <= 1000:
        print("bench_monitor: --targets, --concurrency and --over must be between 1 and 1000.")
        return 2
    if os.geteuid() != 0:
        print("bench_monitor: the lab needs root; nothing measured.")
        return 1
    from verifier.lab import topology as t
    from verifier.lab.control import Lab
    from verifier.lab.layout import Layout, lab_dir
    from verifier.platform.api import ExchangeApi
    from verifier.platform.client import ClientSettings, make_client
    from verifier.probe.profile import load_profile

    lab = Lab(Layout(lab_dir()))
    started_here = not lab.is_up()
    if started_here:
        lab.up()
    results = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            (work / "lab.toml").write_text(_cli("lab", "env"))
            prof = load_profile(str(work / "lab.toml"))
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
            time.sleep(1.5)
            base = tomllib.loads(_cli("lab", "env", "--monitor", "--interval", "60"))
            watch = MaildirWatch(lab.layout.mail)
            watch.start()
            results.append(scenario(base, work, watch, 1, 1, "baseline"))
            results.append(scenario(base, work, watch, ns.targets, ns.concurrency, "load"))
            if ns.over:
                results.append(scenario(base, work, watch, min(ns.targets, 2 * ns.over), ns.over, "compare"))
            watch.stop()
    finally:
        if started_here:
            lab.down()
    b = results[0]
    print(f"{'scenario':11} {'targets':>7} {'conc':>4} {'peak RSS MB':>11} {'x base':>6} {'msgs':>5} {'ok':>5} "
          f"{'msg/min':>8} {'x base':>6} {'land->verdict p50/p90/max s':>28}")
    for r in results:
        lat = r["lat"]
        dist = (f"{statistics.median(lat):.3f}/{lat[min(len(lat) - 1, int(len(lat) * 0.9))]:.3f}/{lat[-1]:.3f}"
                if lat else "-")
        print(f"{r['label']:11} {r['targets']:7} {r['concurrency']:4} {r['peak_rss'] / 2**20:11.1f} "
              f"{r['peak_rss'] / max(b['peak_rss'], 1):6.2f} {r['messages']:5} {r['delivered']:5} {r['per_minute']:8.1f} "
              f"{r['per_minute'] / max(b['per_minute'], 1e-9):6.2f} {dist:>28}")
        for err, n in sorted(r["errors"].items(), key=lambda kv: -kv[1])[:3]:
            print(f"            {n} x {err}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
