"""Prometheus metrics of the monitor (prometheus-client), and the textfile writer.

Conventions: one ``verifier_`` prefix, base units (seconds), ``_total`` only on
counters, failures counted apart from runs. Every series of every configured
target exists from start-up, before the first run, so that an alert on a
missing success never meets "no data" after a restart.
"""

from __future__ import annotations

import os
import tempfile
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest

try:  # the *_created series only repeat the start time; Prometheus does not need them
    from prometheus_client import disable_created_metrics

    disable_created_metrics()
except ImportError:  # pragma: no cover - older prometheus-client
    pass

from verifier.monitor.states import REASONS, STATES, VERDICTS

BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)
PHASES = ("submit", "smarthost", "border", "mailbox")
ROLES = ("sender", "control")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None, *, with_health: bool = True) -> None:
        r = self.registry = registry or CollectorRegistry(auto_describe=True)
        self.success = Gauge("verifier_probe_success", "1 if the last run of this leg took the route the API expects and arrived in time.", ["target", "leg"], registry=r)
        self.verdict = Gauge("verifier_probe_verdict", "1 for the verdict of the leg's last run, 0 for the other verdicts.", ["target", "leg", "verdict"], registry=r)
        self.state = Gauge("verifier_probe_message_state", "1 for the state of the leg's last message, 0 for the other states.", ["target", "leg", "state"], registry=r)
        self.expected = Gauge("verifier_probe_expected_route", "1 for the route the API (or profile) says the leg must take.", ["target", "leg", "route"], registry=r)
        self.delivery = Histogram("verifier_probe_delivery_seconds", "Time from submission to the message being seen in the mailbox.", ["target", "leg"], buckets=BUCKETS, registry=r)
        self.phase = Histogram("verifier_probe_phase_seconds", "Time of each phase: submit (SMTP), smarthost and border (from Received stamps, after submission), mailbox (seen by IMAP).", ["target", "leg", "phase"], buckets=BUCKETS, registry=r)
        self.runs = Counter("verifier_probe_runs", "Probe runs made.", ["target"], registry=r)
        self.failures = Counter("verifier_probe_failures", "Legs that failed, by reason.", ["target", "leg", "reason"], registry=r)
        self.late = Counter("verifier_probe_late_arrivals", "Messages that arrived after their run's timeout.", ["target", "leg"], registry=r)
        self.last_run = Gauge("verifier_probe_last_run_timestamp_seconds", "When the last run of the target finished (Unix time).", ["target"], registry=r)
        self.last_success = Gauge("verifier_probe_last_success_timestamp_seconds", "When the leg last succeeded (Unix time; 0: never).", ["target", "leg"], registry=r)
        self.route_changes = Counter("verifier_probe_route_changes", "Route changes: the leg's verdict or the API's connector differs from its previous run.", ["target", "leg"], registry=r)
        self.connector = Info("verifier_probe_connector", "The connector the API reports for the leg's address.", ["target", "leg"], registry=r)
        self.smarthost_up = Gauge("verifier_probe_smarthost_up", "1 if the last smartHost check (no mail sent) passed, 0 if it failed; absent before the first check.", ["target"], registry=r)
        self.interval = Gauge("verifier_probe_interval_seconds", "The target's configured run interval.", ["target"], registry=r)
        self.consecutive = Gauge("verifier_probe_consecutive_failures", "Failed runs in a row of the target.", ["target"], registry=r)
        self.duration = Gauge("verifier_probe_duration_seconds", "Wall time of the target's last run.", ["target"], registry=r)
        if with_health:
            self.up = Gauge("verifier_monitor_up", "1 while the monitor runs its schedule.", registry=r)
            self.start_time = Gauge("verifier_monitor_start_time_seconds", "When the monitor started (Unix time).", registry=r)
            self.targets = Gauge("verifier_monitor_targets", "Targets configured.", registry=r)
            self.running = Gauge("verifier_monitor_runs_in_progress", "Probe runs in progress.", registry=r)
            self.reloads = Counter("verifier_monitor_config_reloads", "Configuration reloads, by result.", ["result"], registry=r)
            self.errors = Counter("verifier_monitor_errors", "Internal errors of the monitor (history, alert sinks).", ["where"], registry=r)
            self.alerts_sent = Counter("verifier_monitor_notifications", "Alert notifications sent, by sink and result.", ["sink", "result"], registry=r)
            self.imap_reconnects = Counter("verifier_monitor_imap_reconnects", "Mailbox watcher connections that dropped and were opened again.", registry=r)
            self.up.set(1)
            self.start_time.set(time.time())
            for res in ("ok", "error"):
                self.reloads.labels(res)
            for where in ("history", "alerts", "sweep", "run", "textfile"):
                self.errors.labels(where)
            for sink in ("webhook", "email"):
                for res in ("ok", "error"):
                    self.alerts_sent.labels(sink, res)

    # -------------------------------------------------------------- series life cycle
    def declare(self, target: str, interval: float, roles: tuple[str, ...] = ROLES,
                last_success: dict[tuple[str, str], float] | None = None, consecutive: int = 0) -> None:
        """Create every series of a target at its neutral value (before its first run)."""
        self.runs.labels(target)
        self.last_run.labels(target)
        self.interval.labels(target).set(interval)
        self.consecutive.labels(target).set(consecutive)
        self.duration.labels(target)
        for leg in roles:
            self.success.labels(target, leg)
            for v in VERDICTS:
                self.verdict.labels(target, leg, v)
            for s in STATES:
                self.state.labels(target, leg, s)
            for route in ("via-connector", "bypassed"):
                self.expected.labels(target, leg, route)
            self.delivery.labels(target, leg)
            for ph in PHASES:
                self.phase.labels(target, leg, ph)
            for reason in REASONS:
                self.failures.labels(target, leg, reason)
            self.late.labels(target, leg)
            self.last_success.labels(target, leg).set((last_success or {}).get((target, leg), 0))
            self.route_changes.labels(target, leg)
            self.connector.labels(target, leg).info({"connector_id": "", "smart_host": ""})

    def forget(self, target: str, roles: tuple[str, ...] = ROLES) -> None:
        """Drop a target's series (it left the configuration)."""
        for metric in (self.runs, self.last_run, self.interval, self.consecutive, self.duration, self.smarthost_up):
            try:
                metric.remove(target)
            except KeyError:
                pass
        for leg in roles:
            for metric, extra in ((self.success, [()]), (self.verdict, [(v,) for v in VERDICTS]),
                                  (self.state, [(s,) for s in STATES]), (self.expected, [("via-connector",), ("bypassed",)]),
                                  (self.delivery, [()]), (self.phase, [(p,) for p in PHASES]),
                                  (self.failures, [(r,) for r in REASONS]), (self.late, [()]),
                                  (self.last_success, [()]), (self.route_changes, [()]), (self.connector, [()])):
                for e in extra:
                    try:
                        metric.remove(target, leg, *e)
                    except KeyError:
                        pass

    # -------------------------------------------------------------- recording
    def record_leg(self, target: str, rec: dict, *, changed: bool, finished: float) -> None:
        leg = rec["role"]
        state, verdict = rec["state"], rec.get("verdict")
        ok = bool(rec.get("as_expected")) and state == "delivered"
        self.success.labels(target, leg).set(1 if ok else 0)
        for v in VERDICTS:
            self.verdict.labels(target, leg, v).set(1 if v == verdict else 0)
        for s in STATES:
            self.state.labels(target, leg, s).set(1 if s == state else 0)
        if rec.get("expected"):
            for route in ("via-connector", "bypassed"):
                self.expected.labels(target, leg, route).set(1 if route == rec["expected"] else 0)
        from verifier.monitor.states import failure_reason

        reason = rec.get("failure") or failure_reason(state, verdict, bool(rec.get("as_expected")))
        if reason:
            self.failures.labels(target, leg, reason).inc()
        if ok:
            self.last_success.labels(target, leg).set(finished)
        import json

        timings = json.loads(rec.get("timings_json") or "{}")
        if state in ("delivered", "wrong-route") and isinstance(timings.get("mailbox"), int | float):
            self.delivery.labels(target, leg).observe(timings["mailbox"])
        for ph in PHASES:
            v = timings.get(ph)
            if isinstance(v, int | float) and v >= 0:
                self.phase.labels(target, leg, ph).observe(v)
        if changed:
            self.route_changes.labels(target, leg).inc()
        if rec.get("expected_from") == "api":
            self.connector.labels(target, leg).info({
                "connector_id": "" if rec.get("connector_id") is None else str(rec["connector_id"]),
                "smart_host": rec.get("smart_host") or ""})

    def record_run(self, target: str, *, finished: float, seconds: float, consecutive: int,
                   smarthost_ok: bool | None) -> None:
        self.runs.labels(target).inc()
        self.last_run.labels(target).set(finished)
        self.duration.labels(target).set(seconds)
        self.consecutive.labels(target).set(consecutive)
        if smarthost_ok is not None:
            self.smarthost_up.labels(target).set(1 if smarthost_ok else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def write_textfile(directory: str, data: bytes, name: str = "verifier_monitor.prom") -> str:
    """Write ``data`` for node_exporter's textfile collector: a temp file in the same
    directory, then an atomic rename, so the collector never reads half a file."""
    fd, tmp = tempfile.mkstemp(prefix=".verifier_monitor.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        final = os.path.join(directory, name)
        os.replace(tmp, final)
        return final
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
