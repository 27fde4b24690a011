"""The HTTP side on a real loopback server: metrics from start-up, escaping, headers, /probe errors."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import aiohttp

from verifier.monitor.config import load_config
from verifier.monitor.service import Monitor

from .support import leg, write_config

EVIL = "<script>alert(1)</script>"


def _serve(tmp_path: Path, fn) -> object:
    async def go():
        from verifier.monitor.web import start_server

        m = Monitor(load_config(str(write_config(tmp_path, targets=("lab", "other")))))
        rid = m.history.start_run("lab", now=1000)
        m.history.finish_leg(rid, {**leg(), "error": EVIL, "border_hop": f"from {EVIL} by mx"})
        m.history.finish_run(rid, status="done", ok=False, error=EVIL, seconds=1, result_json={"x": EVIL},
                             result_text=f"text {EVIL}", now=1001)
        from verifier.monitor.history import Event

        m.history.add_event(Event("lab", "sender", "route-change", "via-connector", "bypassed", rid, None,
                                  {"border_hop": EVIL, "smarthost_hop": None, "findings": [EVIL]}))
        runner = await start_server(m)
        try:
            async with aiohttp.ClientSession(f"http://127.0.0.1:{m.bound_port}") as s:
                return await fn(s, rid)
        finally:
            await runner.cleanup()
            m.history.close()

    return asyncio.run(go())


def test_metrics_status_page_and_runs(tmp_path: Path) -> None:
    async def fn(s: aiohttp.ClientSession, rid: int):
        out = {}
        for path in ("/metrics", "/", f"/runs/{rid}", f"/runs/{rid}.json", f"/runs/{rid}.txt", "/runs/999",
                     "/runs/x.json", "/probe?target=nope", "/healthz"):
            async with s.get(path) as r:
                out[path] = (r.status, dict(r.headers), await r.text())
        async with s.get("/probe?target=lab", headers={"X-Prometheus-Scrape-Timeout-Seconds": "abc"}) as r:
            out["badtimeout"] = (r.status, dict(r.headers), await r.text())
        return out

    out = _serve(tmp_path, fn)
    status, headers, body = out["/metrics"]
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    for target in ("lab", "other"):
        assert f'verifier_probe_success{{leg="sender",target="{target}"}} 0.0' in body
    status, headers, page = out["/"]
    assert status == 200 and "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert EVIL not in page and "&lt;script&gt;" in page and "<svg" in page and "<script" not in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing external
    assert EVIL not in out[f"/runs/{1}"][2]
    assert json.loads(out["/runs/1.json"][2]) == {"x": EVIL}
    assert out["/runs/1.json"][1]["Content-Type"].startswith("application/json")
    assert out["/runs/1.txt"][1]["Content-Type"].startswith("text/plain")
    assert out["/runs/999"][0] == 404 and out["/runs/x.json"][0] == 404
    assert out["/probe?target=nope"][0] == 404 and out["/probe?target=nope"][1]["X-Content-Type-Options"] == "nosniff"
    assert out["badtimeout"][0] == 400
    assert json.loads(out["/healthz"][2])["targets"] == 2


def test_scrape_timeout_rule() -> None:
    from verifier.monitor.web import DEFAULT_SCRAPE_TIMEOUT, scrape_timeout

    assert scrape_timeout(None) == DEFAULT_SCRAPE_TIMEOUT
    assert scrape_timeout("10") == 9.5
    assert scrape_timeout("0.2") == 0.5


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "verifier", *args], capture_output=True, text=True, timeout=60)


def test_history_command(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    m = Monitor(load_config(str(cfg)))
    rid = m.history.start_run("lab", now=1_700_000_000)
    m.history.finish_leg(rid, leg())
    m.history.finish_run(rid, status="done", ok=True, error=None, seconds=2, now=1_700_000_002)
    m.history.close()
    text = _cli("monitor", "history", "--config", str(cfg))
    assert text.returncode == 0, text.stderr
    assert "2023-11-14 22:13:20" in text.stdout and "delivered" in text.stdout and "connector 7" in text.stdout
    js = _cli("monitor", "history", "lab", "--db", str(tmp_path / "h.sqlite"), "--json", "--since", "2023-11-14")
    assert json.loads(js.stdout)["runs"][0]["legs"][0]["verdict"] == "via-connector"
    assert "No runs" in _cli("monitor", "history", "--db", str(tmp_path / "h.sqlite"), "--since", "1h").stdout
    bad = _cli("monitor", "history", "--db", str(tmp_path / "h.sqlite"), "--since", "yesterday")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    missing = _cli("monitor", "history", "--db", str(tmp_path / "none.sqlite"))
    assert missing.returncode == 12 and "does not exist" in missing.stderr
    noconf = _cli("monitor")
    assert noconf.returncode == 2 and "--config" in noconf.stderr
    badconf = _cli("monitor", "--config", str(tmp_path / "none.toml"), "--once")
    assert badconf.returncode == 12 and "Traceback" not in badconf.stderr
