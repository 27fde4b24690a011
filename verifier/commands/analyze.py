"""`verifier analyze`: explain where a message went, from its headers."""

from __future__ import annotations

import argparse
import json
import os
import sys

from verifier.errors import ExitCode, UsageError, exit_code_for_verdict, most_serious

EPILOG = """\
inputs:
  FILE      a pasted header block, an .eml, or an mbox (one report per message)
  DIR       every file in the folder (sorted; *.json files are skipped)
  -         standard input (the default when no input is given)

exit codes:
  0  done: the route was proven, or no route was expected (no --smarthost)
  3  an input could not be read or holds no header (the others are still reported)
  4  verdict "bypassed": the message left through the platform's own outbound
  5  --smarthost was given but the headers prove neither route
  2  usage error (for --serve: a --listen that is not HOST:PORT)
  9  --serve could not listen: the port is in use, or the host does not resolve

examples:
  verifier analyze --smarthost smtp-relay.example.com headers.txt
  pbpaste | verifier analyze --json -
  verifier analyze --json --smarthost smtp.relay.example tickets/ > triage.jsonl
  verifier analyze --serve            # a local paste page on http://127.0.0.1:8025/
  verifier analyze --html headers.txt > report.html   # the same page as one file
"""


def register(sub) -> None:
    p = sub.add_parser(
        "analyze",
        help="explain a message's route and authentication from its headers",
        description="Read pasted headers, .eml or mbox files and explain the hop table, delays, "
        "who handed the message to the recipient, SPF/DKIM/DMARC/ARC, whether a send connector "
        "carried it, and what to fix. Nothing is looked up on the network.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="file, folder, mbox or - (default: -)")
    p.add_argument("--json", action="store_true", help="print JSON (JSON Lines when there are several messages)")
    p.add_argument(
        "--smarthost",
        action="append",
        default=[],
        metavar="HOST",
        help="the send connector's smartHost: a name, glob, IP or network (repeatable); "
        "hosts of the same organisational domain count as the provider's",
    )
    p.add_argument(
        "--platform",
        action="append",
        default=None,
        metavar="PATTERN",
        help="a platform outbound host pattern (repeatable); replaces the OVH Exchange defaults "
        "ex*.mail.ovh.net, *.mail-out.ovh.net, *.local",
    )
    p.add_argument(
        "--trusted-authserv",
        action="append",
        default=[],
        metavar="ID",
        help="an authserv-id of the recipient's servers whose Authentication-Results mark the border (repeatable)",
    )
    p.add_argument(
        "--long-delay",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="flag a hop that held the message longer than this (default 300)",
    )
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour in the text report")
    p.add_argument("--html", action="store_true", help="print an HTML report instead of text")
    p.add_argument("--serve", action="store_true", help="serve a local paste page instead of reading inputs")
    p.add_argument("--listen", default="127.0.0.1:8025", metavar="HOST:PORT", help="address for --serve (default 127.0.0.1:8025)")
    p.set_defaults(func=run)
    register_findings(sub)


def options_from_args(args):
    from verifier.analysis.engine import Options
    from verifier.analysis.hosts import DEFAULT_PLATFORM_PATTERNS

    if args.long_delay <= 0:
        raise UsageError("--long-delay must be a positive number of seconds.")
    return Options(
        smarthosts=tuple(args.smarthost),
        platform=tuple(args.platform) if args.platform is not None else DEFAULT_PLATFORM_PATTERNS,
        trusted_authserv_ids=tuple(args.trusted_authserv),
        long_delay_seconds=args.long_delay,
    )


def run(args) -> int:
    options = options_from_args(args)
    if args.serve:
        from verifier.web.paste import serve

        return serve(args.listen, options)
    if not args.inputs and sys.stdin.isatty():
        raise UsageError("no input: give a file, a folder, or - and paste the headers on standard input.")

    from verifier.analysis.defects import unread_reason
    from verifier.analysis.engine import VERDICT_VIA_CONNECTOR, analyze_bytes
    from verifier.inputs import iter_messages

    colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
    many = len(args.inputs) > 1 or any(os.path.isdir(i) for i in args.inputs)
    codes: list[int] = []
    expected = VERDICT_VIA_CONNECTOR if options.smarthosts else None
    count = 0
    first = True
    for msg in iter_messages(args.inputs):
        count += 1
        if msg.error is None:
            analysis = analyze_bytes(msg.data, options)
            reason = unread_reason(analysis.headers)
            msg_error = f"{msg.name}: {reason}" if reason else None
            if reason:
                analysis = None
        else:
            analysis, msg_error = None, f"{msg.error}."
        if analysis is None:
            codes.append(ExitCode.INPUT)
            if args.json:
                print(json.dumps({"input": msg.name, "error": msg_error}), flush=True)
            else:
                sys.stderr.write(f"verifier: {msg_error}\n")
            continue
        codes.append(exit_code_for_verdict(analysis.verdict, expected))
        if args.json:
            from verifier.report.json_report import to_json

            obj = to_json(analysis, input_name=msg.name)
            # written in pieces: the whole document as one string would double the peak memory
            json.dump(obj, sys.stdout, ensure_ascii=False, indent=None if many or msg.name.count("#") else 2)
            sys.stdout.write("\n")
            del obj
        elif args.html:
            from verifier.report.html import render as render_html

            sys.stdout.write(render_html(analysis, input_name=msg.name))
        else:
            from verifier.report.text import render

            if not first:
                sys.stdout.write("\n")
            sys.stdout.write(render(analysis, input_name=msg.name if many or "#" in msg.name else None, colour=colour))
        first = False
        sys.stdout.flush()
    if count == 0:
        raise UsageError("no input to analyse.")
    return most_serious(codes)  # unreadable input (3), then bypassed (4), then inconclusive (5)


def register_findings(sub) -> None:
    p = sub.add_parser(
        "findings",
        help="list every finding code with its severity and meaning",
        description="Finding codes are stable: scripts may match on them.",
    )
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown (as in README.md)")
    p.add_argument("--json", action="store_true", help="print the catalogue as JSON")
    p.set_defaults(func=run_findings)


def run_findings(args) -> int:
    from verifier.analysis import findings as F

    if args.json:
        print(json.dumps([{"code": s.code, "severity": s.severity, "meaning": s.meaning} for s in F.SPECS.values()], indent=2))
    elif args.markdown:
        print(F.markdown_table())
    else:
        width = max(len(c) for c in F.SPECS)
        for s in F.SPECS.values():
            print(f"{s.code:{width}}  {s.severity:7}  {s.meaning}")
    return 0
