"""The catalogue of findings: stable codes, their severity, what each means, and the
sentence a report shows for it (a template filled in by :func:`say`).

A finding code never changes meaning once released. README.md carries the
same table (``verifier findings --markdown`` prints it, and a test checks the
two agree), so the documentation cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from verifier.model import Severity
from verifier.parsers._construct import positional_constructor

INFO = Severity.INFO
WARNING = Severity.WARNING
ERROR = Severity.ERROR
SEVERITIES = (INFO, WARNING, ERROR)


@dataclass(frozen=True, slots=True)
class FindingSpec:
    code: str
    severity: str
    meaning: str  # one line for the documentation table
    text: str = ""  # the sentence a report shows: a str.format template over the values ``say`` is given


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: str
    message: str  # one or two sentences for a person, naming hosts and values
    headers: tuple[int, ...] = ()  # indexes of the header fields that prove it (0 = topmost)


_SPECS = [
    # input
    FindingSpec("input.repaired", INFO, "The pasted text needed repair (HTML entities, indentation, folding, line ends) before it could be read; each repair is named.",
                "Repaired before reading: {names}{more}"),
    FindingSpec("input.no-headers", ERROR, "No header field could be read from the input.",
                "No header field could be read from the input."),
    # chain
    FindingSpec("chain.no-received", WARNING, "The message carries no Received header, so its route cannot be traced.",
                "The message carries no Received header, so its route cannot be traced."),
    FindingSpec("chain.unparsed-hop", WARNING, "A Received header names neither the sending nor the receiving host; it is kept as raw text.",
                "Received #{hop} names neither the sending nor the receiving host; it is kept as written."),
    FindingSpec("chain.invalid-ip", WARNING, "A Received header records an address that is not a valid IP (for example 11.22.333.44); it is shown as written.",
                "Received #{hop} records the client address {ip}, which is not a valid IP address; it is shown as written."),
    FindingSpec("chain.date-unparsed", INFO, "A Received header's date could not be read, so the delays around that hop are unknown.",
                "Received #{hop} has {what} that cannot be read as a date, so the delays around it are unknown."),
    FindingSpec("chain.clock-skew", WARNING, "A hop is stamped earlier than the hop before it: one of the two clocks is wrong, so that delay is not shown.",
                "Received #{hop} ({by}) is stamped {skew} earlier than {previous}: one of the two clocks is wrong, so this delay is not shown."),
    FindingSpec("chain.long-delay", WARNING, "One hop held the message for longer than the delay threshold (5 minutes by default).",
                "The message spent {delay} before Received #{hop} ({by}) took it, more than the {threshold} threshold."),
    FindingSpec("chain.total-delay", INFO, "Time from the first timestamp (the Date header, or the oldest hop) to the last hop.",
                "The trip took {total} from {start} to the last hop."),
    # border
    FindingSpec("border.found", INFO, "The recipient's border hop (the Received header its first server wrote) and the evidence that locates it.",
                "The recipient's border is Received #{hop}: {receiver} received the message from {who} (evidence: {evidence})."),
    FindingSpec("border.not-found", WARNING, "No independent evidence (Authentication-Results authserv-id, Received-SPF client-ip) locates the recipient's border hop.",
                "No Authentication-Results authserv-id or Received-SPF client-ip locates the recipient's border.{hint} Give the recipient's authserv-id with --trusted-authserv if it is known."),
    FindingSpec("border.from-smarthost", INFO, "The host that handed the message to the recipient belongs to the send connector's smarthost.",
                "{who} handed the message to the recipient, and it belongs to the smarthost ({match})."),
    FindingSpec("border.from-platform", WARNING, "The host that handed the message to the recipient is the platform's own outbound server.",
                "{who} handed the message to the recipient, and it is a platform server (pattern {pattern})."),
    FindingSpec("border.from-unknown", WARNING, "The host that handed the message to the recipient matches neither the smarthost nor the platform.",
                "{who} handed the message to the recipient, and it matches neither the smarthost nor the platform.{hint}"),
    # route
    FindingSpec("route.smarthost-hop", INFO, "A Received header on the sending side was written by the smarthost (or its provider).",
                "Received #{hop} was written by {by}, which matches the smarthost ({match})."),
    FindingSpec("route.platform-hop", INFO, "A Received header on the sending side was written by the platform's own servers.",
                "Received #{hop} was written by {by}, a platform server (pattern {pattern})."),
    FindingSpec("route.platform-after-smarthost", WARNING, "The platform handled the message again after the smarthost: the connector did not deliver it to the recipient itself.",
                "The platform handled the message again (Received #{hop}) after the smarthost: the connector did not hand it to the recipient itself."),
    FindingSpec("route.sbr-processed", INFO, "The platform marked the message as routed by sender-based routing (x-mclm-sbr-processed).",
                "The platform marked the message as handled by sender-based routing (x-mclm-sbr-processed: true), the mechanism behind send connectors."),
    FindingSpec("route.likely", INFO, "The headers prove no route, but the chain suggests one: the most likely route, the hop that suggests it, and why it is not proven. It never changes the verdict or the exit code.",
                "The most likely route is {route} (unconfirmed): {reason}"),
    FindingSpec("route.no-smarthost-given", INFO, "No smarthost was given (--smarthost), so a route through a connector cannot be proven, only a route through the platform.",
                "No smarthost was given (--smarthost), so a route through a send connector cannot be proven; only a route through the platform can be."),
    # spf
    FindingSpec("spf.pass", INFO, "SPF passed at the recipient for the named domain and client IP.",
                "SPF passed for {domain}{where} ({source})."),
    FindingSpec("spf.not-pass", WARNING, "SPF did not pass at the recipient (fail, softfail, neutral, none, temperror or permerror).",
                "SPF gave '{result}' for {domain}{where} ({source})."),
    FindingSpec("spf.pass-smarthost-ip", INFO, "SPF passed for the smarthost's address that handed the message over at the border.",
                "SPF passed for the smarthost's address {ip} that handed the message over."),
    FindingSpec("spf.client-ip-mismatch", WARNING, "The client IP in an SPF result is not the address the border hop recorded.",
                "SPF was evaluated for {ip}, but the border hop recorded the client {border_ip}."),
    FindingSpec("spf.none-found", INFO, "No SPF result was recorded by the recipient's servers.",
                "The recipient's servers recorded no SPF result."),
    # dkim
    FindingSpec("dkim.pass", INFO, "The recipient verified a DKIM signature.",
                "{who} verified a DKIM signature with d={d}."),
    FindingSpec("dkim.fail", WARNING, "The recipient could not verify a DKIM signature.",
                "{who} could not verify the DKIM signature with d={d}: {result}{reason}."),
    FindingSpec("dkim.not-signed", WARNING, "The message carries no DKIM signature.",
                "The message carries no DKIM signature."),
    FindingSpec("dkim.signed-by-provider", INFO, "A DKIM signature was made by the smarthost's provider domain, not the sender's domain.",
                "A DKIM signature was made with d={d}, the smarthost provider's domain, not the sender's domain {from_domain}."),
    FindingSpec("dkim.signed-by-sender-domain", INFO, "A DKIM signature was made with the From domain (or its organisational domain).",
                "A DKIM signature was made with d={d}, aligned with the From domain {from_domain}."),
    # dmarc
    FindingSpec("dmarc.aligned", INFO, "SPF or DKIM passed for a domain aligned with the From domain, so DMARC can pass.",
                "{how} {verb} for a domain aligned with the From domain {from_domain}, so DMARC can pass."),
    FindingSpec("dmarc.not-aligned", WARNING, "Neither SPF nor DKIM passed for a domain aligned with the From domain: DMARC fails wherever that domain publishes a policy.",
                "{lead} the From domain {from_domain} (SPF: {spf}; DKIM: {dkim}): DMARC fails wherever {org} publishes a policy. Fix: have the provider sign with d={from_domain} (custom DKIM) or use a bounce domain under {from_domain}."),
    FindingSpec("dmarc.result", INFO, "The DMARC result the recipient recorded.",
                "{who} recorded DMARC {result} for {domain}."),
    # arc
    FindingSpec("arc.chain", INFO, "The message carries an ARC chain; its instances and the last seal's cv value.",
                "The message carries an ARC chain of {count} instance(s); the last seal says cv={cv}."),
    FindingSpec("arc.broken", WARNING, "The ARC chain is malformed: a missing header in a set, a gap in instances, an instance number outside RFC 8617's 1 to 50, or a seal with cv=fail.",
                "The ARC chain is malformed: {problems}."),
    # auth results trust
    FindingSpec("auth.untrusted-results", INFO, "Authentication results written below the border hop were written by the sending side and are ignored.",
                "{count} authentication header(s) sit below the recipient's border, so the sending side wrote them; they are ignored."),
    FindingSpec("auth.lenient-parse", INFO, "An Authentication-Results header does not follow RFC 8601 and was read leniently.",
                "{count} Authentication-Results header(s) do not follow RFC 8601 and were read leniently."),
    # verdict
    FindingSpec("verdict.via-connector", INFO, "The message left through the send connector's smarthost.",
                "The message left through the send connector's smarthost: {why}."),
    FindingSpec("verdict.bypassed", ERROR, "The message left through the platform's own outbound, not through the send connector.",
                "The message left through the platform's own outbound ({who}), not through the send connector. Check that the sender's account has the connector attached (sendConnectorId) and that the connector's state is ok."),
    FindingSpec("verdict.inconclusive", WARNING, "The headers do not prove either route; the message says what is missing.",
                "No route can be proven: {why}."),
]

SPECS: dict[str, FindingSpec] = {s.code: s for s in _SPECS}

# Finding(code, severity, message, headers) without the frozen dataclass's keyword
# __init__ (which sets each field through object.__setattr__): the slots' own descriptors.
_new_finding = positional_constructor(Finding)


# each code's severity and its template's bound ``format``, read by say() in one look-up
_FILL: dict[str, tuple[str, Callable[..., str]]] = {s.code: (s.severity, s.text.format) for s in _SPECS}


def say(code: str, headers: tuple[int, ...] | list[int] = (), **values: object) -> Finding:
    """Build a finding for a registered code from its sentence template and ``values``."""
    severity, fill = _FILL[code]
    # the header indexes sorted, each once (one or none: nothing to sort)
    hdrs = tuple(sorted(set(headers))) if len(headers) > 1 else tuple(headers)
    return _new_finding(code, severity, fill(**values), hdrs)


def markdown_table() -> str:
    rows = ["| code | severity | meaning |", "|---|---|---|"]
    for s in _SPECS:
        rows.append(f"| `{s.code}` | {s.severity} | {s.meaning} |")
    return "\n".join(rows)
