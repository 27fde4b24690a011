"""The local paste page, served for real on 127.0.0.1 and spoken to over HTTP."""

from __future__ import annotations

import asyncio

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from verifier.analysis.engine import Options
from verifier.web.paste import build_app, parse_listen

from .test_engine import VIA_SMARTHOST


def _run(coro):
    return asyncio.run(coro)


async def _with_server(fn):
    server = TestServer(build_app(Options()), host="127.0.0.1")
    await server.start_server()
    try:
        async with ClientSession() as s:
            return await fn(s, f"http://127.0.0.1:{server.port}")
    finally:
        await server.close()


def test_form_then_html_report():
    async def go(s, base):
        async with s.get(base + "/") as r:
            assert r.status == 200
            assert "<textarea" in await r.text()
        async with s.post(base + "/analyze", data={"headers": VIA_SMARTHOST.decode(), "smarthost": "smtp.relay.test"}) as r:
            body = await r.text()
            assert r.status == 200
            assert "Sent through the send connector" in body
            assert "mx.guides.test" in body

    _run(_with_server(go))


def test_json_api_and_escaping_of_hostile_input():
    hostile = b"Received: from <script>alert(1)</script> (x [203.0.113.1]) by mx.example with ESMTP; Fri, 27 Nov 2026 20:00:00 +0000\nSubject: <img src=x onerror=alert(1)>\n"

    async def go(s, base):
        async with s.post(base + "/api/analyze?smarthost=smtp.relay.test", data=VIA_SMARTHOST) as r:
            obj = await r.json()
            assert obj["verdict"] == "via-connector"
        async with s.post(base + "/analyze", data={"headers": hostile.decode()}) as r:
            body = await r.text()
            assert "<script>" not in body and "<img src=x" not in body
            assert "&lt;script&gt;" in body or "&lt;img" in body

    _run(_with_server(go))


def test_listen_parsing():
    assert parse_listen("127.0.0.1:8025") == ("127.0.0.1", 8025)
    assert parse_listen("[::1]:9000") == ("::1", 9000)
    import pytest

    from verifier.errors import UsageError

    with pytest.raises(UsageError):
        parse_listen("nope")
