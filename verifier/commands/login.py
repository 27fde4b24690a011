"""`verifier login`: get a consumer key with least privilege and write it into ovh.conf."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from verifier.errors import UsageError

EPILOG = """\
The application key and secret come from OVH_APPLICATION_KEY / OVH_APPLICATION_SECRET,
else from the ovh.conf files python-ovh reads (and FILE), else from a prompt when
standard input is a terminal; never from the command line. Create them once on the
provider's createApp page (see docs/platform.md).

Without --write the key may only read (GET) the Exchange services: enough for
`probe`, `monitor` and every list/show command. --write adds exactly the calls of
`connector create/update/delete/change-auth`, `account attach/detach` and
`domain set-default`.

exit codes:
  0  the key was validated and written
  2  bad command line
  7  no application key/secret, the API refused them, or the key was not validated in time
  9  the API could not be reached
  12 the ovh.conf file cannot be read or written, or the endpoint is unknown
"""


def register(sub) -> None:
    p = sub.add_parser(
        "login",
        help="get an OVH API consumer key with only the rights verifier needs, and save it",
        description="Ask the OVH API for a consumer key limited to the calls verifier makes, print the "
        "URL where you validate it, wait until you have, and write it into ovh.conf (mode 0600).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--write", action="store_true",
                   help="also ask for the write rules the configuration commands need (default: read-only)")
    p.add_argument("--endpoint", metavar="NAME|URL",
                   help="API endpoint (default: OVH_ENDPOINT, then [default] endpoint of ovh.conf, then ovh-eu)")
    p.add_argument("--config-file", metavar="FILE", default="~/.ovh.conf",
                   help="the ovh.conf to write (merged with what it holds; default ~/.ovh.conf)")
    p.add_argument("--organization", metavar="ORG", help="limit the rules to this organisation")
    p.add_argument("--service", metavar="SERVICE", help="limit the rules to this service")
    p.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                   help="how long to wait for the validation (default 600)")
    p.add_argument("--api-timeout", type=float, default=60.0, metavar="SECONDS",
                   help="timeout of each HTTP request (default 60)")
    p.set_defaults(func=run)


def _ask(prompt: str, secret: bool) -> str:
    if secret:
        return getpass.getpass(prompt)
    sys.stderr.write(prompt)
    sys.stderr.flush()
    return sys.stdin.readline().strip()


def run(args: argparse.Namespace) -> int:
    from verifier.platform.credentials import login

    if not 0 < args.timeout <= 86400:
        raise UsageError("--timeout must be between 0 and 86400 seconds.")
    if not 0 < args.api_timeout <= 3600:
        raise UsageError("--api-timeout must be between 0 and 3600 seconds.")
    tty = sys.stderr.isatty()
    last = {"shown": -1}

    def show_url(url: str) -> None:
        sys.stderr.write("Open this URL, log in and validate the key (choose its validity there):\n")
        sys.stdout.write(url + "\n")
        sys.stdout.flush()

    def progress(waited: float) -> None:
        if tty:
            sys.stderr.write(f"\rwaiting for the validation... {waited:4.0f} s")
            sys.stderr.flush()
        elif int(waited) // 30 != last["shown"]:  # one line every 30 s when not on a terminal
            last["shown"] = int(waited) // 30
            sys.stderr.write(f"waiting for the validation ({waited:.0f} s)\n")

    try:
        result = login(
            endpoint=args.endpoint,
            config_file=Path(args.config_file),
            write=args.write,
            organization=args.organization,
            service=args.service,
            wait=args.timeout,
            api_timeout=args.api_timeout,
            ask=_ask if sys.stdin.isatty() else None,
            show_url=show_url,
            progress=progress,
        )
    finally:
        if tty:
            sys.stderr.write("\n")
    kind = "read and write" if result.write else "read-only"
    sys.stderr.write(
        f"Validated. Wrote {result.path} (mode 0600): a {kind} consumer key for {result.endpoint.given} "
        f"({len(result.rules)} access rules).\n"
    )
    return 0
