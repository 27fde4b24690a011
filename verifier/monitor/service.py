"""The monitor service: targets on a schedule, one run at a time per target.

Each run is :func:`verifier.probe.run.run_probe`, unchanged. Around it the
monitor writes the history (legs as ``sent`` at submission, then their final
state), detects route changes, updates the metrics, evaluates the alerts, and
sweeps late arrivals of its own earlier runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import time
from dataclasses import dataclass, field, replace

from verifier.errors import CheckFailedError, VerifierError
from verifier.monitor import states
from verifier.monitor.alerts import Alerter
from verifier.monitor.config import MonitorConfig, Target, load_config
from verifier.monitor.history import Event, History
from verifier.monitor.metrics import Metrics, write_textfile

log = logging.getLogger("verifier.monitor")


@dataclass
class Outcome:
    run_id: int
    target: str
    ok: bool
    status: str
    legs: list[dict] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    smarthost_ok: bool | None = None
    error_code: int | None = None  # the exit code of the error that stopped the run, if any


class Monitor:
    def __init__(self, cfg: MonitorConfig, *, textfile: str | None = None, runner=None) -> None:
        from verifier.probe.run import run_probe

        self.cfg = cfg
        self.textfile = textfile
        self.runner = runner or run_probe
        self.history = History(cfg.history)
        self.metrics = Metrics()
        self.alerter = Alerter(cfg.alerting, self.history, self.metrics,
                               external_url=f"http://{cfg.listen_host}:{cfg.listen_port}")
        self.locks: dict[str, asyncio.Lock] = {}
        self.loops: dict[str, asyncio.Task] = {}
        self.inflight: set[asyncio.Task] = set()
        self.sem: asyncio.Semaphore | None = None
        self.stopping: asyncio.Event | None = None
        self.server = None
        self.bound_port: int | None = None
        self.started = time.time()
        self.last_outcome: dict[str, Outcome] = {}
        self.hub = None  # the shared MailboxHub: one IMAP watcher per (mailbox, folder) for every run
        self._pending_late: dict[str, tuple[float, str, bool]] = {}
        import inspect

        self._runner_args = set(inspect.signature(self.runner).parameters)
        self._declare_all()

    # ------------------------------------------------------------------ set-up
    def _declare_all(self) -> None:
        last = self.history.last_success()
        for t in self.cfg.targets:
            roles = ("sender", "control") if t.profile.control is not None else ("sender",)
            self.metrics.declare(t.name, t.interval, roles, last, self.history.consecutive_failures(t.name))
        self.metrics.targets.set(len(self.cfg.targets))

    def _ensure_async(self) -> None:
        if self.sem is None:
            self.sem = asyncio.Semaphore(self.cfg.concurrency)
            self.stopping = asyncio.Event()
            self.sweep_sem = asyncio.Semaphore(1)  # one sweep connection at a time, whatever the concurrency
        if self.hub is None and "hub" in self._runner_args:
            from verifier.probe.mailbox import MailboxHub

            self.hub = MailboxHub(max_connections=self.cfg.max_connections, on_late=self._on_late,
                                  on_reconnect=self.metrics.imap_reconnects.inc)

    async def _on_late(self, token: str, fetched) -> None:
        """The hub saw a message of a run that stopped waiting for it: record it against that run."""
        from verifier.monitor.late import arrival_time
        from verifier.probe import message as pm

        arrived = arrival_time(fetched)
        bounce = pm.is_bounce(fetched.raw)
        row = self.history.db.execute(
            "SELECT runs.status FROM legs JOIN runs ON runs.id = legs.run_id WHERE legs.token=?", (token,)).fetchone()
        if row is not None and row[0] == "running":
            self._pending_late[token] = (arrived, fetched.folder, bounce)  # applied when its run is written
            return
        self._record_late(token, arrived, fetched.folder, bounce)

    def _record_late(self, token: str, arrived: float, folder: str, bounce: bool) -> None:
        if bounce:
            self.history.db.execute("UPDATE legs SET state='bounced', error=coalesce(error, '') || "
                                    "' (a bounce arrived later)' WHERE token=? AND state IN ('sent', 'lost')", (token,))
            return
        info = self.history.mark_late(token, arrived, folder)
        if info is None:
            return
        self.metrics.late.labels(info["target"], info["role"]).inc()
        log.info("late arrival for run %s of %s (%s)", info["run_id"], info["target"], info["role"], extra={
            "event": "late", "target": info["target"], "run_id": info["run_id"], "role": info["role"],
            "delivery_seconds": info["delivery_seconds"], "folder": folder})

    # ------------------------------------------------------------------ one run
    async def run_target(self, target: Target, *, trigger: str = "schedule", deadline: float | None = None,
                         extra: tuple[Metrics, ...] = ()) -> Outcome:
        """Run ``target`` once, after its previous run (never two at once) and within the concurrency limit."""
        self._ensure_async()
        lock = self.locks.setdefault(target.name, asyncio.Lock())
        async with lock, self.sem:
            task = asyncio.current_task()
            self.inflight.add(task)
            self.metrics.running.inc()
            try:
                out = await self._run(target, trigger, deadline, extra)
            finally:
                self.metrics.running.dec()
                self.inflight.discard(task)
            # With the shared hub, messages of this process's runs that arrive late are handed
            # over by the hub itself; the sweep is left with those sent before this process started.
            with contextlib.suppress(Exception):
                await self._sweep_late(target, before=self.started if self.hub is not None else None)
            return out

    async def _run(self, target: Target, trigger: str, deadline: float | None, extra: tuple[Metrics, ...]) -> Outcome:
        from verifier.report import probe as rp

        h = self.history
        run_id = h.start_run(target.name, trigger)
        t0 = time.monotonic()
        profile = target.profile
        if deadline is not None:
            remaining = deadline - time.monotonic()
            budget = max(1.0, remaining * 0.7 - 1.0)
            profile = replace(profile, delivery_timeout=min(profile.delivery_timeout, budget),
                              connect_timeout=min(profile.connect_timeout, max(1.0, remaining / 4)))
        sent: dict[str, object] = {}

        def on_submitted(leg) -> None:
            sent[leg.role] = leg
            h.leg_sent(run_id, leg.role, leg.account.address, leg.token,
                       leg.sent_wall.timestamp() if leg.sent_wall else time.time())

        def progress(msg: str) -> None:
            log.debug(msg, extra={"event": "progress", "target": target.name, "run_id": run_id})

        outcome = Outcome(run_id, target.name, False, "done")
        result = None
        try:
            kwargs: dict = {"on_submitted": on_submitted}
            if self.hub is not None:
                kwargs["hub"] = self.hub
            if deadline is not None and "deadline" in self._runner_args:
                kwargs["deadline"] = deadline - 0.5
            coro = self.runner(profile, progress, **kwargs)
            if deadline is not None:
                result = await asyncio.wait_for(coro, max(0.5, deadline - time.monotonic()))
            else:
                result = await coro
        except CheckFailedError as exc:
            outcome.error = str(exc)
            outcome.legs = self._unsent(target, str(exc))
        except asyncio.CancelledError:
            h.finish_run(run_id, status="interrupted", ok=False, error="the run was stopped",
                         seconds=round(time.monotonic() - t0, 3))
            h.db.execute("UPDATE legs SET state='lost', error='the run was stopped before this message arrived' "
                         "WHERE run_id=? AND state='sent'", (run_id,))
            raise
        except (VerifierError, TimeoutError, OSError) as exc:
            from verifier.errors import ExitCode, exit_code_for

            outcome.status = "error"
            outcome.error_code = int(exit_code_for(exc)) if isinstance(exc, VerifierError) else int(ExitCode.NETWORK)
            outcome.error = str(exc) if isinstance(exc, VerifierError) else f"the run did not finish in time ({type(exc).__name__})"
            outcome.legs = self._after_error(target, sent, outcome.error)
        except Exception as exc:  # a bug in a run must not stop the monitor
            log.exception("run failed", extra={"event": "run-bug", "target": target.name, "run_id": run_id})
            self.metrics.errors.labels("run").inc()
            outcome.status = "error"
            outcome.error = f"internal error ({type(exc).__name__}: {exc})"
            outcome.legs = self._after_error(target, sent, outcome.error)
        finished = time.time()
        outcome.seconds = round(time.monotonic() - t0, 3)
        result_json = result_text = None
        if result is not None:
            outcome.legs = [states.leg_record(leg) for leg in result.legs]
            outcome.smarthost_ok = result.preflight.ok if result.preflight is not None else None
        for rec in outcome.legs:
            h.finish_leg(run_id, rec)
        for rec in outcome.legs:
            pending = self._pending_late.pop(rec.get("token") or "", None)
            if pending is not None:
                self._record_late(rec["token"], *pending)
        outcome.events = self._changes(target.name, run_id, outcome.legs)
        for ev in outcome.events:
            h.add_event(ev)
        outcome.ok = bool(outcome.legs) and all(r["state"] == "delivered" and r.get("as_expected") for r in outcome.legs)
        if result is not None:
            result_json = rp.result_to_json(result)
            changes = [{"role": e.role, "kind": e.kind, "before": e.before, "after": e.after} for e in outcome.events]
            result_json["route_changes"] = changes
            result_json["run_id"] = run_id
            result_json["states"] = {r["role"]: r["state"] for r in outcome.legs}
            result_text = rp.render_text(result, route_changes=[
                {"role": e.role, "before": e.before, "after": e.after, "since": "earlier"} for e in outcome.events
                if e.kind == "route-change"])
        else:
            result_json = {"profile": target.name, "run_id": run_id, "ok": False, "error": outcome.error,
                           "states": {r["role"]: r["state"] for r in outcome.legs}}
            result_text = f"Run {run_id} of {target.name}: {outcome.error}\n"
        h.finish_run(run_id, status=outcome.status, ok=outcome.ok, error=outcome.error, seconds=outcome.seconds,
                     result_json=result_json, result_text=result_text, now=finished)
        consecutive = h.consecutive_failures(target.name)
        changed_roles = {e.role for e in outcome.events}
        for m in (self.metrics, *extra):
            for rec in outcome.legs:
                m.record_leg(target.name, rec, changed=rec["role"] in changed_roles, finished=finished)
            m.record_run(target.name, finished=finished, seconds=outcome.seconds, consecutive=consecutive,
                         smarthost_ok=outcome.smarthost_ok)
        log.info("run %s of %s: %s", run_id, target.name, "ok" if outcome.ok else (outcome.error or "failed"), extra={
            "event": "run", "target": target.name, "run_id": run_id, "ok": outcome.ok, "trigger": trigger,
            "states": {r["role"]: r["state"] for r in outcome.legs},
            "verdicts": {r["role"]: r.get("verdict") for r in outcome.legs},
            "route_changes": len(outcome.events), "seconds": outcome.seconds})
        try:
            due = self.alerter.evaluate(target.name, run_id, outcome.legs, outcome.events, consecutive, finished)
            await self.alerter.notify(target.name, due)
        except Exception as exc:
            self.metrics.errors.labels("alerts").inc()
            log.warning("alert evaluation failed: %s", exc, extra={"event": "alert-error", "target": target.name})
        self.last_outcome[target.name] = outcome
        self.write_textfile()
        return outcome

    def _unsent(self, target: Target, error: str) -> list[dict]:
        p = target.profile
        out = [states.not_sent_record("sender", p.sender.address, p.sender.expect or "via-connector", error)]
        if p.control is not None:
            out.append(states.not_sent_record("control", p.control.address, p.control.expect or "bypassed", error))
        return out

    def _after_error(self, target: Target, sent: dict, error: str) -> list[dict]:
        out = []
        for rec in self._unsent(target, error):
            rec["failure"] = "error"  # the run broke (network, credentials, profile): not the API's refusal
            leg = sent.get(rec["role"])
            if leg is not None:  # submitted, then the run broke: the message may still arrive (late)
                rec.update(state="lost", failure="lost", token=leg.token, verdict="not-delivered",
                           sent_at=leg.sent_wall.timestamp() if leg.sent_wall else None,
                           expected=leg.expectation.expect, expected_from=leg.expectation.source,
                           connector_id=leg.expectation.connector_id, smart_host=leg.expectation.smart_host)
            out.append(rec)
        return out

    def _changes(self, target: str, run_id: int, legs: list[dict]) -> list[Event]:
        """Route changes: a routed verdict that differs from the leg's previous routed verdict,
        or the API's connector for the address differing from the previous run's."""
        out: list[Event] = []
        prev = self.history.previous_legs(target, run_id)
        for rec in legs:
            role = rec["role"]
            evidence = {"border_hop": rec.get("border_hop"), "smarthost_hop": rec.get("smarthost_hop"),
                        "findings": __import__("json").loads(rec.get("findings_json") or "[]"),
                        "connector_id": rec.get("connector_id"), "smart_host": rec.get("smart_host")}
            p = prev.get(role)
            if p is not None and rec.get("verdict") in states.ROUTED and p["verdict"] != rec["verdict"]:
                out.append(Event(target, role, "route-change", p["verdict"], rec["verdict"], run_id, p["run_id"], evidence))
            if rec.get("expected_from") == "api":
                pe = self.history.previous_expectation(target, role, run_id)
                if pe is not None and pe["connector_id"] != rec.get("connector_id"):
                    before = None if pe["connector_id"] is None else str(pe["connector_id"])
                    after = None if rec.get("connector_id") is None else str(rec["connector_id"])
                    out.append(Event(target, role, "connector-change", before, after, run_id, pe["run_id"], evidence))
        return out

    # ------------------------------------------------------------------ late arrivals
    async def _sweep_late(self, target: Target, window: float | None = None, before: float | None = None) -> int:
        from verifier.monitor.late import sweep_tokens

        since = time.time() - (window or target.profile.sweep_after)
        rows = [r for r in self.history.unresolved_tokens(since) if r["target"] == target.name
                and (before is None or (r["sent_at"] or 0) < before)]
        if not rows:
            return 0
        try:
            async with self.sweep_sem:
                found = await sweep_tokens(target.profile, [r["token"] for r in rows])
        except VerifierError as exc:
            self.metrics.errors.labels("sweep").inc()
            log.info("late sweep of %s failed: %s", target.name, exc, extra={"event": "sweep-error", "target": target.name})
            return 0
        for token, folder, _uid, bounce, arrived in found:
            self._record_late(token, arrived or time.time(), folder, bounce)
        return len(found)

    async def startup_sweep(self) -> None:
        for target in self.cfg.targets:
            lock = self.locks.setdefault(target.name, asyncio.Lock())
            async with lock:
                with contextlib.suppress(Exception):
                    await self._sweep_late(target)

    # ------------------------------------------------------------------ schedule
    async def _loop(self, name: str) -> None:
        first = True
        next_start = time.monotonic()
        while not self.stopping.is_set():
            target = self.cfg.target(name)
            if target is None:
                return
            if first:
                delay = random.uniform(0, target.interval * target.jitter)
                first = False
            else:
                spread = target.interval * target.jitter
                delay = max(0.0, next_start + random.uniform(-spread, spread) - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), delay)
            if self.stopping.is_set():
                return
            target = self.cfg.target(name)
            if target is None:
                return
            next_start = time.monotonic() + target.interval
            try:
                await self.run_target(target)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduled run failed", extra={"event": "run-bug", "target": name})

    def start_loops(self) -> None:
        for t in self.cfg.targets:
            if t.name not in self.loops or self.loops[t.name].done():
                self.loops[t.name] = asyncio.create_task(self._loop(t.name), name=f"monitor:{t.name}")

    def reload(self) -> bool:
        try:
            new = load_config(self.cfg.path)
        except VerifierError as exc:
            self.metrics.reloads.labels("error").inc()
            log.error("reload refused, keeping the running configuration: %s", exc, extra={"event": "reload-error"})
            return False
        if (new.listen_host, new.listen_port, new.history) != (self.cfg.listen_host, self.cfg.listen_port, self.cfg.history):
            log.warning("listen address and history path changes take effect at the next start", extra={"event": "reload"})
            new = replace(new, listen_host=self.cfg.listen_host, listen_port=self.cfg.listen_port, history=self.cfg.history)
        old_names = {t.name for t in self.cfg.targets}
        self.cfg = new
        for name in old_names - {t.name for t in new.targets}:
            self.metrics.forget(name)
        self._declare_all()
        self.alerter.cfg = new.alerting
        self.start_loops()
        self.metrics.reloads.labels("ok").inc()
        log.info("configuration reloaded: %d targets", len(new.targets), extra={"event": "reload", "targets": len(new.targets)})
        return True

    # ------------------------------------------------------------------ outputs
    def write_textfile(self) -> None:
        if not self.textfile:
            return
        try:
            write_textfile(self.textfile, self.metrics.render())
        except OSError as exc:
            self.metrics.errors.labels("textfile").inc()
            log.warning("cannot write the textfile: %s", exc, extra={"event": "textfile-error"})

    # ------------------------------------------------------------------ service
    async def serve(self, *, once: bool = False, listen: bool = True) -> int:
        """Run until SIGTERM/SIGINT (or, with ``once``, until every target ran once)."""
        self._ensure_async()
        interrupted = self.history.interrupt_running()
        if interrupted:
            log.warning("%d runs were interrupted by an earlier stop", len(interrupted), extra={"event": "recovered", "runs": interrupted})
        self.history.prune(self.cfg.retention_days)
        runner = None
        if listen:
            from verifier.monitor.web import start_server

            runner = await start_server(self)
        self.write_textfile()
        loop = asyncio.get_running_loop()
        for sig, fn in ((signal.SIGTERM, self.stopping.set), (signal.SIGINT, self.stopping.set), (signal.SIGHUP, self.reload)):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, fn)
        log.info("monitor started: %d targets, listening on %s:%s", len(self.cfg.targets), self.cfg.listen_host,
                 self.bound_port if listen else "-", extra={"event": "start", "targets": len(self.cfg.targets),
                                                            "port": self.bound_port})
        code = 0
        try:
            sweep = asyncio.create_task(self.startup_sweep())
            if once:
                await sweep
                outcomes = await asyncio.gather(*(self.run_target(t, trigger="once") for t in self.cfg.targets))
                code = exit_code_for_outcomes(outcomes)
            else:
                self.start_loops()
                await self.stopping.wait()
                log.info("stopping: letting runs in progress finish", extra={"event": "stop"})
                if self.loops:
                    _, pending = await asyncio.wait(list(self.loops.values()), timeout=max(0.1, self.cfg.shutdown_grace))
                    for t in pending:
                        t.cancel()
                    if pending:
                        await asyncio.wait(pending, timeout=10)
                if not sweep.done():
                    sweep.cancel()
                    with contextlib.suppress(BaseException):
                        await sweep
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
            self.metrics.up.set(0)
            self.write_textfile()
            if runner is not None:
                await runner.cleanup()
            if self.hub is not None:
                with contextlib.suppress(Exception):
                    await self.hub.close()
            self.history.close()
            log.info("monitor stopped", extra={"event": "stopped"})
        return code


def exit_code_for_outcomes(outcomes: list[Outcome]) -> int:
    """--once: 0 all as expected; 4 a wrong route; 11 not delivered or not sent; 5 inconclusive;
    a run stopped by an error before anything was sent: that error's code (9 network, 7 credentials,
    12 config...). Several: the most serious, in the order of :func:`verifier.errors.most_serious`."""
    from verifier.errors import ExitCode, most_serious

    codes: list[int] = []
    for o in outcomes:
        if o.status == "error" and o.error_code is not None and not any(r.get("token") for r in o.legs):
            codes.append(ExitCode(o.error_code))
            continue
        for rec in o.legs:
            st = rec["state"]
            if st == "wrong-route":
                codes.append(ExitCode.BYPASSED)
            elif st in ("lost", "bounced", "not-sent", "late"):
                codes.append(ExitCode.NOT_DELIVERED)
            elif not rec.get("as_expected"):
                codes.append(ExitCode.INCONCLUSIVE)
    return int(most_serious(codes))
