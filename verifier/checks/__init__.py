"""Live checks on a message (I/O): DKIM and ARC verification, SPF re-evaluation, DMARC policy.

Everything goes through one injected asynchronous :class:`~verifier.checks.dns.Resolver`
(a :class:`~verifier.checks.dns.DnsResolver` pointed at a server, or a
:class:`~verifier.checks.dns.StaticResolver` for offline use), whose cache is
shared by all the checks of a run. DNS failures never raise out of
:func:`run_checks`: they become ``temperror`` results with a sentence saying why.
See docs/checks.md.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from verifier.checks.dkim import (
    PASS,
    ArcVerification,
    DkimVerification,
    has_body_separator,
    verify_arc,
    verify_dkim,
)
from verifier.checks.dmarc import DmarcOutcome, check_dmarc
from verifier.checks.dns import (
    DnsResolver,
    DnsTemporaryError,
    Resolver,
    StaticResolver,
    normalise_name,
)
from verifier.checks.spf import SpfCheck, check_host
from verifier.errors import NetworkError
from verifier.parsers.ip import is_ip

if TYPE_CHECKING:
    from verifier.analysis.engine import Analysis

__all__ = [
    "ChecksReport",
    "DnsResolver",
    "HostAddresses",
    "Resolver",
    "StaticResolver",
    "resolve_host",
    "run_checks",
]


@dataclass(frozen=True, slots=True)
class ChecksReport:
    """What the live checks found for one message."""

    headers_only: bool  # only the header was available: no body hash was checked
    dkim: tuple[DkimVerification, ...]
    arc: ArcVerification | None  # None when the message carries no ARC header
    spf: SpfCheck | None  # None when no client address or identity was known
    dmarc: DmarcOutcome | None  # None when the message has no readable From domain
    notes: tuple[str, ...] = ()  # one sentence per check that could not run, and why

    @property
    def dkim_pass_domains(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.d.lower() for v in self.dkim if v.result == PASS and v.d))

    def to_json(self) -> dict:
        return {
            "headers_only": self.headers_only,
            "dkim": [v.to_json() for v in self.dkim],
            "arc": self.arc.to_json() if self.arc else None,
            "spf": self.spf.to_json() if self.spf else None,
            "dmarc": self.dmarc.to_json() if self.dmarc else None,
            "notes": list(self.notes),
        }


_ARC_HEADERS = ("arc-seal", "arc-message-signature", "arc-authentication-results")


async def run_checks(raw_message: bytes, analysis: Analysis, resolver: Resolver) -> ChecksReport:
    """DKIM/ARC verification, SPF for the border's client address, and the From domain's DMARC.

    ``analysis`` is the offline analysis of the same message
    (:func:`verifier.analysis.engine.analyze_bytes`): its border gives the client
    address and HELO name SPF is re-evaluated for, its Return-Path the MAIL FROM
    domain, its From header the DMARC domain. When the input holds only a
    header (a paste), signatures are checked over the header alone and labelled
    ``header-only``.
    """
    if isinstance(raw_message, str):
        raw_message = raw_message.encode("utf-8", "surrogateescape")
    headers = analysis.headers
    block = headers.block
    headers_only = not block.has_body if block.fields else not has_body_separator(raw_message)
    message = raw_message
    if headers_only and block.text:
        # The paste normaliser's header text: entities decoded, quoting and indentation removed.
        message = block.text.encode("utf-8", "surrogateescape")
    notes: list[str] = []

    has_arc = any(f.lname in _ARC_HEADERS for f in block.fields)
    dkim_task = verify_dkim(message, resolver, headers_only=headers_only)
    arc_task = verify_arc(message, resolver, headers_only=headers_only) if has_arc else _none()
    spf_task = _spf(analysis, resolver, notes)
    dkim_res, arc_res, spf_res = await asyncio.gather(dkim_task, arc_task, spf_task)
    if headers_only and dkim_res:
        notes.append("Only the header was available, so DKIM signatures were checked over the header alone (never a pass).")

    dmarc_res = None
    from_dom = headers.from_.domain if headers.from_ else None
    if from_dom:
        spf_pass = (spf_res.domain,) if spf_res and spf_res.result == "pass" and spf_res.domain else ()
        dkim_pass = tuple(dict.fromkeys(v.d.lower() for v in dkim_res if v.result == PASS and v.d))
        dmarc_res = await check_dmarc(from_dom, resolver, spf_pass_domains=spf_pass, dkim_pass_domains=dkim_pass)
    else:
        notes.append("The message has no readable From domain, so DMARC was not evaluated.")
    return ChecksReport(
        headers_only=headers_only,
        dkim=tuple(dkim_res),
        arc=arc_res,
        spf=spf_res,
        dmarc=dmarc_res,
        notes=tuple(notes),
    )


async def _none() -> None:
    return None


async def _spf(analysis: Analysis, resolver: Resolver, notes: list[str]) -> SpfCheck | None:
    border = analysis.border
    if border is None or not border.sender_ip:
        notes.append("The border's client address is unknown, so SPF was not re-evaluated.")
        return None
    if not is_ip(border.sender_ip):
        notes.append(f"The border recorded the client address {border.sender_ip}, which is not an IP address, so SPF was not re-evaluated.")
        return None
    rp = analysis.headers.return_path
    mail_from = rp.address if rp and rp.address else None
    if mail_from is None and rp is None:
        # No Return-Path: the border's own record of the envelope sender, if it kept one.
        for h in analysis.hops:
            if h.index == border.index and h.received.envelope_from:
                mail_from = h.received.envelope_from
    helo = border.sender_host
    if helo and ipaddress_literal(helo):
        helo = None
    if not mail_from and not helo:
        notes.append("Neither a Return-Path address nor a HELO name is known, so SPF was not re-evaluated.")
        return None
    return await check_host(border.sender_ip, mail_from, helo, resolver, receiver=border.receiver)


def ipaddress_literal(name: str) -> bool:
    """True for an address, bracketed (``[192.0.2.1]``, a HELO literal) or not."""
    return is_ip(name, brackets=True)


@dataclass(frozen=True, slots=True)
class HostAddresses:
    """The addresses of a host name (the connector's smartHost)."""

    name: str
    addresses: tuple[str, ...]  # A then AAAA
    status: str  # ok | nxdomain (no address) | temperror
    reason: str

    def to_json(self) -> dict:
        return {"name": self.name, "addresses": list(self.addresses), "status": self.status, "reason": self.reason}


async def resolve_host(name: str, resolver: Resolver) -> HostAddresses:
    """The A and AAAA addresses of ``name``; an address literal resolves to itself."""
    n = normalise_name(name).strip("[]")
    if ipaddress_literal(n):
        ip = str(ipaddress.ip_address(n))
        return HostAddresses(n, (ip,), "ok", f"{n} is an address.")
    try:
        a, aaaa = await asyncio.gather(resolver.a(n), resolver.aaaa(n))
    except (DnsTemporaryError, NetworkError) as exc:
        return HostAddresses(n, (), "temperror", f"The addresses of {n} could not be resolved: {str(exc).rstrip('.')}.")
    addrs = tuple(dict.fromkeys([*a, *aaaa]))
    if not addrs:
        return HostAddresses(n, (), "nxdomain", f"{n} has no A or AAAA record.")
    return HostAddresses(n, addrs, "ok", f"{n} resolves to {', '.join(addrs)}.")
