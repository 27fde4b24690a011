"""The one DNS resolver the checks use: a protocol, a dnspython implementation, a static one.

Every check takes a :class:`Resolver` as an argument; nothing in ``verifier.checks``
opens a socket any other way. Three outcomes of a lookup are kept apart, because
SPF (RFC 7208 §4.4, §5) and DMARC (RFC 7489 §6.6.3) treat them differently:

* records found: a non-empty list;
* the name does not exist (NXDOMAIN) or has no record of that type (NODATA):
  an empty list (``lookup()`` tells the two apart with ``Lookup.status``);
* a temporary failure (timeout, SERVFAIL, REFUSED, unreachable server): the
  exception :class:`DnsTemporaryError`, a :class:`verifier.errors.NetworkError`.

Both implementations cache per instance: :class:`DnsResolver` keeps an answer for
its TTL (negative answers for the zone's SOA minimum, both capped), and
:class:`StaticResolver` never changes. Temporary failures are never cached.
Concurrent lookups of the same name and type share one query.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from verifier.errors import NetworkError

OK = "ok"
NXDOMAIN = "nxdomain"
NODATA = "nodata"

RDTYPES = ("TXT", "A", "AAAA", "MX", "PTR", "CNAME")


class DnsTemporaryError(NetworkError):
    """A lookup failed in a way that may succeed later (timeout, SERVFAIL, no server reachable)."""

    def __init__(self, message: str, *, name: str = "", rdtype: str = "") -> None:
        super().__init__(message)
        self.name = name
        self.rdtype = rdtype


class DnsTimeoutError(DnsTemporaryError, TimeoutError):
    """No answer came within the resolver's time limit."""


@dataclass(frozen=True, slots=True)
class Lookup:
    """One answer: ``records`` are bytes for TXT, text for the other types.

    MX records are ``"preference exchange"`` strings (``"10 mx.example.com"``);
    names never end with a dot.
    """

    name: str
    rdtype: str
    status: str  # OK | NXDOMAIN | NODATA
    records: tuple = ()
    ttl: int = 0


@runtime_checkable
class Resolver(Protocol):
    """What the checks need from DNS. Empty list: no such record; temporary failure: raises."""

    async def txt(self, name: str) -> list[bytes]: ...

    async def a(self, name: str) -> list[str]: ...

    async def aaaa(self, name: str) -> list[str]: ...

    async def mx(self, name: str) -> list[tuple[int, str]]: ...

    async def ptr(self, ip: str) -> list[str]: ...


def normalise_name(name: str | bytes) -> str:
    """Lower case, no trailing dot; bytes are read as ASCII (IDNA names arrive as A-labels)."""
    if isinstance(name, bytes):
        name = name.decode("ascii", "replace")
    return name.strip().rstrip(".").lower()


def reverse_name(ip: str) -> str:
    """The in-addr.arpa / ip6.arpa name of an address."""
    try:
        return ipaddress.ip_address(ip.strip()).reverse_pointer
    except ValueError as exc:
        raise ValueError(f"{ip!r} is not an IP address.") from exc


class BaseResolver:
    """The typed helpers over one primitive, :meth:`lookup`, which subclasses provide."""

    async def lookup(self, name: str, rdtype: str) -> Lookup:  # pragma: no cover - abstract
        raise NotImplementedError

    async def txt(self, name: str) -> list[bytes]:
        return list((await self.lookup(name, "TXT")).records)

    async def a(self, name: str) -> list[str]:
        return list((await self.lookup(name, "A")).records)

    async def aaaa(self, name: str) -> list[str]:
        return list((await self.lookup(name, "AAAA")).records)

    async def mx(self, name: str) -> list[tuple[int, str]]:
        out = []
        for rec in (await self.lookup(name, "MX")).records:
            pref, _, host = rec.partition(" ")
            out.append((int(pref), host))
        return sorted(out)

    async def ptr(self, ip: str) -> list[str]:
        return list((await self.lookup(reverse_name(ip), "PTR")).records)


class _Cache:
    """Answers by (name, type) with an expiry, and the queries still in flight."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._answers: dict[tuple[str, str], tuple[float, Lookup]] = {}
        self._inflight: dict[tuple[str, str], asyncio.Future] = {}

    def get(self, key: tuple[str, str]) -> Lookup | None:
        hit = self._answers.get(key)
        if hit is None:
            return None
        expires, answer = hit
        if expires != float("inf") and expires <= self._clock():
            del self._answers[key]
            return None
        return answer

    def put(self, key: tuple[str, str], answer: Lookup, seconds: float) -> None:
        self._answers[key] = (self._clock() + seconds if seconds != float("inf") else seconds, answer)

    def clear(self) -> None:
        self._answers.clear()

    async def through(self, key, fetch, keep_for) -> Lookup:
        cached = self.get(key)
        if cached is not None:
            return cached
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        fut = asyncio.get_running_loop().create_future()
        self._inflight[key] = fut
        try:
            answer = await fetch()
        except BaseException as exc:
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()  # mark retrieved: waiters re-raise it, nobody else must
            raise
        else:
            self.put(key, answer, keep_for(answer))
            fut.set_result(answer)
            return answer
        finally:
            self._inflight.pop(key, None)


class DnsResolver(BaseResolver):
    """dnspython's asynchronous stub resolver, with a per-instance TTL cache.

    ``nameserver`` (an address) and ``port`` point it at one server (the lab's
    authoritative server in tests); without them it reads the system's
    resolv.conf. ``timeout`` is the whole time allowed for one lookup.
    """

    def __init__(
        self,
        nameserver: str | Iterable[str] | None = None,
        *,
        port: int = 53,
        timeout: float = 5.0,
        min_ttl: float = 0.0,
        max_ttl: float = 3600.0,
        negative_ttl: float = 300.0,
    ) -> None:
        import dns.asyncresolver

        if nameserver is None:
            try:
                self._resolver = dns.asyncresolver.Resolver(configure=True)
            except Exception as exc:  # no resolv.conf, or an unreadable one
                raise NetworkError("No DNS server is configured on this system; give one with a nameserver address.") from exc
        else:
            servers = [nameserver] if isinstance(nameserver, str) else list(nameserver)
            for s in servers:
                try:
                    ipaddress.ip_address(s)
                except ValueError as exc:
                    raise ValueError(f"The DNS server {s!r} must be given as an IP address.") from exc
            self._resolver = dns.asyncresolver.Resolver(configure=False)
            self._resolver.nameservers = servers
        self._resolver.port = port
        self._resolver.lifetime = timeout
        self._resolver.timeout = min(timeout, 2.0)
        self.timeout = timeout
        self.min_ttl, self.max_ttl, self.negative_ttl = min_ttl, max_ttl, negative_ttl
        self._cache = _Cache()
        self.queries = 0  # lookups that reached the network, for tests and reports

    @property
    def server(self) -> str:
        ns = ", ".join(str(n) for n in self._resolver.nameservers)
        return f"{ns} port {self._resolver.port}" if self._resolver.port != 53 else ns

    def clear_cache(self) -> None:
        self._cache.clear()

    def _keep_for(self, answer: Lookup) -> float:
        if answer.status == OK:
            return max(self.min_ttl, min(float(answer.ttl), self.max_ttl))
        return max(self.min_ttl, min(float(answer.ttl or self.negative_ttl), self.negative_ttl))

    async def lookup(self, name: str, rdtype: str) -> Lookup:
        rdtype = rdtype.upper()
        if rdtype not in RDTYPES:
            raise ValueError(f"The record type {rdtype} is not supported.")
        key = (normalise_name(name), rdtype)
        return await self._cache.through(key, lambda: self._query(*key), self._keep_for)

    async def _query(self, name: str, rdtype: str) -> Lookup:
        import dns.exception
        import dns.name
        import dns.resolver

        try:
            qname = dns.name.from_text(name)
        except dns.exception.DNSException:
            # Not a valid DNS name (empty or over-long label): it cannot exist.
            return Lookup(name, rdtype, NXDOMAIN)
        self.queries += 1
        try:
            ans = await self._resolver.resolve(qname, rdtype, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN as exc:
            try:
                response = exc.response(qname)
            except Exception:
                response = None
            return Lookup(name, rdtype, NXDOMAIN, ttl=_negative_ttl(response))
        except dns.resolver.LifetimeTimeout as exc:
            raise DnsTimeoutError(f"The DNS server {self.server} did not answer the {rdtype} lookup of {name} within {self.timeout:g} s.", name=name, rdtype=rdtype) from exc
        except dns.resolver.NoNameservers as exc:
            raise DnsTemporaryError(f"No DNS server could answer the {rdtype} lookup of {name} ({_why(exc)}).", name=name, rdtype=rdtype) from exc
        except dns.exception.Timeout as exc:
            raise DnsTimeoutError(f"The DNS server {self.server} did not answer the {rdtype} lookup of {name} within {self.timeout:g} s.", name=name, rdtype=rdtype) from exc
        except dns.exception.DNSException as exc:
            raise DnsTemporaryError(f"The {rdtype} lookup of {name} failed: {exc}.", name=name, rdtype=rdtype) from exc
        except OSError as exc:
            raise NetworkError(f"The DNS server {self.server} cannot be reached: {exc.strerror or exc}.") from exc
        if ans.rrset is None:
            return Lookup(name, rdtype, NODATA, ttl=_negative_ttl(ans.response))
        return Lookup(name, rdtype, OK, tuple(_rdata_value(rdtype, r) for r in ans.rrset), ttl=ans.rrset.ttl)


def _why(exc) -> str:
    try:
        errors = exc.kwargs.get("errors") or []
        parts = []
        for err in errors:
            server, _tcp, _port, what = err[0], err[1], err[2], err[3]
            parts.append(f"{server}: {what}")
        return "; ".join(parts) or "all servers failed"
    except Exception:
        return "all servers failed"


def _negative_ttl(response) -> int:
    """The SOA minimum from the authority section of a negative answer (RFC 2308), or 0."""
    if response is None:
        return 0
    for rrset in getattr(response, "authority", ()):
        if rrset.rdtype == 6:  # SOA
            return int(min(rrset.ttl, rrset[0].minimum))
    return 0


def _rdata_value(rdtype: str, r):
    if rdtype == "TXT":
        return b"".join(r.strings)
    if rdtype in ("A", "AAAA"):
        return r.address
    if rdtype == "MX":
        return f"{r.preference} {r.exchange.to_text(omit_final_dot=True).lower()}"
    if rdtype in ("PTR", "CNAME"):
        return r.target.to_text(omit_final_dot=True).lower()
    return r.to_text()


class _TempFail:
    def __repr__(self) -> str:
        return "TEMPFAIL"


#: Put this in place of a record list to make a lookup fail temporarily.
TEMPFAIL = _TempFail()


class StaticResolver(BaseResolver):
    """Answers from a dict, for offline analysis and tests.

    ``records`` maps a name to ``{type: values}``: TXT values are ``str`` or
    ``bytes`` (a tuple or list of strings is one record made of several
    character-strings), A/AAAA/PTR/CNAME values are text, MX values are
    ``(preference, host)`` pairs or ``"10 host"`` strings. A name that is in
    the dict but has no value of the asked type answers NODATA; a name that is
    absent answers NXDOMAIN; :data:`TEMPFAIL` as the values makes that lookup
    fail temporarily. A CNAME is followed (at most 8 times). Every lookup is
    appended to ``log`` as ``(name, type)``.
    """

    def __init__(self, records: Mapping[str, Mapping[str, object]] | None = None) -> None:
        self._data: dict[str, dict[str, object]] = {}
        self.log: list[tuple[str, str]] = []
        for name, types in (records or {}).items():
            self.add_records(name, types)

    def add_records(self, name: str, types: Mapping[str, object]) -> None:
        slot = self._data.setdefault(normalise_name(name), {})
        for rdtype, values in types.items():
            rdtype = rdtype.upper()
            if rdtype not in RDTYPES:
                raise ValueError(f"The record type {rdtype} is not supported.")
            if values is TEMPFAIL:
                slot[rdtype] = TEMPFAIL
                continue
            if isinstance(values, (str, bytes)) or (rdtype == "MX" and isinstance(values, tuple)):
                values = [values]
            slot.setdefault(rdtype, [])
            slot[rdtype] = list(slot[rdtype]) + [_static_value(rdtype, v) for v in values]

    def add(self, name: str, rdtype: str, value) -> None:
        self.add_records(name, {rdtype: value})

    async def lookup(self, name: str, rdtype: str) -> Lookup:
        rdtype = rdtype.upper()
        qname = normalise_name(name)
        self.log.append((qname, rdtype))
        for _ in range(9):
            slot = self._data.get(qname)
            if slot is None:
                return Lookup(qname, rdtype, NXDOMAIN)
            values = slot.get(rdtype)
            if values is TEMPFAIL:
                raise DnsTemporaryError(f"The {rdtype} lookup of {qname} failed temporarily (SERVFAIL).", name=qname, rdtype=rdtype)
            if values:
                return Lookup(qname, rdtype, OK, tuple(values), ttl=300)
            cname = slot.get("CNAME")
            if rdtype != "CNAME" and cname and cname is not TEMPFAIL:
                qname = cname[0]
                continue
            return Lookup(qname, rdtype, NODATA)
        raise DnsTemporaryError(f"The CNAME chain from {normalise_name(name)} is too long.", name=qname, rdtype=rdtype)


def _static_value(rdtype: str, v):
    if rdtype == "TXT":
        if isinstance(v, (tuple, list)):
            return b"".join(x.encode() if isinstance(x, str) else bytes(x) for x in v)
        return v.encode() if isinstance(v, str) else bytes(v)
    if rdtype == "MX":
        if isinstance(v, (tuple, list)):
            return f"{int(v[0])} {normalise_name(v[1])}"
        pref, _, host = str(v).partition(" ")
        return f"{int(pref)} {normalise_name(host)}"
    if rdtype in ("A", "AAAA"):
        return str(ipaddress.ip_address(str(v).strip()))
    return normalise_name(str(v))
