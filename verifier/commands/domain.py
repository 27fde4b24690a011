"""`verifier domain ...`: domains and the send connector new accounts receive."""

from __future__ import annotations

from verifier.commands._common import (
    API_EXIT_CODES,
    add_api_options,
    add_parser,
    connector_label,
    explained,
    group_help,
    make_api,
    print_json,
    say,
    table,
    with_api,
)
from verifier.errors import ExitCode, UsageError

DOMAIN_HEADERS = ("DOMAIN", "STATE", "DEFAULT CONNECTOR", "CONNECTOR NAME", "TASK")


def domain_text(dom) -> list[str]:
    default = dom.default_connector_id
    return [
        f"domain {dom.name}",
        f"  state                   {dom.state}",
        f"  sendConnectorIdDefault  {default if default else '- (platform default)'}",
        f"  sbrDefault              {dom.sbr_default or '-'}",
        f"  taskPendingId           {dom.task_pending_id or 0}",
    ]


@with_api
def cmd_list(args, api) -> int:
    domains = [api.domain(n) for n in api.domain_names()]
    if args.json:
        print_json([d.to_dict() for d in domains])
        return ExitCode.OK
    if not domains:
        print(f"No domain on {api.service_name}.")
        return ExitCode.OK
    names = {c.id: c for c in api.connectors()} if any(d.default_connector_id for d in domains) else {}
    rows = []
    for d in domains:
        conn = names.get(d.default_connector_id)
        rows.append((
            d.name,
            d.state,
            d.default_connector_id or None,
            conn.display_name if conn else ("platform outbound" if not d.default_connector_id else None),
            d.task_pending_id or None,
        ))
    print(table(DOMAIN_HEADERS, rows))
    return ExitCode.OK


@with_api
def cmd_show(args, api) -> int:
    dom = api.domain(args.name)
    if args.json:
        print_json(dom.to_dict())
    else:
        print("\n".join(domain_text(dom)))
    return ExitCode.OK


def cmd_set_default(args) -> int:
    from verifier.platform import procedures as proc

    reset_words = (None, "0")
    if args.reset and args.connector not in reset_words:
        raise UsageError("Give either a connector or --reset, not both.")
    if not args.reset and args.connector is None:
        raise UsageError("Give the connector (id or name) to make the default, or --reset (same as 0).")
    ref = None if args.reset or args.connector == "0" else args.connector
    api = make_api(args)
    result = explained(api, lambda: proc.set_domain_default(api, args.name, ref))
    if args.json:
        print_json(result.domain.to_dict())
    route = connector_label(result.connector) if result.connector else "the platform's own outbound"
    say(args, f"New accounts of {args.name} will send through {route} (existing accounts are unchanged).")
    return ExitCode.OK


def register(sub) -> None:
    dom = sub.add_parser(
        "domain",
        help="show domains and set the default send connector for new accounts",
        description="Domains of the Exchange service and their default send connector.",
    )
    dom.set_defaults(func=group_help(dom), exit_codes=(ExitCode.USAGE,))
    dsub = dom.add_subparsers(dest="domain_command", metavar="ACTION")

    p = add_parser(dsub, "list", codes=API_EXIT_CODES, func=cmd_list,
                   help="list the domains", description="List the service's domains.")
    add_api_options(p)

    p = add_parser(dsub, "show", codes=API_EXIT_CODES, func=cmd_show,
                   help="show a domain", description="Show a domain and its default send connector.")
    p.add_argument("name", help="domain name")
    add_api_options(p)

    p = add_parser(
        dsub, "set-default", codes=API_EXIT_CODES, func=cmd_set_default,
        help="set (or reset) the send connector given to new accounts of a domain",
        description="Set the domain's default send connector (PUT .../domain/NAME/changeDefaultSBR). "
        "It applies to accounts created afterwards; existing accounts keep theirs. "
        "0 or --reset goes back to the platform's own outbound.",
    )
    p.add_argument("name", help="domain name")
    p.add_argument("connector", metavar="CONNECTOR", nargs="?", default=None,
                   help="send connector id or display name (0 resets)")
    p.add_argument("--reset", action="store_true", help="reset to the platform's own outbound")
    add_api_options(p)
