"""Host names, addresses and the patterns that put them in a zone.

A pattern is one of:

* an IP address or network (``192.0.2.10``, ``198.51.100.0/24``, ``2001:db8::/32``);
* a glob over the host name (``*.mail-out.ovh.net``, ``ex*.mail.ovh.net``),
  matched case-insensitively, ``*`` also crossing dots;
* a plain host name, matched exactly.

For the smarthost zone a plain name also matches, more weakly, any host of
the same organisational domain (the provider's other hosts: a relay that
accepts on ``smtp-relay.example.com`` often hands over from
``sender-id.example.com``). The organisational domain comes from the Public
Suffix List bundled with ``publicsuffixlist`` (no network).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from verifier.parsers.ip import ip_value

# Defaults for OVH Exchange outbound (see ARCHITECTURE.md): the Exchange front
# servers, the shared outbound relays, and internal Exchange hops.
DEFAULT_PLATFORM_PATTERNS: tuple[str, ...] = ("ex*.mail.ovh.net", "*.mail-out.ovh.net", "*.local")

_INTERNAL_NETS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
)


# an address already written as one, its zone id dropped (verifier/parsers/ip.py)
ip_or_none = ip_value


_ASCII_DIGITS = frozenset("0123456789")


def may_be_ip(text: str) -> bool:
    """False when ``ip_or_none(text)`` is surely None, without parsing: an IPv4 address
    starts with an ASCII digit and an IPv6 address holds colons. Most names a hop gives
    are no address, and a failed parse costs a raised and caught ValueError."""
    return ":" in text or text[:1] in _ASCII_DIGITS


@lru_cache(maxsize=8192)
def is_internal_ip(text: str | None) -> bool:
    """Loopback, RFC 1918, CGNAT, link-local, ULA: addresses that never cross a border.

    Documentation ranges (192.0.2.0/24 ...) count as external on purpose: the
    lab uses them as public addresses.
    """
    ip = ip_or_none(text)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip.version == n.version and ip in n for n in _INTERNAL_NETS)


@lru_cache(maxsize=1)
def _psl():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


@lru_cache(maxsize=4096)
def org_domain(host: str | None) -> str | None:
    """The organisational domain (registrable domain) of a host name, or None."""
    if not host:
        return None
    h = host.strip().strip(".").lower()
    if not h or "." not in h or ip_or_none(h) is not None or h.startswith("["):
        return None
    try:
        return _psl().privatesuffix(h)
    except Exception:  # the list rejects odd labels; such a name has no org domain
        return None


def same_org(a: str | None, b: str | None) -> bool:
    oa, ob = org_domain(a), org_domain(b)
    return oa is not None and oa == ob


@dataclass(frozen=True, slots=True)
class Match:
    pattern: str
    kind: str  # "ip" | "host" | "glob" | "provider-domain"
    value: str  # the host or address that matched

    @property
    def strong(self) -> bool:
        return self.kind != "provider-domain"


def glob_tails(globs: list[str]) -> tuple[str, ...] | None:
    """The literal ends of globs (what follows a glob's last ``*``, ``?``, ``[`` or ``]``),
    or None when one glob has none.

    Nothing after a glob's last special character can be special (a set opened there would
    close later; one that never closes is literal), so a name that ends with none of these
    matches none of the globs: the combined pattern need not be tried on it. Most names
    in a message are no platform host, and one ``endswith`` costs less than the pattern.
    """
    tails = []
    for g in globs:
        tail = g[max(g.rfind(c) for c in "*?[]") + 1 :]
        if not tail:
            return None
        tails.append(tail)
    return tuple(tails)


@lru_cache(maxsize=256)
def host_set(patterns: tuple[str, ...], provider: bool = False) -> HostSet:
    """A compiled HostSet, shared between analyses with the same patterns (it is read-only)."""
    return HostSet(patterns, provider=provider)


class HostSet:
    """A compiled set of patterns; ``provider`` enables organisational-domain matches."""

    def __init__(self, patterns: Sequence[str | None], *, provider: bool = False) -> None:
        self.patterns = tuple(p.strip() for p in patterns if p and p.strip())
        self._nets = []
        self._globs = []
        self._names: dict[str, str] = {}
        self._orgs: dict[str, str] = {}
        for p in self.patterns:
            try:
                self._nets.append((p, ipaddress.ip_network(p.strip("[]"), strict=False)))
                continue
            except ValueError:
                pass
            lp = p.lower().rstrip(".")
            if any(c in lp for c in "*?["):
                self._globs.append((p, lp))
            else:
                self._names[lp] = p
                if provider:
                    o = org_domain(lp)
                    if o:
                        self._orgs.setdefault(o, p)

        # every glob in one pattern, one group per glob in order: the first glob that
        # matches the whole name is the group that matched (alternatives are tried in order)
        self._glob_re = (
            re.compile("|".join(f"({fnmatch.translate(g)})" for _, g in self._globs)) if self._globs else None
        )
        self._glob_tails = glob_tails([g for _, g in self._globs])

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def match_ip(self, ip_text: str | None) -> Match | None:
        if not self._nets:
            return None  # no address pattern: nothing to parse the address for
        ip = ip_or_none(ip_text)
        if ip is None:
            return None
        for p, net in self._nets:
            if ip.version == net.version and ip in net:
                return Match(p, "ip", str(ip_text))
        return None

    def match_name(self, name: str | None) -> Match | None:
        if not name:
            return None
        n = name.lower().rstrip(".")
        if n in self._names:
            return Match(self._names[n], "host", name)
        if self._glob_re is not None and (self._glob_tails is None or n.endswith(self._glob_tails)):
            m = self._glob_re.match(n)
            if m is not None:
                return Match(self._globs[(m.lastindex or 1) - 1][0], "glob", name)
        if self._nets and may_be_ip(n.strip("[]")) and ip_or_none(n.strip("[]")) is not None:
            return self.match_ip(n.strip("[]"))
        if self._orgs:
            o = org_domain(n)
            if o and o in self._orgs:
                return Match(self._orgs[o], "provider-domain", name)
        return None

    def match_any(self, *, ip: str | None = None, names: tuple[str | None, ...] = ()) -> Match | None:
        """Best match over an address and names: strong matches win over provider-domain ones."""
        weak: Match | None = None
        m = self.match_ip(ip)
        if m:
            return m
        for n in names:
            m = self.match_name(n)
            if m and m.strong:
                return m
            if m and weak is None:
                weak = m
        return weak
