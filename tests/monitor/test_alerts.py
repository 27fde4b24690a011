"""Alerts: de-duplicated, rate-limited, Alertmanager-shaped, delivered to a real HTTP receiver."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from aiohttp import web

from verifier.monitor.alerts import Alerter
from verifier.monitor.config import Alerting, Webhook
from verifier.monitor.history import Event, History

from .support import leg


class Receiver:
    """A small aiohttp server on loopback recording each webhook body."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.headers: list[dict] = []

    async def __aenter__(self) -> Receiver:
        async def hook(request: web.Request) -> web.Response:
            self.bodies.append(await request.json())
            self.headers.append(dict(request.headers))
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_post("/hook", hook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/hook"
        return self

    async def __aexit__(self, *exc) -> None:
        await self.runner.cleanup()


def _change(role="sender", before="via-connector", after="bypassed", run_id=2) -> list[Event]:
    ev = {"border_hop": "from x by y", "smarthost_hop": None}
    conn = ("7", None) if after == "bypassed" else (None, "7")
    return [Event("t", role, "route-change", before, after, run_id, 1, ev),
            Event("t", role, "connector-change", *conn, run_id, 1, ev)]


def test_route_change_fires_once_then_resolves_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOOK_TOKEN", "tok-123")

    async def go() -> list[dict]:
        async with Receiver() as rx:
            cfg = Alerting(webhooks=(Webhook(url=rx.url, bearer=__import__("verifier.probe.profile", fromlist=["Secret"]).Secret(env="HOOK_TOKEN")),),
                           failures=2, min_interval=0)
            h = History(str(tmp_path / "h.sqlite"))
            a = Alerter(cfg, h, external_url="http://127.0.0.1:9477")
            detached = leg(verdict="bypassed", expected="bypassed", connector_id=None)
            for run_id, legs, events in (
                (1, [leg()], []),
                (2, [detached], _change()),
                (3, [detached], []),  # still detached: nothing new to say
                (4, [detached], []),
                (5, [leg()], _change(before="bypassed", after="via-connector", run_id=5)),  # back: one recovery
                (6, [leg()], []),
            ):
                await a.notify("t", a.evaluate("t", run_id, legs, events, consecutive=0, now=1000 + run_id), now=1000 + run_id)
            assert rx.headers[0]["Authorization"] == "Bearer tok-123"
            return rx.bodies

    bodies = asyncio.run(go())
    assert [b["status"] for b in bodies] == ["firing", "resolved"]
    first = bodies[0]
    assert first["version"] == "4" and first["receiver"] == "verifier-monitor"
    alert = first["alerts"][0]
    assert alert["labels"] == {"alertname": "VerifierRouteChanged", "target": "t", "leg": "sender", "severity": "critical"}
    assert "bypassed" in alert["annotations"]["description"] and alert["annotations"]["border_hop"] == "from x by y"
    assert alert["endsAt"] == "0001-01-01T00:00:00Z" and alert["generatorURL"] == "http://127.0.0.1:9477/runs/2"
    assert bodies[1]["alerts"][0]["endsAt"] != "0001-01-01T00:00:00Z"


def test_failures_need_n_in_a_row_and_a_flapping_target_is_rate_limited(tmp_path: Path) -> None:
    h = History(str(tmp_path / "h.sqlite"))
    a = Alerter(Alerting(failures=2, min_interval=600), h)
    sent: list[tuple[float, str]] = []

    def step(now: float, ok: bool, consecutive: int) -> None:
        rec = leg() if ok else leg(state="lost", verdict="not-delivered", delivery=None)
        for x in a.evaluate("t", int(now), [rec], [], consecutive, now=now):
            sent.append((now, x["status"]))
            a.state[x["key"]] = {**x, "notified_status": x["status"], "last_sent": now}

    step(0, False, 1)  # one failure: no alert yet
    assert sent == []
    step(60, False, 2)
    assert sent == [(60, "firing")]
    # flapping every minute: recovered, failing, recovered... at most one notification per 600 s
    t = 60
    for i in range(20):
        t += 60
        step(t, i % 2 == 0, 0 if i % 2 == 0 else 2)
    times = [s[0] for s in sent]
    assert all(b - a_ >= 600 for a_, b in zip(times, times[1:], strict=False)), sent
    assert len(sent) <= 3


def test_alert_state_survives_a_restart(tmp_path: Path) -> None:
    h = History(str(tmp_path / "h.sqlite"))
    a = Alerter(Alerting(failures=1, min_interval=0), h)
    due = a.evaluate("t", 1, [leg(state="lost", verdict="not-delivered")], [], 1, now=10)
    assert len(due) == 1
    asyncio.run(a.notify("t", due, now=10))  # no sink configured: recorded as notified
    b = Alerter(Alerting(failures=1, min_interval=0), History(str(tmp_path / "h.sqlite")))
    assert b.evaluate("t", 2, [leg(state="lost", verdict="not-delivered")], [], 2, now=20) == []


def test_a_webhook_that_is_down_does_not_raise(tmp_path: Path) -> None:
    from verifier.monitor.metrics import Metrics

    m = Metrics()
    a = Alerter(Alerting(webhooks=(Webhook(url="http://127.0.0.1:9/none", timeout=2),), failures=1, min_interval=0),
                History(str(tmp_path / "h.sqlite")), m)
    asyncio.run(a.notify("t", a.evaluate("t", 1, [leg(state="lost", verdict="not-delivered")], [], 1, now=1)))
    assert b'verifier_monitor_notifications_total{result="error",sink="webhook"} 1.0' in m.render()
    assert json.loads(json.dumps(a.sent[0]))["status"] == "firing"
