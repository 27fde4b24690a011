"""`verifier service list`: the Exchange organisations and services the credentials can see."""

from __future__ import annotations

from verifier.commands._common import (
    API_EXIT_CODES,
    add_api_options,
    add_parser,
    group_help,
    make_client,
    print_json,
    table,
)
from verifier.errors import ExitCode, VerifierError

SERVICE_HEADERS = ("ORGANIZATION", "SERVICE", "DISPLAY NAME", "OFFER", "HOSTNAME", "STATE")


def cmd_list(args) -> int:
    from verifier.platform import procedures as proc
    from verifier.platform.api import ExchangeApi

    client = make_client(args)
    entries = proc.visible_services(client)
    rows, objects = [], []
    for e in entries:
        try:
            svc = ExchangeApi(client, e.organization, e.service).service()
        except VerifierError:
            svc = None  # listed but unreadable: still shown, with what is known
        rows.append((
            e.organization,
            e.service,
            svc.display_name if svc else None,
            svc.offer if svc else None,
            svc.hostname if svc else None,
            svc.state if svc else None,
        ))
        objects.append(svc.to_dict() if svc else {"organization": e.organization, "service": e.service})
    if args.json:
        print_json(objects)
        return ExitCode.OK
    if not entries:
        print("These credentials see no Exchange service.")
        return ExitCode.OK
    print(table(SERVICE_HEADERS, rows))
    return ExitCode.OK


def register(sub) -> None:
    svc = sub.add_parser(
        "service",
        help="list the Exchange organisations and services the credentials can see",
        description="The Exchange organisations and services the API credentials can see: the "
        "values --organization and --service (or VERIFIER_OVH_ORGANIZATION and "
        "VERIFIER_OVH_SERVICE) take.",
    )
    svc.set_defaults(func=group_help(svc), exit_codes=(ExitCode.USAGE,))
    ssub = svc.add_subparsers(dest="service_command", metavar="ACTION")
    p = add_parser(ssub, "list", codes=API_EXIT_CODES, func=cmd_list,
                   help="list the organisations and services",
                   description="List every Exchange organisation and service the credentials can see.")
    add_api_options(p, service=False)
