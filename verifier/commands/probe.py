"""`verifier probe`: send a real test message, fetch it, and prove which way it went."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time

from verifier.errors import UsageError, VerifierError, exit_code_for_verdict, most_serious

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
  14 the IMAP server refused a connection: too many are open for the mailbox's user
  2/6/7/9/12  usage / API refused / credentials / network (or --timeout reached) / profile errors
with --nagios: 0 OK, 1 WARNING (route right but DKIM/SPF failed, cleanup failed, or delivery
slower than -w), 2 CRITICAL (wrong route, not delivered, bounce, or delivery slower than -c),
3 UNKNOWN (bad arguments, the probe could not run, --timeout reached, internal error), always
with one status line on standard output.
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
    p.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                   help="bound the whole run (API, connections, delivery, analysis, cleanup) to SECONDS; "
                   "the wait for delivery ends early enough to report (fit it to Nagios' check timeout)")
    p.add_argument("-w", "--warning", type=_seconds, metavar="SECONDS",
                   help="with --nagios: WARNING when a message took longer than SECONDS to reach the mailbox")
    p.add_argument("-c", "--critical", type=_seconds, metavar="SECONDS",
                   help="with --nagios: CRITICAL when a message took longer than SECONDS to reach the mailbox")
    p.add_argument("--quiet", action="store_true", help="no progress display on standard error")
    p.add_argument("--history", metavar="FILE", help="append this run to FILE (JSON Lines) and report a route that changed since the last run")
    p.set_defaults(func=run)
    _nagios_aware(p)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive number of seconds")
    return value


def _wants_nagios(args) -> bool:
    return any(isinstance(a, str) and len(a) >= 4 and "--nagios".startswith(a) for a in args or ())


def _nagios_aware(p: argparse.ArgumentParser) -> None:
    """Under --nagios a bad argument is UNKNOWN (3) with a status line on standard output,
    as a plugin must answer, not argparse's usage error (2) on standard error."""
    parse_known, error = p.parse_known_args, p.error

    def unknown(message: str) -> None:
        from verifier.report.probe import NAGIOS_UNKNOWN, nagios_unknown

        print(nagios_unknown(f"bad arguments: {message}"))
        sys.exit(NAGIOS_UNKNOWN)

    def parse_known_args(args=None, namespace=None):
        nagios = _wants_nagios(args if args is not None else sys.argv[1:])
        p._verifier_nagios = nagios  # type: ignore[attr-defined]
        ns, rest = parse_known(args, namespace)
        if nagios and rest:
            unknown(f"unrecognized arguments: {' '.join(rest)}")
        return ns, rest

    def on_error(message: str) -> None:
        if getattr(p, "_verifier_nagios", False):
            unknown(message)
        error(message)

    p.parse_known_args = parse_known_args  # type: ignore[method-assign]
    p.error = on_error  # type: ignore[method-assign]


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
    if not args.nagios:
        return _run(args)
    from verifier.report import probe as rp

    try:
        return _run(args)
    except VerifierError as exc:
        print(rp.nagios_unknown(str(exc)))
        return rp.NAGIOS_UNKNOWN
    except Exception as exc:  # a bug: the plugin still answers with one line
        print(rp.nagios_unknown(f"internal error ({type(exc).__name__}: {_one_line(str(exc))})"))
        return rp.NAGIOS_UNKNOWN


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


async def _bounded(profile, progress, budget: float | None):
    """The run, bounded by ``budget`` seconds in all (the --timeout)."""
    from verifier.errors import NetworkError
    from verifier.probe.run import run_probe

    if budget is None:
        return await run_probe(profile, progress)
    start = time.monotonic()
    # Leave time after the delivery wait for the analysis, the live checks and the cleanup.
    reserve = min(5.0, max(1.0, budget * 0.2))
    try:
        async with asyncio.timeout(budget):
            return await run_probe(profile, progress, deadline=start + budget - reserve)
    except TimeoutError:
        raise NetworkError(f"The probe did not finish within the {budget:g} s of --timeout.") from None


def _run(args) -> int:
    from dataclasses import replace

    from verifier.probe.profile import load_profile
    from verifier.report import probe as rp

    if (args.warning is not None or args.critical is not None) and not args.nagios:
        raise UsageError("-w/--warning and -c/--critical apply to --nagios output only.")
    if args.warning is not None and args.critical is not None and args.warning > args.critical:
        raise UsageError("-w/--warning must not be more than -c/--critical.")
    progress = _Progress(not args.quiet and not args.nagios)
    try:
        profile = load_profile(args.profile)
        if args.timeout is not None:
            profile = replace(profile, delivery_timeout=min(profile.delivery_timeout, args.timeout),
                              connect_timeout=min(profile.connect_timeout, args.timeout))
        result = asyncio.run(_bounded(profile, progress, args.timeout))
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
        code, line = rp.nagios(result, route_changes, warning=args.warning, critical=args.critical)
        print(line)
        return code
    if args.json:
        print(json.dumps(obj, indent=2, ensure_ascii=False))
    else:
        colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        sys.stdout.write(rp.render_text(result, colour=colour, route_changes=route_changes))
    return most_serious(exit_code_for_verdict(leg.verdict, leg.expectation.expect) for leg in result.legs)
