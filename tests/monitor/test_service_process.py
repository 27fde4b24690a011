"""The monitor as a process: --once with its exit code and textfile, SIGHUP reload, SIGTERM stop,
JSON logs. The target's mailbox password reference is unset, so each run stops before
any network step with a profile error: the schedule, history and signals are what is shown."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import tomli_w

from .support import PROFILE, write_config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict:
    env = dict(os.environ)
    env.pop("VERIFIER_TEST_UNSET", None)
    return env


def test_once_records_each_target_and_exits_with_the_runs_code(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, targets=("a", "b"))
    out = tmp_path / "textfile"
    out.mkdir()
    done = subprocess.run([sys.executable, "-m", "verifier", "monitor", "--config", str(cfg), "--once", "--no-listen",
                           "--textfile", str(out), "--log-format", "json"], capture_output=True, text=True, timeout=120, env=_env())
    assert done.returncode == 12, done.stderr
    assert "Traceback" not in done.stderr
    lines = [json.loads(x) for x in done.stderr.splitlines()]
    runs = [x for x in lines if x.get("event") == "run"]
    assert {r["target"] for r in runs} == {"a", "b"} and all(not r["ok"] for r in runs)
    assert all(r["states"] == {"sender": "not-sent", "control": "not-sent"} for r in runs)
    db = sqlite3.connect(tmp_path / "h.sqlite")
    rows = db.execute("SELECT target, status, error FROM runs ORDER BY target").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("a", "error"), ("b", "error")]
    assert "VERIFIER_TEST_UNSET" in rows[0][2]
    prom = (out / "verifier_monitor.prom").read_text()
    assert 'verifier_probe_runs_total{target="a"} 1.0' in prom
    assert 'verifier_probe_failures_total{leg="sender",reason="error",target="b"} 1.0' in prom
    assert "verifier_monitor_up 0.0" in prom  # written once more at the end
    assert os.listdir(out) == ["verifier_monitor.prom"]


def _get(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.read().decode()


def _wait(pred, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            v = pred()
        except OSError:
            v = None
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_reload_on_sighup_and_stop_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    cfg = write_config(tmp_path, targets=("a",), listen=f"127.0.0.1:{port}")
    log = tmp_path / "log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "verifier", "monitor", "--config", str(cfg), "--log-format", "json"],
                                stdout=fh, stderr=fh, env=_env())
    try:
        first = _wait(lambda: _get(port, "/metrics"))
        assert 'verifier_probe_success{leg="sender",target="a"}' in first and 'target="b"' not in first
        data = {"monitor": {"listen": f"127.0.0.1:{port}", "history": str(tmp_path / "h.sqlite"), "interval": 120, "jitter": 0},
                "target": [{"name": "a", "probe": PROFILE}, {"name": "b", "probe": PROFILE}]}
        cfg.write_text(tomli_w.dumps(data))
        proc.send_signal(signal.SIGHUP)
        _wait(lambda: 'verifier_probe_success{leg="sender",target="b"}' in _get(port, "/metrics"))
        _wait(lambda: 'verifier_probe_runs_total{target="b"} 1.0' in _get(port, "/metrics"))  # b is scheduled too
        cfg.write_text("[monitor\n")  # a broken config: refused, the running one kept
        proc.send_signal(signal.SIGHUP)
        _wait(lambda: 'verifier_monitor_config_reloads_total{result="error"} 1.0' in _get(port, "/metrics"))
        assert 'target="b"' in _get(port, "/metrics")
        data["target"] = data["target"][1:]
        cfg.write_text(tomli_w.dumps(data))
        proc.send_signal(signal.SIGHUP)
        _wait(lambda: 'verifier_probe_success{leg="sender",target="a"}' not in _get(port, "/metrics"))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    events = [json.loads(x).get("event") for x in log.read_text().splitlines()]
    assert events[0] == "start" and events[-1] == "stopped"
    assert events.count("reload") == 2 and events.count("reload-error") == 1
    db = sqlite3.connect(tmp_path / "h.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT count(*) FROM runs WHERE status='running'").fetchone()[0] == 0
