"""`verifier monitor`: run probes on a schedule, keep a history, serve metrics and a status page."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import UTC, datetime

from verifier.errors import UsageError

EPILOG = """\
The config (TOML) lists the targets (probe profiles, inline or by path), their
interval, the history database, the listen address and the alert sinks;
secrets are given by reference only. See docs/monitor.md.
`verifier lab env --monitor > monitor.toml` writes one for the local lab.

HTTP (loopback by default): /metrics (Prometheus), /probe?target=NAME (one run
now, blackbox_exporter style), / (status page), /runs/ID[.json|.txt].
Signals: SIGTERM/SIGINT stop after the runs in progress (up to shutdown_grace),
SIGHUP reloads the config.

exit codes:
  0  stopped cleanly; with --once: every leg took the expected route
  4  --once: a message took the wrong route
  5  --once: a route could not be proven
  9  the listen address is taken; --once: a run failed before sending (network)
  7/12 --once: a run failed before sending (credentials / profile: e.g. a password
     reference that cannot be read)
  11 --once: a message never arrived, bounced, or was not sent
  12 the config, a profile or the history database is invalid or unusable
  2  usage error
"""


def register(sub) -> None:
    p = sub.add_parser(
        "monitor",
        help="run probes on a schedule with a history, Prometheus metrics, alerts and a status page",
        description="Run the probe against each configured target on a schedule (never two runs of one "
        "target at once), record every run in SQLite, expose Prometheus metrics and a status page, "
        "and send alerts on route changes, repeated failures and recoveries.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", metavar="FILE", help="the monitor config (TOML)")
    p.add_argument("--once", action="store_true", help="run every target once, then exit (for cron and tests)")
    p.add_argument("--no-listen", action="store_true", help="serve no HTTP (with --once or --textfile)")
    p.add_argument("--listen", metavar="HOST:PORT", help="override the config's listen address")
    p.add_argument("--textfile", metavar="DIR", help="also write the metrics to DIR/verifier_monitor.prom for "
                   "node_exporter's textfile collector (atomic rename)")
    p.add_argument("--log-format", choices=("text", "json"), default="text", help="log lines as text or one JSON object per line")
    p.add_argument("--verbose", action="store_true", help="log each step of each run")
    msub = p.add_subparsers(dest="monitor_command", metavar="SUBCOMMAND")
    hist = msub.add_parser("history", help="show the recorded runs and route changes",
                           description="Print the runs (and route changes) recorded in the monitor's history.")
    hist.add_argument("target", nargs="?", help="only this target")
    hist.add_argument("--config", dest="history_config", metavar="FILE", help="the monitor config (for its history path)")
    hist.add_argument("--db", metavar="FILE", help="the history database (instead of --config)")
    hist.add_argument("--since", metavar="WHEN", help="only runs since WHEN: an ISO date/time (UTC) or a duration like 90m, 6h, 7d")
    hist.add_argument("--limit", type=int, default=50, metavar="N", help="at most N runs (default 50)")
    hist.add_argument("--json", action="store_true", help="print JSON")
    hist.set_defaults(func=run_history)
    p.set_defaults(func=run)


def run(args) -> int:
    import asyncio

    from verifier.monitor import logs
    from verifier.monitor.config import load_config, parse_listen
    from verifier.monitor.service import Monitor

    if not args.config:
        raise UsageError("verifier monitor needs --config FILE.")
    if args.textfile:
        import os

        if not os.path.isdir(args.textfile):
            raise UsageError(f"--textfile {args.textfile} is not a directory.")
    logs.setup(args.log_format, 10 if args.verbose else 20)
    cfg = load_config(args.config)
    if args.listen:
        from dataclasses import replace

        host, port = parse_listen(args.listen)
        cfg = replace(cfg, listen_host=host, listen_port=port)
    monitor = Monitor(cfg, textfile=args.textfile)
    return asyncio.run(monitor.serve(once=args.once, listen=not args.no_listen))


_DURATION = re.compile(r"^(\d{1,7})([smhd])$")


def parse_since(text: str, now: float | None = None) -> float:
    now = now or time.time()
    m = _DURATION.match(text.strip())
    if m:
        return now - int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since {text[:40]!r} is neither an ISO date nor a duration like 6h or 7d.") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _fmt(t: float | None) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S") if t else "-"


def run_history(args) -> int:
    import os

    from verifier.errors import ConfigError
    from verifier.monitor.config import load_config
    from verifier.monitor.history import History

    if args.db:
        path = args.db
    elif args.history_config:
        path = load_config(args.history_config).history
    else:
        raise UsageError("verifier monitor history needs --config FILE or --db FILE.")
    if not os.path.exists(path):
        raise ConfigError(f"The monitor history {path} does not exist.")
    if not 1 <= args.limit <= 100_000:
        raise UsageError("--limit must be between 1 and 100000.")
    since = parse_since(args.since) if args.since else None
    h = History(path)
    try:
        runs = h.runs(args.target, since, args.limit)
        events = h.events(args.target, since, args.limit)
    finally:
        h.close()
    if args.json:
        print(json.dumps({"runs": runs, "route_changes": events}, indent=2, ensure_ascii=False))
        return 0
    out = sys.stdout
    if not runs:
        out.write("No runs recorded" + (f" for {args.target}" if args.target else "") + ".\n")
    for r in runs:
        status = "ok" if r["ok"] else (r["status"] if r["status"] != "done" else "FAILED")
        out.write(f"#{r['id']:<6} {_fmt(r['started'])}  {r['target']:<20} {status:<11} {r['seconds'] or 0:6.1f} s  {r['trigger']}\n")
        for g in r["legs"]:
            d = g.get("delivery_seconds")
            conn = f"connector {g['connector_id']}" if g.get("connector_id") is not None else "no connector"
            out.write(f"         {g['role']:<8} {g['state']:<11} verdict {g.get('verdict') or '-':<14} expected {g.get('expected') or '-':<14}"
                      f" {conn}" + (f", {d:.2f} s" if isinstance(d, int | float) else "") + "\n")
            if g.get("error"):
                out.write(f"                  {g['error']}\n")
    if events:
        out.write("\nRoute changes:\n")
        for e in events:
            out.write(f"  {_fmt(e['at'])}  {e['target']} {e['role']}: {e['kind']} {e['before'] or 'none'} -> {e['after'] or 'none'} (run #{e['run_id']})\n")
    return 0
