"""`verifier monitor` against the real lab: two targets on a short interval, a real
Prometheus server scraping it with the shipped alert rules, a webhook receiver.

Shown here: every series from the first scrape; detaching the account through the
API is one route change (history, /metrics, one webhook call, the Prometheus rule
firing) and re-attaching one recovery; a smarthost that is down gives not-delivered
with the preflight's reason, then a recovery, and the held messages are recorded as
late against their own runs; kill -9 mid-run, then a restart: the history passes
SQLite's integrity check, the interrupted run's messages are swept, series present.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import tomllib
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import tomli_w
from aiohttp import web
from lab_support import find, imap
from test_probe import _open, _wait_route, api, connector_id, profile_path  # noqa: F401 - module fixtures

from verifier.lab import topology as t
from verifier.lab.control import Lab
from verifier.probe.profile import load_profile

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parents[2]
INTERVAL = 12
DELIVERY = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(pred, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Hook:
    """A small aiohttp server, in its own thread, that records each webhook body."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.port = _free_port()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def hook(request: web.Request) -> web.Response:
            self.bodies.append(await request.json())
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_post("/hook", hook)
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        self.loop.run_until_complete(web.TCPSite(self.runner, "127.0.0.1", self.port).start())
        self.ready.set()
        self.loop.run_forever()

    def of(self, alertname: str) -> list[dict]:
        return [b for b in list(self.bodies) if any(a["labels"]["alertname"] == alertname for a in b["alerts"])]

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class MonitorProc:
    def __init__(self, config: Path, port: int, log: Path) -> None:
        self.config, self.port, self.log = config, port, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        fh = open(self.log, "ab")  # noqa: SIM115 - kept open for the child's lifetime
        self.proc = subprocess.Popen([sys.executable, "-m", "verifier", "monitor", "--config", str(self.config),
                                      "--log-format", "json"], stdout=fh, stderr=fh, env=dict(os.environ))
        fh.close()

    def get(self, path: str) -> tuple[int, dict, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
                return r.status, dict(r.headers), r.read().decode()
        except OSError:
            return 0, {}, ""

    def first_scrape(self) -> str:
        return _wait(lambda: (lambda r: r[2] if r[0] == 200 else None)(self.get("/metrics")), 30, "the first scrape", 0.05)

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)


class Db:
    def __init__(self, path: Path) -> None:
        self.path = path

    def q(self, sql: str, *args) -> list[sqlite3.Row]:
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            return list(db.execute(sql, args))
        finally:
            db.close()

    def runs(self, target: str, after: float = 0) -> list[sqlite3.Row]:
        return self.q("SELECT * FROM runs WHERE target=? AND started > ? AND status != 'running' ORDER BY id", target, after)

    def legs(self, run_id: int) -> dict[str, sqlite3.Row]:
        return {r["role"]: r for r in self.q("SELECT * FROM legs WHERE run_id=?", run_id)}

    def next_run(self, target: str, after: float, timeout: float = 90) -> sqlite3.Row:
        return _wait(lambda: (self.runs(target, after) or [None])[0], timeout, f"a run of {target} after {after}")


def _metric(text: str, line_start: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.fixture(scope="module")
def setup(lab: Lab, api, connector_id: int, tmp_path_factory):  # noqa: F811
    api.attach(t.ATTACHED_SENDER, connector_id)
    _wait_route(present=True)
    work = tmp_path_factory.mktemp("monitor")
    hook = Hook()
    port = _free_port()
    out = subprocess.run([sys.executable, "-m", "verifier", "lab", "env", "--monitor", "--interval", str(INTERVAL),
                          "--listen", f"127.0.0.1:{port}", "--webhook", f"http://127.0.0.1:{hook.port}/hook",
                          "--email"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    cfg = tomllib.loads(out)
    cfg["monitor"]["history"] = str(work / "history.sqlite")
    cfg["monitor"]["jitter"] = 0
    cfg["alerts"]["min_interval"] = 0
    for target in cfg["target"]:
        target["probe"]["timeouts"]["delivery"] = DELIVERY
    config = work / "monitor.toml"
    config.write_text(tomli_w.dumps(cfg))
    mon = MonitorProc(config, port, work / "monitor.log")
    prom = _start_prometheus(work, port)
    mon.start()
    yield {"mon": mon, "hook": hook, "db": Db(work / "history.sqlite"), "prom": prom, "work": work, "lab": lab}
    code = mon.stop()
    hook.stop()
    prom["proc"].terminate()
    prom["proc"].wait(30)
    assert code == 0, (work / "monitor.log").read_text()[-3000:]


def _start_prometheus(work: Path, monitor_port: int) -> dict:
    import shutil

    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("Debian's prometheus is not installed (scripts/install-monitor-packages.sh)", pytrace=False)
    port = _free_port()
    conf = work / "prometheus.yml"
    conf.write_text(json.dumps({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(ROOT / "contrib" / "prometheus" / "alerts.yml")],
        "scrape_configs": [{"job_name": "verifier", "static_configs": [{"targets": [f"127.0.0.1:{monitor_port}"]}]}],
    }))
    log = open(work / "prometheus.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([binary, f"--config.file={conf}", f"--storage.tsdb.path={work / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=log)
    log.close()
    url = f"http://127.0.0.1:{port}"
    _wait(lambda: _http_ok(url + "/-/ready"), 60, "Prometheus to be ready")
    return {"proc": proc, "url": url}


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def _prom_query(prom: dict, query: str) -> list[dict]:
    with urllib.request.urlopen(f"{prom['url']}/api/v1/query?{urllib.parse.urlencode({'query': query})}", timeout=10) as r:
        return json.loads(r.read())["data"]["result"]


def _alert_mail(lab: Lab, subject: str, timeout: float = 60) -> email.message.Message:
    """The alert email whose Subject carries ``subject``, read whole from the recipient's mailbox."""
    found = find(lab, subject, timeout=timeout, folders=("INBOX",))
    assert found is not None, f"no alert email {subject!r} within {timeout:.0f} s"
    conn = imap(lab)
    try:
        conn.select("INBOX", readonly=True)
        typ, data = conn.uid("SEARCH", None, "HEADER", "Subject", f'"{subject}"')
        uids = data[0].split()
        assert typ == "OK" and len(uids) == 1, f"{len(uids)} alert emails {subject!r}"
        typ, fetched = conn.uid("FETCH", uids[0], "(BODY.PEEK[])")
        raw = next(part[1] for part in fetched if isinstance(part, tuple))
    finally:
        conn.logout()
    return email.message_from_bytes(raw, policy=email.policy.default)


def _wait_quiet(db: Db, target: str) -> float:
    """Wait for a run of ``target`` to finish, and return the time: the next one is an interval away."""
    now = time.time()
    db.next_run(target, now - 0.001)
    return time.time()


def test_series_from_the_first_scrape_then_both_targets_pass(setup) -> None:
    mon, db = setup["mon"], setup["db"]
    first = mon.first_scrape()
    for target, legs in (("connector", ("sender", "control")), ("platform", ("sender",))):
        for leg in legs:
            assert f'verifier_probe_success{{leg="{leg}",target="{target}"}}' in first
            assert f'verifier_probe_failures_total{{leg="{leg}",reason="lost",target="{target}"}} 0.0' in first
    for target in ("connector", "platform"):
        run = db.next_run(target, 0)
        assert run["ok"] == 1, run["error"]
    legs = db.legs(db.runs("connector")[0]["id"])
    assert legs["sender"]["state"] == "delivered" and legs["sender"]["verdict"] == "via-connector"
    assert legs["sender"]["connector_id"] is not None and legs["sender"]["smarthost_hop"]
    assert legs["control"]["verdict"] == "bypassed"
    assert db.legs(db.runs("platform")[0]["id"])["sender"]["verdict"] == "bypassed"
    status, headers, page = mon.get("/")
    assert status == 200 and "connector" in page and "<svg" in page and "nosniff" in headers.get("X-Content-Type-Options", "")
    rid = db.runs("connector")[0]["id"]
    status, _, js = mon.get(f"/runs/{rid}.json")
    assert status == 200 and json.loads(js)["legs"][0]["analysis"]["verdict"] == "via-connector"


def test_probe_endpoint_runs_one_probe_now(setup) -> None:
    mon, db = setup["mon"], setup["db"]
    req = urllib.request.Request(f"http://127.0.0.1:{mon.port}/probe?target=platform",
                                 headers={"X-Prometheus-Scrape-Timeout-Seconds": "20"})
    t0 = time.time()
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read().decode()
    assert _metric(body, "probe_success") == 1.0, body
    assert _metric(body, 'verifier_probe_success{leg="sender",target="platform"}') == 1.0
    assert 'target="connector"' not in body  # a fresh registry: this run's metrics only
    rows = db.q("SELECT * FROM runs WHERE target='platform' AND trigger='probe' AND started >= ?", t0 - 1)
    assert len(rows) == 1 and rows[0]["ok"] == 1


def test_detach_is_one_route_change_and_reattach_one_recovery(setup, api, connector_id: int) -> None:  # noqa: F811
    mon, db, hook, prom = setup["mon"], setup["db"], setup["hook"], setup["prom"]
    before = len(hook.bodies)
    _wait_quiet(db, "connector")
    t0 = time.time()
    api.detach(t.ATTACHED_SENDER)
    _wait_route(present=False)
    run = db.next_run("connector", t0)
    legs = db.legs(run["id"])
    assert legs["sender"]["verdict"] == "bypassed" and legs["sender"]["expected"] == "bypassed"
    events = db.q("SELECT * FROM events WHERE run_id=?", run["id"])
    kinds = {(e["role"], e["kind"], e["before"], e["after"]) for e in events}
    assert ("sender", "route-change", "via-connector", "bypassed") in kinds
    assert ("sender", "connector-change", str(connector_id), None) in kinds
    assert not any(e["role"] == "control" for e in events)
    assert json.loads(events[0]["evidence_json"])["border_hop"]
    metrics = mon.get("/metrics")[2]
    assert _metric(metrics, 'verifier_probe_route_changes_total{leg="sender",target="connector"}') == 1
    assert _metric(metrics, 'verifier_probe_route_changes_total{leg="control",target="connector"}') == 0
    # the real Prometheus, with the shipped rules, fires the route-change alert
    firing = _wait(lambda: _prom_query(prom, 'ALERTS{alertname="VerifierRouteChanged",alertstate="firing",target="connector"}'),
                   60, "the VerifierRouteChanged alert in Prometheus")
    assert {r["metric"]["leg"] for r in firing} == {"sender"}
    # one more run while detached: still exactly one webhook call
    db.next_run("connector", run["started"])
    bodies = hook.bodies[before:]
    assert len(bodies) == 1, bodies
    assert bodies[0]["status"] == "firing"
    assert [(a["labels"]["alertname"], a["labels"]["target"], a["labels"]["leg"]) for a in bodies[0]["alerts"]] == [
        ("VerifierRouteChanged", "connector", "sender")]

    _wait_quiet(db, "connector")
    t1 = time.time()
    api.attach(t.ATTACHED_SENDER, connector_id)
    _wait_route(present=True)
    back = db.next_run("connector", t1)
    assert db.legs(back["id"])["sender"]["verdict"] == "via-connector" and back["ok"] == 1
    db.next_run("connector", back["started"])
    bodies = hook.bodies[before:]
    assert [b["status"] for b in bodies] == ["firing", "resolved"], bodies
    assert bodies[1]["alerts"][0]["labels"]["alertname"] == "VerifierRouteChanged"

    # The same two notifications by email, through the lab's real submission server and MX.
    for status in ("FIRING", "RESOLVED"):
        mail = _alert_mail(setup["lab"], f"{status}: VerifierRouteChanged connector/sender")
        assert mail["From"] == t.CONTROL_SENDER and mail["To"] == t.RECIPIENT
        assert mail["Subject"] == f"[verifier] {status}: VerifierRouteChanged connector/sender"
        body = mail.get_payload(decode=True).decode()
        assert body.startswith(f"{status}: ") and "run:" in body
        assert any(t.PLATFORM_NAME in r for r in mail.get_all("Received")), "not sent through the platform"
    metrics = mon.get("/metrics")[2]
    assert _metric(metrics, 'verifier_monitor_notifications_total{result="ok",sink="email"}') >= 2
    assert _metric(metrics, 'verifier_monitor_notifications_total{result="error",sink="email"}') == 0


def test_smarthost_down_is_not_delivered_with_the_reason_then_recovers(setup) -> None:
    mon, db, hook, lab = setup["mon"], setup["db"], setup["hook"], setup["lab"]
    before = len(hook.bodies)
    _wait_quiet(db, "connector")
    t0 = time.time()
    lab.set_fault("smarthost-down", True)
    try:
        first = db.next_run("connector", t0)
        second = db.next_run("connector", first["started"])
    finally:
        lab.set_fault("smarthost-down", False)  # flushes the platform's queue: the held probes arrive late
    t1 = time.time()
    for run in (first, second):
        legs = db.legs(run["id"])
        assert run["ok"] == 0 and legs["sender"]["verdict"] == "not-delivered"
        assert "failed at 'connect'" in legs["sender"]["error"], legs["sender"]["error"]
        assert legs["control"]["state"] == "delivered"
    failing = _wait(lambda: hook.of("VerifierProbeFailing")[-1:] if len(hook.bodies) > before else None, 30,
                    "the failure notification")
    assert failing[0]["status"] == "firing" and failing[0]["alerts"][0]["labels"]["leg"] == "sender"
    assert "failed at 'connect'" in failing[0]["alerts"][0]["annotations"]["description"]
    ok = db.next_run("connector", t1)
    assert ok["ok"] == 1
    held = [db.legs(r["id"])["sender"]["token"] for r in (first, second)]
    assert db.legs(ok["id"])["sender"]["token"] not in held  # a late message is never the next run's success
    # the held messages arrived after their runs gave up: recorded as late against their own runs
    _wait(lambda: all(db.legs(r["id"])["sender"]["state"] == "late" for r in (first, second)), 90,
          "the held messages to be recorded late")
    late = db.legs(first["id"])["sender"]
    assert late["delivery_seconds"] > DELIVERY
    metrics = mon.get("/metrics")[2]
    assert _metric(metrics, 'verifier_probe_late_arrivals_total{leg="sender",target="connector"}') >= 2
    assert _metric(metrics, 'verifier_probe_failures_total{leg="sender",reason="lost",target="connector"}') >= 2
    _wait(lambda: [b for b in hook.bodies[before:] if b["status"] == "resolved"], 60, "the recovery notification")
    states = [b["status"] for b in hook.bodies[before:]]
    assert states == ["firing", "resolved"], states


def _relay_postfix(lab: Lab, *args: str, what: str) -> None:
    from verifier.lab import system

    system.run(system.netns_cmd(*args), what=what)


def _hold_probes_on_the_smarthost(lab: Lab, on: bool) -> None:
    """Postfix HOLD on the smarthost for probe messages (header check), or release them."""
    d = lab.layout.postfix("relay")
    if on:
        (d / "hold_checks").write_text("/^X-Verifier-Probe:/ HOLD\n")
        _relay_postfix(lab, "postconf", "-c", str(d), "-e", f"header_checks = regexp:{d}/hold_checks", what="set hold")
    else:
        _relay_postfix(lab, "postconf", "-c", str(d), "-X", "header_checks", what="unset hold")
    _relay_postfix(lab, "postfix", "-c", str(d), "reload", what="reload the smarthost")
    if not on:
        _relay_postfix(lab, "postsuper", "-c", str(d), "-H", "ALL", what="release the held mail")
        _relay_postfix(lab, "postqueue", "-c", str(d), "-f", what="flush the smarthost")


def test_a_message_held_past_the_timeout_is_late_for_its_own_run(setup) -> None:
    db, lab = setup["db"], setup["lab"]
    _wait_quiet(db, "connector")
    t0 = time.time()
    _hold_probes_on_the_smarthost(lab, True)
    try:
        held = db.next_run("connector", t0)
        legs = db.legs(held["id"])
        assert legs["sender"]["state"] == "lost" and legs["control"]["state"] == "delivered"
        queued = [e for e in lab.queue("relay") if e.get("queue_name") == "hold"]
        assert queued, lab.queue("relay")
    finally:
        _hold_probes_on_the_smarthost(lab, False)
    t1 = time.time()
    after = db.next_run("connector", t1)
    assert after["ok"] == 1
    assert db.legs(after["id"])["sender"]["token"] != legs["sender"]["token"]
    _wait(lambda: db.legs(held["id"])["sender"]["state"] == "late", 60, "the held message to be recorded late")
    late = db.legs(held["id"])["sender"]
    assert late["delivery_seconds"] > DELIVERY and json.loads(late["timings_json"])["late_folder"] == "INBOX"
    assert db.legs(after["id"])["sender"]["state"] == "delivered"  # the next run counted only its own message


def test_a_kicked_watcher_of_the_running_monitor_reconnects_and_is_counted(setup) -> None:
    """Dovecot drops every session of the recipient (as a restart would) while the monitor
    runs: its shared watchers reconnect, the counter says so, and the next run still passes."""
    mon, db, lab = setup["mon"], setup["db"], setup["lab"]
    name = "verifier_monitor_imap_reconnects_total"
    before = _metric(mon.first_scrape(), name)
    assert before is not None
    _wait_quiet(db, "connector")  # between runs: the watchers wait in IDLE
    done = subprocess.run(["doveadm", "-c", str(lab.layout.dovecot / "dovecot.conf"), "kick", t.RECIPIENT],
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert done.returncode == 0 and t.RECIPIENT in done.stdout, done.stdout + done.stderr
    t0 = time.time()
    _wait(lambda: (_metric(mon.get("/metrics")[2], name) or 0) > before, 60, "the watchers to reconnect", 0.2)
    for target in ("connector", "platform"):
        run = db.next_run(target, t0)
        assert run["ok"] == 1, run["error"]


def test_kill_9_mid_run_then_restart(setup) -> None:
    mon, db = setup["mon"], setup["db"]
    pid = mon.proc.pid
    mid = _wait(lambda: db.q("SELECT legs.token, runs.id FROM legs JOIN runs ON runs.id = legs.run_id "
                             "WHERE runs.status='running' AND legs.state='sent'"), 60, "a run in progress", 0.02)
    os.kill(pid, signal.SIGKILL)
    mon.proc.wait(10)
    run_id = mid[0]["id"]
    tokens = [r["token"] for r in mid]
    con = sqlite3.connect(db.path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    mon.start()
    first = mon.first_scrape()
    for target in ("connector", "platform"):
        assert f'verifier_probe_success{{leg="sender",target="{target}"}}' in first
    assert 'verifier_probe_last_success_timestamp_seconds{leg="sender",target="connector"} 0.0' not in first
    _wait(lambda: db.q("SELECT status FROM runs WHERE id=?", run_id)[0]["status"] == "interrupted", 30, "the interrupted run")
    _wait(lambda: all(r["state"] == "late" for r in db.q(
        "SELECT state FROM legs WHERE run_id=? AND token IS NOT NULL", run_id)), 90, "the interrupted run's messages to be swept")
    prof = load_profile(str(_lab_profile(setup)))

    async def still_there() -> list[int]:
        found = []
        for folder in prof.recipient.folders:
            w = await _open(prof, folder)
            try:
                for token in tokens:
                    resp = await w.client.uid_search("TEXT", token, charset=None)
                    found += [int(x) for line in resp.lines if isinstance(line, bytes) and not line.startswith(b"SEARCH")
                              for x in line.split() if x.isdigit()]
            finally:
                await w.close()
        return found

    assert asyncio.run(still_there()) == []


def _lab_profile(setup) -> Path:
    path = setup["work"] / "lab.toml"
    if not path.exists():
        path.write_text(subprocess.run([sys.executable, "-m", "verifier", "lab", "env"], capture_output=True, text=True,
                                       timeout=60, check=True).stdout)
    return path
