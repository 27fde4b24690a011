"""SPF check_host (RFC 7208) for one client address, MAIL FROM and HELO, through the injected resolver.

Why pyspf, and how it is given our resolver
-------------------------------------------
``pyspf`` (PyPI ``pyspf``, module ``spf``, pinned to 2.0.x) implements the whole
of RFC 7208 check_host: every mechanism and modifier, macro expansion with
transformers and delimiters, include/redirect recursion, the 10-lookup limit,
the 10-MX/10-PTR limits and the 2-void-lookup limit, and it maps DNS failures to
temperror and record errors to permerror. Rewriting that would repeat a
maintained implementation that its own test suite (the RFC 7208 test vectors)
already exercises.

Its one awkward part is DNS: the library resolves through a module-level
function (``spf.DNSLookup``) bound at import to dnspython's blocking resolver.
Replacing that global would change every evaluation in the process at once,
which is unsafe when several checks run concurrently. Instead every lookup of
pyspf goes through one method of its ``spf.query`` object, ``query.dns(name,
qtype)``; :class:`_Query` overrides that method on a subclass, so the resolver
is chosen per evaluation and no module state is touched. The override keeps the
contract of the original: results as lists (TXT as lists of byte strings, MX as
``(preference, host)``), an empty list for NXDOMAIN/NODATA counted as a void
lookup (RFC 7208 §4.6.4), ``spf.TempError`` for a temporary DNS failure. CNAMEs
are followed by the resolver itself. The method is not documented API, hence the
pin.

pyspf is synchronous and our resolver is asynchronous: the evaluation runs in a
worker thread and each lookup is handed back to the event loop
(``asyncio.run_coroutine_threadsafe``), so the resolver's cache and its single
connection policy are shared with the other checks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import asdict, dataclass

import spf as pyspf

from verifier.checks.dns import DnsTemporaryError, Resolver, normalise_name
from verifier.errors import NetworkError

RESULTS = ("pass", "fail", "softfail", "neutral", "none", "temperror", "permerror")


@dataclass(frozen=True, slots=True)
class SpfCheck:
    """The outcome of check_host for one identity."""

    result: str  # one of RESULTS
    ip: str
    domain: str | None  # the domain evaluated: the MAIL FROM domain, or the HELO name
    identity: str  # "mailfrom" | "helo"
    sender: str  # the address evaluated (postmaster@helo when MAIL FROM was null)
    helo: str | None
    explanation: str  # one sentence
    mechanism: str | None = None  # the term that matched, when one did
    lookups: int = 0  # DNS-querying terms counted against the limit of 10
    void_lookups: int = 0

    def to_json(self) -> dict:
        return asdict(self)


class _Query(pyspf.query):
    """pyspf's query whose every DNS lookup goes through our resolver, on the given loop."""

    def __init__(self, *args, resolver: Resolver, loop: asyncio.AbstractEventLoop, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._resolver = resolver
        self._loop = loop

    def _fetch(self, name: str, qtype: str) -> list:
        r = self._resolver
        if qtype == "TXT":
            coro = r.txt(name)
        elif qtype == "A":
            coro = r.a(name)
        elif qtype == "AAAA":
            coro = r.aaaa(name)
        elif qtype == "MX":
            coro = r.mx(name)
        elif qtype == "PTR":
            # pyspf asks for the reverse name itself; the resolver's ptr() takes an address.
            coro = _ptr_by_name(r, name)
        else:  # type SPF (99) is only asked for in pyspf's "harsh" mode, which we do not use
            return []
        try:
            values = asyncio.run_coroutine_threadsafe(coro, self._loop).result()
        except DnsTemporaryError as exc:
            raise pyspf.TempError(str(exc)) from exc
        except NetworkError as exc:
            raise pyspf.TempError(str(exc)) from exc
        except (concurrent.futures.CancelledError, RuntimeError) as exc:
            # the caller was cancelled or its loop closed: end the evaluation quickly
            raise pyspf.TempError("the evaluation was cancelled") from exc
        if qtype == "TXT":
            return [[v] for v in values]
        return list(values)

    def dns(self, name, qtype, cnames=None, ignore_void=False):
        if not name:
            raise pyspf.PermError("Empty domain name in a DNS query")
        name = normalise_name(str(name))
        if not all(0 < len(label) < 64 for label in name.split(".")):
            return []  # not a valid DNS name: nothing can be found (RFC 7208 §4.3)
        key = (name, qtype)
        result = self.cache.get(key)
        if result is None:
            result = self._fetch(name, qtype)
            self.cache[key] = result
        if not result and not ignore_void:
            self.void_lookups += 1
            if self.void_lookups > pyspf.MAX_VOID_LOOKUPS:
                raise pyspf.PermError(f"Void lookup limit of {pyspf.MAX_VOID_LOOKUPS} exceeded")
        return list(result)


async def _ptr_by_name(resolver: Resolver, rname: str) -> list[str]:
    lookup = getattr(resolver, "lookup", None)
    if lookup is not None:
        return list((await lookup(rname, "PTR")).records)
    return await resolver.ptr(_address_from_reverse(rname))


def _address_from_reverse(rname: str) -> str:
    import ipaddress

    labels = rname.rstrip(".").lower().split(".")
    if labels[-2:] == ["in-addr", "arpa"]:
        return ".".join(reversed(labels[:-2]))
    nibbles = "".join(reversed(labels[:-2]))
    return str(ipaddress.IPv6Address(int(nibbles, 16)))


def _sentence(result: str, domain: str | None, ip: str, text: str) -> str:
    d = domain or "the sender"
    if result == "pass":
        return f"{d} authorises {ip} to send its mail."
    if result == "fail":
        return f"{d} states that {ip} is not allowed to send its mail."
    if result == "softfail":
        return f"{d} suggests that {ip} is probably not allowed to send its mail (softfail)."
    if result == "neutral":
        return f"{d} makes no statement about {ip} (neutral)."
    if result == "none":
        return f"{d} publishes no SPF record."
    detail = text.split(": ", 1)[1] if ": " in text else text
    if detail.startswith("Too many DNS lookups"):
        detail = f"it needs more than {pyspf.MAX_LOOKUP} DNS lookups, the limit of RFC 7208 §4.6.4"
    elif detail.startswith("Void lookup limit"):
        detail = f"more than {pyspf.MAX_VOID_LOOKUPS} of its lookups found nothing, the void lookup limit of RFC 7208 §4.6.4"
    elif detail[:1].isupper() and not detail[:3].isupper():
        detail = detail[0].lower() + detail[1:]
    if result == "temperror":
        return f"The SPF record of {d} could not be evaluated because of a temporary DNS error: {detail.rstrip('.')}."
    return f"The SPF record of {d} is broken: {detail.rstrip('.')}."


async def check_host(
    ip: str,
    mail_from: str | None,
    helo: str | None,
    resolver: Resolver,
    *,
    receiver: str | None = None,
) -> SpfCheck:
    """Evaluate SPF for the MAIL FROM identity (the HELO identity when MAIL FROM is null).

    ``mail_from`` is an address (``user@example.com``), a bare domain, or empty
    for the null reverse path. The evaluation never raises for DNS problems: they
    become temperror or permerror, as RFC 7208 §2.6 says.
    """
    import ipaddress

    try:
        ipaddress.ip_address(ip)
    except ValueError as exc:
        raise ValueError(f"{ip!r} is not an IP address, so SPF cannot be evaluated for it.") from exc
    sender = (mail_from or "").strip().strip("<>")
    if sender and "@" not in sender:
        sender = "postmaster@" + sender
    h = (helo or "").strip().strip("[]")
    if not sender and not h:
        raise ValueError("SPF needs a MAIL FROM address or a HELO name.")
    loop = asyncio.get_running_loop()
    q = _Query(ip, sender, h or "unknown", receiver=receiver, resolver=resolver, loop=loop)
    result, _code, text = await asyncio.to_thread(q.check)
    domain = q.o if q.ident == "mailfrom" else h or None
    mech = getattr(q, "mechanism", None)
    return SpfCheck(
        result=result,
        ip=ip,
        domain=domain.lower() if domain else None,
        identity=q.ident,
        sender=q.s,
        helo=h or None,
        explanation=_sentence(result, domain, ip, text),
        mechanism=str(mech) if mech and result not in ("none", "temperror", "permerror") else None,
        lookups=q.lookups,
        void_lookups=q.void_lookups,
    )
