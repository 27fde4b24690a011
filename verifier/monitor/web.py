"""The monitor's HTTP side (aiohttp): /metrics, /probe, the status page, stored runs.

Loopback by default. Every answer carries security headers (a CSP without any
external source, nosniff, no framing, no referrer).
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge

from verifier.monitor.metrics import CONTENT_TYPE, Metrics

DEFAULT_SCRAPE_TIMEOUT = 120.0
TIMEOUT_OFFSET = 0.5
MAX_SCRAPE_TIMEOUT = 3600.0

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@web.middleware
async def _headers(request: web.Request, handler):
    try:
        resp = await handler(request)
    except web.HTTPException as exc:
        resp = exc
    for k, v in SECURITY_HEADERS.items():
        resp.headers.setdefault(k, v)
    if isinstance(resp, web.HTTPException) and resp.status >= 400:
        raise resp
    return resp


def scrape_timeout(value: str | None) -> float:
    """blackbox_exporter's rule: the scrape's timeout header less a small offset, 120 s without one."""
    if not value:
        return DEFAULT_SCRAPE_TIMEOUT
    try:
        t = float(value)
    except ValueError:
        raise web.HTTPBadRequest(text="X-Prometheus-Scrape-Timeout-Seconds is not a number.\n") from None
    if not (t == t) or t <= 0:
        raise web.HTTPBadRequest(text="X-Prometheus-Scrape-Timeout-Seconds must be positive.\n")
    return max(0.5, min(t, MAX_SCRAPE_TIMEOUT) - TIMEOUT_OFFSET)


def make_app(monitor) -> web.Application:
    app = web.Application(middlewares=[_headers], client_max_size=64 * 1024)

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(body=monitor.metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    async def probe(request: web.Request) -> web.Response:
        name = request.query.get("target", "")
        target = monitor.cfg.target(name)
        if target is None:
            raise web.HTTPNotFound(text=f"No target named {name[:100]!r} is configured.\n")
        timeout = scrape_timeout(request.headers.get("X-Prometheus-Scrape-Timeout-Seconds"))
        reg = CollectorRegistry(auto_describe=True)
        m = Metrics(reg, with_health=False)
        roles = ("sender", "control") if target.profile.control is not None else ("sender",)
        m.declare(target.name, target.interval, roles)
        success = Gauge("probe_success", "1 if every leg of this run took the expected route and arrived.", registry=reg)
        duration = Gauge("probe_duration_seconds", "How long this probe took.", registry=reg)
        t0 = time.monotonic()
        deadline = t0 + timeout
        try:
            outcome = await asyncio.wait_for(
                monitor.run_target(target, trigger="probe", deadline=deadline, extra=(m,)), timeout)
            success.set(1 if outcome.ok else 0)
        except TimeoutError:
            success.set(0)
        duration.set(round(time.monotonic() - t0, 3))
        from prometheus_client import generate_latest

        return web.Response(body=generate_latest(reg), headers={"Content-Type": CONTENT_TYPE})

    async def index(_request: web.Request) -> web.Response:
        from verifier.monitor.page import render_status

        return web.Response(text=render_status(monitor), content_type="text/html", charset="utf-8")

    async def run_page(request: web.Request) -> web.Response:
        raw = request.match_info["id"]
        fmt = request.match_info.get("fmt") or "html"
        if not raw.isdigit() or len(raw) > 18:
            raise web.HTTPNotFound(text="No such run.\n")
        stored = monitor.history.run_result(int(raw))
        if stored is None:
            raise web.HTTPNotFound(text="No such run.\n")
        js, text = stored
        if fmt == "json":
            return web.Response(text=js or "null", content_type="application/json")
        if fmt == "txt":
            return web.Response(text=text or "", content_type="text/plain", charset="utf-8")
        from verifier.monitor.page import render_run

        return web.Response(text=render_run(int(raw), js, text), content_type="text/html", charset="utf-8")

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"up": True, "targets": len(monitor.cfg.targets),
                                  "runs_in_progress": len(monitor.inflight)})

    app.router.add_get("/", index)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/probe", probe)
    app.router.add_get("/healthz", health)
    app.router.add_get(r"/runs/{id:\d+}.{fmt:json|txt}", run_page)
    app.router.add_get(r"/runs/{id}", run_page)
    return app


async def start_server(monitor) -> web.AppRunner:
    from verifier.errors import NetworkError

    runner = web.AppRunner(make_app(monitor), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, monitor.cfg.listen_host, monitor.cfg.listen_port, reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise NetworkError(f"Cannot listen on {monitor.cfg.listen_host}:{monitor.cfg.listen_port}: {exc.strerror or exc}.") from None
    addrs = runner.addresses
    if addrs:
        monitor.bound_port = int(addrs[0][1])
    return runner
