"""Late arrivals handed over by the mailbox hub: recorded against their own run, never before
that run is written (a run still in progress would overwrite them)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from verifier.monitor.config import load_config
from verifier.monitor.late import arrival_time
from verifier.monitor.service import Monitor
from verifier.probe.imap import Fetched

from .support import leg, write_config


def _fetched(token: str, idate: str | None = "03-Dec-2026 10:20:05 +0000") -> Fetched:
    raw = f"From: newsletter@mydomain.test\r\nSubject: verifier probe {token}\r\n\r\nProbe token: {token}\r\n".encode()
    return Fetched("INBOX", 7, raw, idate, 0.0)


def test_internaldate_is_the_arrival_time() -> None:
    assert arrival_time(_fetched("x")) == 1796293205.0
    assert arrival_time(_fetched("x", "garbage")) > 1796293205.0  # unreadable: now


def test_a_late_message_of_a_running_run_waits_for_the_run_then_a_finished_one_is_marked(tmp_path: Path) -> None:
    m = Monitor(load_config(str(write_config(tmp_path))))
    h = m.history
    running = h.start_run("lab", now=1796293100)
    h.leg_sent(running, "sender", "s@x", "vprobe-running", 1796293100.0)
    asyncio.run(m._on_late("vprobe-running", _fetched("vprobe-running")))
    assert "vprobe-running" in m._pending_late
    assert h.runs("lab")[0]["legs"][0]["state"] == "sent"  # untouched while the run is in progress

    done = h.start_run("lab", now=1796293000)
    h.finish_leg(done, leg(state="lost", verdict="not-delivered", token="vprobe-done", delivery=None))
    h.db.execute("UPDATE legs SET sent_at=1796293000 WHERE token='vprobe-done'")
    h.finish_run(done, status="done", ok=False, error="lost", seconds=30, now=1796293030)
    asyncio.run(m._on_late("vprobe-done", _fetched("vprobe-done")))
    row = h.db.execute("SELECT state, delivery_seconds FROM legs WHERE token='vprobe-done'").fetchone()
    assert tuple(row) == ("late", 205.0)
    assert b'verifier_probe_late_arrivals_total{leg="sender",target="lab"} 1.0' in m.metrics.render()
