"""The resolver protocol: StaticResolver semantics, DnsResolver errors and cache (no network beyond 127.0.0.1)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from verifier.checks.dns import (
    NODATA,
    NXDOMAIN,
    OK,
    TEMPFAIL,
    DnsResolver,
    DnsTemporaryError,
    Resolver,
    StaticResolver,
    reverse_name,
)
from verifier.errors import ExitCode, NetworkError, exit_code_for

from .support import run


def test_static_resolver_three_outcomes():
    r = StaticResolver(
        {
            "Example.COM.": {"TXT": ["v=spf1 -all", ("v=DKIM1; p=", "abc")], "MX": [(20, "b.example.com"), "10 a.example.com"]},
            "broken.example": {"TXT": TEMPFAIL},
            "alias.example": {"CNAME": "example.com"},
        }
    )
    assert isinstance(r, Resolver)
    assert run(r.txt("example.com")) == [b"v=spf1 -all", b"v=DKIM1; p=abc"]
    assert run(r.mx("EXAMPLE.com.")) == [(10, "a.example.com"), (20, "b.example.com")]
    assert run(r.lookup("example.com", "A")).status == NODATA
    assert run(r.lookup("nowhere.example", "A")).status == NXDOMAIN
    assert run(r.a("nowhere.example")) == []
    assert run(r.lookup("alias.example", "TXT")).status == OK
    assert run(r.txt("alias.example"))[0] == b"v=spf1 -all"
    with pytest.raises(DnsTemporaryError) as err:
        run(r.txt("broken.example"))
    assert isinstance(err.value, NetworkError) and isinstance(err.value, ConnectionError)
    assert exit_code_for(err.value) == ExitCode.NETWORK
    assert str(err.value).endswith(".") and "broken.example" in str(err.value)


def test_static_ptr_and_reverse_names():
    r = StaticResolver({"5.2.0.192.in-addr.arpa": {"PTR": "mail.example.com."}})
    assert run(r.ptr("192.0.2.5")) == ["mail.example.com"]
    assert reverse_name("2001:db8::1").endswith(".8.b.d.0.1.0.0.2.ip6.arpa")
    with pytest.raises(ValueError):
        reverse_name("not-an-ip")


def test_dns_resolver_rejects_a_name_as_server():
    with pytest.raises(ValueError, match="IP address"):
        DnsResolver("ns.example.com")


def _closed_udp_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_unreachable_server_is_a_network_error_not_an_empty_answer():
    resolver = DnsResolver("127.0.0.1", port=_closed_udp_port(), timeout=1.0)
    with pytest.raises(NetworkError) as err:
        run(resolver.txt("example.com"))
    assert "example.com" in str(err.value) and str(err.value).endswith(".")
    assert exit_code_for(err.value) == ExitCode.NETWORK


def test_temporary_failures_are_not_cached_and_answers_are(monkeypatch):
    resolver = DnsResolver("127.0.0.1", port=_closed_udp_port(), timeout=1.0)
    calls = []

    async def fake_query(name, rdtype):
        calls.append((name, rdtype))
        if len(calls) == 1:
            raise DnsTemporaryError("The TXT lookup of x failed temporarily.")
        from verifier.checks.dns import Lookup

        return Lookup(name, rdtype, OK, (b"v=spf1 -all",), ttl=300)

    monkeypatch.setattr(resolver, "_query", fake_query)

    async def go():
        with pytest.raises(DnsTemporaryError):
            await resolver.txt("cached.example")
        # concurrent lookups share one query, and the answer is kept
        results = await asyncio.gather(*(resolver.txt("Cached.Example.") for _ in range(5)))
        again = await resolver.txt("cached.example")
        return results, again

    results, again = run(go())
    assert all(r == [b"v=spf1 -all"] for r in results) and again == [b"v=spf1 -all"]
    assert calls == [("cached.example", "TXT"), ("cached.example", "TXT")]


def test_cache_respects_ttl():
    from verifier.checks.dns import Lookup, _Cache

    now = [1000.0]
    cache = _Cache(clock=lambda: now[0])
    ans = Lookup("a.example", "A", OK, ("192.0.2.1",), ttl=60)
    cache.put(("a.example", "A"), ans, 60)
    assert cache.get(("a.example", "A")) is ans
    now[0] += 59
    assert cache.get(("a.example", "A")) is ans
    now[0] += 2
    assert cache.get(("a.example", "A")) is None
