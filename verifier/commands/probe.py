"""`verifier probe`: send a real test message, fetch it, and prove which way it went."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from verifier.errors import ExitCode, UsageError, VerifierError

EPILOG = """\
The profile (TOML) names the platform API, the attached sender, the control
address and the recipient mailbox; passwords are given by reference
(password_file or password_env), never inline. See docs/probe.md.
`verifier lab env > lab.toml` writes one for the local lab.

exit codes (without --nagios):
  0  every message took the route the API says it must
  4  a message left through the platform's own outbound when the connector was expected
     (or through the connector when it was not)
  5  a message arrived but its route could not be proven
  11 a message never arrived, or bounced
  13 nothing was sent: the API says the connector is not ok or a task is pending
  2/6/7/9/12  usage / API refused / credentials / network / profile errors
with --nagios: 0 OK, 1 WARNING, 2 CRITICAL (wrong route, not delivered), 3 UNKNOWN.
"""


def register(sub) -> None:
    p = sub.add_parser(
        "probe",
        help="send a test message and prove it went through the send connector",
        description="Ask the OVH API which route each address must take, send a message from the "
        "attached address and from a control address, fetch both over IMAP (IDLE), and prove from "
        "their headers that the first went through the connector's smartHost and the second did not.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--profile", required=True, metavar="FILE", help="the probe profile (TOML)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the result as JSON")
    out.add_argument("--nagios", action="store_true", help="print one Nagios/Icinga status line with perfdata")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="override the profile's delivery timeout")
    p.add_argument("--quiet", action="store_true", help="no progress display on standard error")
    p.add_argument("--history", metavar="FILE", help="append this run to FILE (JSON Lines) and report a route that changed since the last run")
    p.set_defaults(func=run)


class _Progress:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.last = ""

    def __call__(self, msg: str) -> None:
        if not self.enabled:
            return
        if self.tty:
            sys.stderr.write("\r\x1b[K" + msg[:150])
        elif msg.split(" (")[0] != self.last.split(" (")[0]:
            sys.stderr.write(msg + "\n")
        self.last = msg
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled and self.tty and self.last:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def run(args) -> int:
    from dataclasses import replace

    from verifier.probe.profile import load_profile
    from verifier.probe.run import VERDICT_NOT_DELIVERED, VERDICT_VIA_CONNECTOR, run_probe
    from verifier.report import probe as rp

    progress = _Progress(not args.quiet and not args.nagios)
    try:
        profile = load_profile(args.profile)
        if args.timeout is not None:
            if args.timeout <= 0:
                raise UsageError("--timeout must be a positive number of seconds.")
            profile = replace(profile, delivery_timeout=args.timeout)
        result = asyncio.run(run_probe(profile, progress))
    except VerifierError as exc:
        progress.done()
        if args.nagios:
            print(rp.nagios_unknown(str(exc)))
            return rp.NAGIOS_UNKNOWN
        raise
    finally:
        progress.done()
    obj = rp.result_to_json(result)
    route_changes: list[dict] = []
    if args.history:
        from verifier.probe import history

        entry = history.entry_for(obj)
        route_changes = history.changes(history.last_entry(args.history, result.profile), entry)
        history.append(args.history, entry)
    obj["route_changes"] = route_changes
    if args.nagios:
        code, line = rp.nagios(result, route_changes)
        print(line)
        return code
    if args.json:
        print(json.dumps(obj, indent=2, ensure_ascii=False))
    else:
        colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        sys.stdout.write(rp.render_text(result, colour=colour, route_changes=route_changes))
    if result.ok:
        return ExitCode.OK
    verdicts = [leg.verdict for leg in result.legs if not leg.as_expected]
    if VERDICT_NOT_DELIVERED in verdicts:
        return ExitCode.NOT_DELIVERED
    if any(v in ("bypassed", VERDICT_VIA_CONNECTOR) for v in verdicts):
        return ExitCode.BYPASSED
    return ExitCode.INCONCLUSIVE
