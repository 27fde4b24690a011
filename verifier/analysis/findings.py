"""The catalogue of findings: stable codes, their severity, and what each means.

A finding code never changes meaning once released. README.md carries the
same table (``verifier findings --markdown`` prints it, and a test checks the
two agree), so the documentation cannot drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass

INFO = "info"
WARNING = "warning"
ERROR = "error"
SEVERITIES = (INFO, WARNING, ERROR)


@dataclass(frozen=True, slots=True)
class FindingSpec:
    code: str
    severity: str
    meaning: str  # one line for the documentation table


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: str
    message: str  # one or two sentences for a person, naming hosts and values
    headers: tuple[int, ...] = ()  # indexes of the header fields that prove it (0 = topmost)

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "headers": list(self.headers),
        }


_SPECS = [
    # input
    FindingSpec("input.repaired", INFO, "The pasted text needed repair (HTML entities, indentation, folding, line ends) before it could be read; each repair is named."),
    FindingSpec("input.no-headers", ERROR, "No header field could be read from the input."),
    # chain
    FindingSpec("chain.no-received", WARNING, "The message carries no Received header, so its route cannot be traced."),
    FindingSpec("chain.unparsed-hop", WARNING, "A Received header names neither the sending nor the receiving host; it is kept as raw text."),
    FindingSpec("chain.invalid-ip", WARNING, "A Received header records an address that is not a valid IP (for example 11.22.333.44); it is shown as written."),
    FindingSpec("chain.date-unparsed", INFO, "A Received header's date could not be read, so the delays around that hop are unknown."),
    FindingSpec("chain.clock-skew", WARNING, "A hop is stamped earlier than the hop before it: one of the two clocks is wrong, so that delay is not shown."),
    FindingSpec("chain.long-delay", WARNING, "One hop held the message for longer than the delay threshold (5 minutes by default)."),
    FindingSpec("chain.total-delay", INFO, "Time from the first timestamp (the Date header, or the oldest hop) to the last hop."),
    # border
    FindingSpec("border.found", INFO, "The recipient's border hop (the Received header its first server wrote) and the evidence that locates it."),
    FindingSpec("border.not-found", WARNING, "No independent evidence (Authentication-Results authserv-id, Received-SPF client-ip) locates the recipient's border hop."),
    FindingSpec("border.from-smarthost", INFO, "The host that handed the message to the recipient belongs to the send connector's smarthost."),
    FindingSpec("border.from-platform", WARNING, "The host that handed the message to the recipient is the platform's own outbound server."),
    FindingSpec("border.from-unknown", WARNING, "The host that handed the message to the recipient matches neither the smarthost nor the platform."),
    # route
    FindingSpec("route.smarthost-hop", INFO, "A Received header on the sending side was written by the smarthost (or its provider)."),
    FindingSpec("route.platform-hop", INFO, "A Received header on the sending side was written by the platform's own servers."),
    FindingSpec("route.platform-after-smarthost", WARNING, "The platform handled the message again after the smarthost: the connector did not deliver it to the recipient itself."),
    FindingSpec("route.sbr-processed", INFO, "The platform marked the message as routed by sender-based routing (x-mclm-sbr-processed)."),
    FindingSpec("route.no-smarthost-given", INFO, "No smarthost was given (--smarthost), so a route through a connector cannot be proven, only a route through the platform."),
    # spf
    FindingSpec("spf.pass", INFO, "SPF passed at the recipient for the named domain and client IP."),
    FindingSpec("spf.not-pass", WARNING, "SPF did not pass at the recipient (fail, softfail, neutral, none, temperror or permerror)."),
    FindingSpec("spf.pass-smarthost-ip", INFO, "SPF passed for the smarthost's address that handed the message over at the border."),
    FindingSpec("spf.client-ip-mismatch", WARNING, "The client IP in an SPF result is not the address the border hop recorded."),
    FindingSpec("spf.none-found", INFO, "No SPF result was recorded by the recipient's servers."),
    # dkim
    FindingSpec("dkim.pass", INFO, "The recipient verified a DKIM signature."),
    FindingSpec("dkim.fail", WARNING, "The recipient could not verify a DKIM signature."),
    FindingSpec("dkim.not-signed", WARNING, "The message carries no DKIM signature."),
    FindingSpec("dkim.signed-by-provider", INFO, "A DKIM signature was made by the smarthost's provider domain, not the sender's domain."),
    FindingSpec("dkim.signed-by-sender-domain", INFO, "A DKIM signature was made with the From domain (or its organisational domain)."),
    # dmarc
    FindingSpec("dmarc.aligned", INFO, "SPF or DKIM passed for a domain aligned with the From domain, so DMARC can pass."),
    FindingSpec("dmarc.not-aligned", WARNING, "Neither SPF nor DKIM passed for a domain aligned with the From domain: DMARC fails wherever that domain publishes a policy."),
    FindingSpec("dmarc.result", INFO, "The DMARC result the recipient recorded."),
    # arc
    FindingSpec("arc.chain", INFO, "The message carries an ARC chain; its instances and the last seal's cv value."),
    FindingSpec("arc.broken", WARNING, "The ARC chain is malformed: a missing header in a set, a gap in instances, an instance number outside RFC 8617's 1 to 50, or a seal with cv=fail."),
    # auth results trust
    FindingSpec("auth.untrusted-results", INFO, "Authentication results written below the border hop were written by the sending side and are ignored."),
    FindingSpec("auth.lenient-parse", INFO, "An Authentication-Results header does not follow RFC 8601 and was read leniently."),
    # verdict
    FindingSpec("verdict.via-connector", INFO, "The message left through the send connector's smarthost."),
    FindingSpec("verdict.bypassed", ERROR, "The message left through the platform's own outbound, not through the send connector."),
    FindingSpec("verdict.inconclusive", WARNING, "The headers do not prove either route; the message says what is missing."),
]

SPECS: dict[str, FindingSpec] = {s.code: s for s in _SPECS}


def make(code: str, message: str, headers: tuple[int, ...] | list[int] = (), severity: str | None = None) -> Finding:
    """Build a finding for a registered code (an unknown code is a programming error)."""
    spec = SPECS[code]
    return Finding(code, severity or spec.severity, message, tuple(sorted(set(headers))))


def markdown_table() -> str:
    rows = ["| code | severity | meaning |", "|---|---|---|"]
    for s in _SPECS:
        rows.append(f"| `{s.code}` | {s.severity} | {s.meaning} |")
    return "\n".join(rows)
