"""Alerts without Prometheus: route changes, consecutive failures, recoveries.

Each alert has a key (target, leg, name) and a status, firing or resolved,
kept in the history so a restart neither repeats nor forgets one. A
notification is sent when the status differs from the one last notified
(de-duplication), and at most once per ``min_interval`` per key (rate limit):
a change held back is sent by a later evaluation if it still holds, so a
target flapping every run gives one notification per interval, not one per run.

The webhook body has the shape of Alertmanager's webhook receiver (version 4),
so receivers written for Alertmanager read it; see docs/monitor.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import ssl
import time
from datetime import UTC, datetime
from email.message import EmailMessage

from verifier.monitor.config import Alerting

log = logging.getLogger("verifier.monitor")
ZERO_TIME = "0001-01-01T00:00:00Z"


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Alerter:
    def __init__(self, cfg: Alerting, history, metrics=None, external_url: str = "") -> None:
        self.cfg = cfg
        self.history = history
        self.metrics = metrics
        self.external_url = (cfg.external_url or external_url).rstrip("/")
        self.state: dict[str, dict] = history.alert_states()
        self.sent: list[dict] = []  # the last bodies sent (for the status page and tests)

    # ------------------------------------------------------------------ evaluation
    def _set(self, key: str, status: str, labels: dict, annotations: dict, now: float) -> None:
        a = self.state.get(key)
        if a is None:
            if status == "resolved":
                return  # never fired: nothing to resolve
            a = {"key": key, "status": status, "notified_status": "resolved", "since": now, "last_sent": None,
                 "labels": labels, "annotations": annotations}
        elif a["status"] != status:
            a = {**a, "status": status, "since": now, "labels": labels,
                 "annotations": {**a["annotations"], **annotations}}
        else:
            a = {**a, "annotations": {**a["annotations"], **annotations}} if status == "firing" else a
        self.state[key] = a
        self.history.save_alert(a)

    def evaluate(self, target: str, run_id: int, legs: list[dict], events: list, consecutive: int,
                 now: float | None = None) -> list[dict]:
        """Update the alerts of ``target`` after run ``run_id``; return the notifications due now."""
        now = now or time.time()
        link = f"{self.external_url}/runs/{run_id}" if self.external_url else f"/runs/{run_id}"
        by_role = {ev.role: [] for ev in events}
        for ev in events:
            by_role[ev.role].append(ev)
        for leg in legs:
            role = leg["role"]
            key = f"{target}/{role}/RouteChanged"
            current = self.state.get(key)
            evs = by_role.get(role, [])
            if evs and (current is None or current["status"] != "firing"):
                route_ev = next((e for e in evs if e.kind == "route-change"), None)
                conn_ev = next((e for e in evs if e.kind == "connector-change"), None)
                baseline = {"verdict": route_ev.before if route_ev else leg.get("verdict"),
                            "connector": conn_ev.before if conn_ev else _conn(leg)}
                parts = []
                if route_ev:
                    parts.append(f"the {role} message now arrives {route_ev.after}, not {route_ev.before}")
                if conn_ev:
                    parts.append(f"the API's connector for {leg['address']} changed from {conn_ev.before or 'none'} to {conn_ev.after or 'none'}")
                evidence = (route_ev or conn_ev).evidence
                self._set(key, "firing", _labels("VerifierRouteChanged", target, role, "critical"), {
                    "summary": f"Route changed for {target} ({role})",
                    "description": "; ".join(parts) + ".",
                    "baseline": json.dumps(baseline),
                    "border_hop": evidence.get("border_hop") or "",
                    "smarthost_hop": evidence.get("smarthost_hop") or "",
                    "run": link}, now)
            elif current is not None and current["status"] == "firing" and leg.get("verdict") in ("via-connector", "bypassed"):
                baseline = json.loads(current["annotations"].get("baseline") or "{}")
                if leg.get("verdict") == baseline.get("verdict") and _conn(leg) == baseline.get("connector"):
                    self._set(key, "resolved", current["labels"], {
                        "description": f"the {role} message takes its earlier route again ({leg['verdict']}).",
                        "run": link}, now)
            fkey = f"{target}/{role}/ProbeFailing"
            failing = leg.get("state") not in ("delivered",) or not leg.get("as_expected")
            if failing and consecutive >= self.cfg.failures:
                self._set(fkey, "firing", _labels("VerifierProbeFailing", target, role, "critical"), {
                    "summary": f"{target} ({role}): {leg.get('state')} {consecutive} runs in a row",
                    "description": leg.get("error") or f"verdict {leg.get('verdict')}, expected {leg.get('expected')}",
                    "run": link}, now)
            elif not failing:
                cur = self.state.get(fkey)
                if cur is not None and cur["status"] == "firing":
                    self._set(fkey, "resolved", cur["labels"], {
                        "description": f"the {role} message arrived by the expected route ({leg.get('verdict')}).",
                        "run": link}, now)
        return self.due(target, now)

    def due(self, target: str, now: float) -> list[dict]:
        out = []
        for key, a in sorted(self.state.items()):
            if not key.startswith(target + "/") or a["status"] == a.get("notified_status"):
                continue
            if a.get("last_sent") is not None and now - a["last_sent"] < self.cfg.min_interval:
                continue  # rate limited: a later evaluation sends it if it still holds
            out.append(a)
        return out

    # ------------------------------------------------------------------ delivery
    def payload(self, target: str, alerts: list[dict]) -> dict:
        items = []
        for a in alerts:
            firing = a["status"] == "firing"
            items.append({
                "status": a["status"],
                "labels": a["labels"],
                "annotations": {k: v for k, v in a["annotations"].items() if k != "baseline"},
                "startsAt": _iso(a["since"]) if firing else _iso(a.get("fired_since", a["since"])),
                "endsAt": ZERO_TIME if firing else _iso(a["since"]),
                "generatorURL": a["annotations"].get("run", ""),
                "fingerprint": hashlib.sha256(a["key"].encode()).hexdigest()[:16],
            })
        status = "firing" if any(i["status"] == "firing" for i in items) else "resolved"
        common = {k: v for k, v in items[0]["labels"].items() if all(i["labels"].get(k) == v for i in items)}
        return {
            "version": "4",
            "groupKey": f"{{}}:{{target=\"{target}\"}}",
            "truncatedAlerts": 0,
            "status": status,
            "receiver": "verifier-monitor",
            "groupLabels": {"target": target},
            "commonLabels": common,
            "commonAnnotations": {},
            "externalURL": self.external_url,
            "alerts": items,
        }

    async def notify(self, target: str, alerts: list[dict], now: float | None = None) -> None:
        if not alerts:
            return
        now = now or time.time()
        body = self.payload(target, alerts)
        for hook in self.cfg.webhooks:
            await self._send_webhook(hook, body)
        if self.cfg.email is not None:
            await self._send_email(body)
        for a in alerts:
            a2 = {**a, "notified_status": a["status"], "last_sent": now}
            self.state[a["key"]] = a2
            self.history.save_alert(a2)
        self.sent.append(body)
        del self.sent[:-50]

    def _count(self, sink: str, ok: bool) -> None:
        if self.metrics is not None and hasattr(self.metrics, "alerts_sent"):
            self.metrics.alerts_sent.labels(sink, "ok" if ok else "error").inc()

    async def _send_webhook(self, hook, body: dict) -> None:
        import aiohttp

        try:
            url = hook.resolved_url()
            headers = {"Content-Type": "application/json", "User-Agent": "verifier-monitor"}
            token = hook.bearer.reveal("the webhook bearer token") if (hook.bearer.file or hook.bearer.env) else None
            if token:
                headers["Authorization"] = f"Bearer {token}"
            timeout = aiohttp.ClientTimeout(total=hook.timeout)
            async with aiohttp.ClientSession(timeout=timeout) as s, s.post(url, data=json.dumps(body), headers=headers) as resp:
                ok = 200 <= resp.status < 300
                if not ok:
                    log.warning("webhook answered HTTP %s", resp.status, extra={"event": "alert-error", "sink": "webhook"})
        except Exception as exc:  # a sink down must not stop the monitor
            ok = False
            log.warning("webhook failed: %s", _safe(exc), extra={"event": "alert-error", "sink": "webhook"})
        self._count("webhook", ok)

    async def _send_email(self, body: dict) -> None:
        import aiosmtplib

        from verifier.probe.smtp import submit

        e = self.cfg.email
        msg = EmailMessage()
        msg["From"] = e.sender
        msg["To"] = ", ".join(e.to)
        names = ", ".join(f"{a['labels'].get('alertname')} {a['labels'].get('target')}/{a['labels'].get('leg')}" for a in body["alerts"])
        msg["Subject"] = f"[verifier] {body['status'].upper()}: {names}"[:200]
        lines = []
        for a in body["alerts"]:
            lines.append(f"{a['status'].upper()}: {a['annotations'].get('summary', a['labels'].get('alertname'))}")
            for k in ("description", "border_hop", "smarthost_hop", "run"):
                if a["annotations"].get(k):
                    lines.append(f"  {k}: {a['annotations'][k]}")
            lines.append("")
        msg.set_content("\n".join(lines))
        try:
            ctx = ssl.create_default_context(cafile=e.ca_file) if e.ca_file else ssl.create_default_context()
            password = e.password.reveal("the alert SMTP login") if (e.password.file or e.password.env) else None
            if e.tls == "starttls":
                # The probe's own submission: STARTTLS verified for host, wherever address points.
                await submit(address=e.address or e.host, port=e.port, server_hostname=e.host, ssl_context=ctx,
                             username=e.username, password=password, message=msg, sender=e.sender,
                             recipients=e.to, timeout=e.timeout)
            else:
                await aiosmtplib.send(msg, hostname=e.address or e.host, port=e.port, username=e.username,
                                      password=password, use_tls=e.tls == "implicit", start_tls=False,
                                      tls_context=ctx if e.tls == "implicit" else None, timeout=e.timeout)
            ok = True
        except Exception as exc:
            ok = False
            log.warning("alert email failed: %s", _safe(exc), extra={"event": "alert-error", "sink": "email"})
        self._count("email", ok)


def _conn(leg: dict) -> str | None:
    return None if leg.get("connector_id") is None else str(leg["connector_id"])


def _labels(name: str, target: str, leg: str, severity: str) -> dict:
    return {"alertname": name, "target": target, "leg": leg, "severity": severity}


def _safe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}"
