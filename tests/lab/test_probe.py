"""`verifier probe` against the real lab: the route proven, faults, Junk, bounces, cleanup.

The connector is configured through the OVH API emulator with the platform
layer (real python-ovh client); the emulator's route hook rewrites the
platform Postfix's maps, so the API really decides the route the probe proves.
"""

from __future__ import annotations

import asyncio
import json
import os
import smtplib
import subprocess
import sys
import time
from dataclasses import replace
from email.message import EmailMessage
from email.utils import format_datetime, localtime, make_msgid
from pathlib import Path

import lab_support as ls
import pytest

from verifier.lab import topology as t
from verifier.lab.control import Lab
from verifier.probe import message as pm
from verifier.probe.imap import FolderWatch
from verifier.probe.profile import Profile, load_profile
from verifier.probe.run import run_probe, tls_context

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module", autouse=True)
def _state_home(lab: Lab, tmp_path_factory):
    """The probe's token secret in a directory of this test run (the CLI runs inherit it)."""
    old = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state"))
    pm._DEFAULT_KEYS.clear()
    yield
    if old is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = old
    pm._DEFAULT_KEYS.clear()


def _cli(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "verifier", *args], capture_output=True, text=True, timeout=180,
                          env=dict(os.environ), check=check)


@pytest.fixture(scope="module")
def profile_path(lab: Lab, tmp_path_factory) -> Path:
    out = _cli("lab", "env", check=True).stdout
    path = tmp_path_factory.mktemp("probe") / "lab.toml"
    path.write_text(out)
    return path


@pytest.fixture(scope="module")
def api(profile_path: Path):
    from verifier.platform.api import ExchangeApi
    from verifier.platform.client import ClientSettings, make_client

    prof = load_profile(str(profile_path))
    client, _ = make_client(ClientSettings(endpoint=prof.platform.endpoint, config_file=prof.platform.config_file))
    return ExchangeApi(client, t.ORGANIZATION, t.SERVICE)


@pytest.fixture(scope="module")
def connector_id(lab: Lab, api) -> int:
    for c in api.connectors():
        if c.smart_host == t.RELAY_NAME:
            return c.id
    password = lab.layout.password_file(t.RELAY_USER).read_text().strip()
    task = api.create_connector(display_name="probe relay", smart_host=t.RELAY_NAME, port=t.RELAY_PORT,
                                require_tls=True, auth_mechanism="basicAuthRequireTLS", user=t.RELAY_USER,
                                password=password)
    api.wait_task(task.id, timeout=30)
    return next(c.id for c in api.connectors() if c.smart_host == t.RELAY_NAME)


@pytest.fixture
def attached(api, connector_id: int):
    api.attach(t.ATTACHED_SENDER, connector_id)
    _wait_route(present=True)
    yield connector_id


def _wait_route(present: bool, lab_dir: str | None = None) -> None:
    """The route hook runs in the emulator's worker thread: wait until the map says so."""
    root = Path(lab_dir or os.environ["VERIFIER_LAB_DIR"])
    maps = list(root.rglob("sender_relay"))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = "".join(m.read_text() for m in maps if m.exists())
        if (t.ATTACHED_SENDER in text) == present:
            time.sleep(0.3)  # the reload that follows the map write
            return
        time.sleep(0.1)
    raise AssertionError(f"the platform's relay map did not {'gain' if present else 'lose'} {t.ATTACHED_SENDER}")


def _probe(profile_path: Path, **changes) -> tuple[Profile, object]:
    prof = load_profile(str(profile_path))
    if changes:
        prof = replace(prof, **changes)
    return prof, asyncio.run(run_probe(prof))


def _leg(result, role: str):
    return next(leg for leg in result.legs if leg.role == role)


def _codes(leg) -> set[str]:
    return {f.code for f in leg.analysis.findings}


def test_attached_goes_via_connector_and_control_is_bypassed(attached, profile_path: Path) -> None:
    _, r = _probe(profile_path)
    assert r.ok, [(leg.role, leg.verdict, leg.error) for leg in r.legs]
    s, c = _leg(r, "sender"), _leg(r, "control")
    assert s.verdict == "via-connector" and s.expectation.source == "api" and s.expectation.connector_id == attached
    assert c.verdict == "bypassed" and c.expectation.expect == "bypassed"
    # the smarthost's own hop, its DKIM signature, SPF pass for its egress address
    assert any(h.zone == "smarthost" and h.received.by_host == t.RELAY_NAME for h in s.analysis.hops)
    assert [sig.d for sig in s.analysis.headers.dkim_signatures] == [t.RELAY_DOMAIN]
    assert any(x.result == "pass" and x.client_ip == t.RELAY_EGRESS_IP for x in s.analysis.spf)
    assert {"border.from-smarthost", "spf.pass-smarthost-ip", "dkim.pass"} <= _codes(s)
    assert [v.result for v in s.checks.dkim] == ["pass"] and s.checks.dkim[0].body_checked
    assert not c.analysis.headers.dkim_signatures and "border.from-platform" in _codes(c)
    assert r.watch == "idle" and r.preflight is not None and r.preflight.ok
    assert s.timings["mailbox"] > 0 and s.timings["submit"] > 0


def test_detach_through_the_api_changes_the_route_and_the_history_says_so(attached, api, profile_path: Path, tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    first = _cli("probe", "--profile", str(profile_path), "--history", str(history), "--json", "--quiet")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["route_changes"] == []
    api.detach(t.ATTACHED_SENDER)
    _wait_route(present=False)
    second = _cli("probe", "--profile", str(profile_path), "--history", str(history), "--quiet")
    assert second.returncode == 0, second.stdout + second.stderr  # the API now expects bypassed too
    assert "ROUTE CHANGED for the sender: via-connector -> bypassed" in second.stdout
    assert len(history.read_text().splitlines()) == 2


@pytest.mark.parametrize(
    "fault, step, timeout",
    # the relay answers a wrong password slowly (about 20 s over its mechanisms): a longer --timeout
    [("smarthost-down", "connect", "6"), ("smarthost-password", "auth", "30"), ("smarthost-no-starttls", "starttls", "6")],
)
def test_a_broken_smarthost_is_not_delivered_with_the_preflight_reason(lab: Lab, attached, profile_path: Path, fault: str, step: str,
                                                                       timeout: str) -> None:
    lab.set_fault(fault, True)
    try:
        proc = _cli("probe", "--profile", str(profile_path), "--timeout", timeout, "--json", "--quiet")
    finally:
        lab.set_fault(fault, False)  # also flushes the platform's queue: the stuck probe is delivered late
    assert proc.returncode == 11, proc.stdout + proc.stderr
    obj = json.loads(proc.stdout)
    legs = {leg["role"]: leg for leg in obj["legs"]}
    assert legs["sender"]["verdict"] == "not-delivered"
    assert f"failed at '{step}'" in legs["sender"]["error"]
    assert legs["control"]["verdict"] == "bypassed" and legs["control"]["as_expected"]
    assert obj["preflight"]["steps"] and not all(s["status"] != "fail" for s in obj["preflight"]["steps"])


def test_the_overall_timeout_still_reports_when_the_smarthost_check_is_slow(lab: Lab, attached, profile_path: Path) -> None:
    """--timeout bounds the run: the smartHost check (slow to refuse a bad password) is read
    only within the deadline, and the verdict still comes."""
    lab.set_fault("smarthost-password", True)
    try:
        proc = _cli("probe", "--profile", str(profile_path), "--timeout", "8", "--json", "--quiet")
        # Nagios: more room, so a loaded machine still ends inside the deadline.
        nag = _cli("probe", "--profile", str(profile_path), "--timeout", "15", "--nagios", "-w", "3", "-c", "5")
    finally:
        lab.set_fault("smarthost-password", False)
    assert proc.returncode == 11, proc.stdout + proc.stderr
    legs = {leg["role"]: leg for leg in json.loads(proc.stdout)["legs"]}
    # The relay takes seconds to refuse: either the deadline came first, or its refusal did.
    error = legs["sender"]["error"]
    assert "the smartHost check had not finished" in error or "failed at 'auth'" in error, error
    assert legs["control"]["as_expected"]
    assert nag.returncode == 2, nag.stdout + nag.stderr
    assert nag.stdout.startswith("VERIFIER PROBE CRITICAL - ") and " sender_delivery=U;3;5;0 " in nag.stdout


def test_a_broken_dkim_key_still_reaches_a_verdict_with_a_dkim_failure(lab: Lab, attached, profile_path: Path) -> None:
    lab.set_fault("dkim-wrong-key", True)
    try:
        _, r = _probe(profile_path)
    finally:
        lab.set_fault("dkim-wrong-key", False)
    s = _leg(r, "sender")
    assert s.verdict == "via-connector"
    assert "dkim.fail" in _codes(s)
    assert [v.result for v in s.checks.dkim] == ["fail"]


def test_a_message_filed_into_junk_is_found(attached, profile_path: Path) -> None:
    _, r = _probe(profile_path, subject_prefix=t.SPAM_TRIGGER)
    assert r.ok
    assert {leg.found.folder for leg in r.legs} == {"Junk"}


def test_imap_without_idle_is_polled(lab: Lab, attached, profile_path: Path) -> None:
    lab.set_fault("imap-no-idle", True)
    try:
        _, r = _probe(profile_path)
    finally:
        lab.set_fault("imap-no-idle", False)
    assert r.watch == "poll"
    assert r.ok


def _deliver_to_mx(msg: EmailMessage, sender: str = "") -> None:
    """Hand a message straight to the recipient's MX, as another sender on the Internet would."""
    with smtplib.SMTP(t.MX_IP, 25, local_hostname=t.CLIENT_NAME, timeout=15) as s:
        s.send_message(msg, from_addr=sender, to_addrs=[t.RECIPIENT])


async def _open(prof: Profile, folder: str) -> FolderWatch:
    rec = prof.recipient
    w = FolderWatch(address=rec.connect_address or t.MX_IP, port=rec.port, server_hostname=rec.host,
                    ssl_context=tls_context(prof), username=rec.username, password=rec.password.reveal("test"),
                    folder=folder, timeout=10)
    await w.open()
    return w


async def _search_subject(prof: Profile, text: str) -> list[int]:
    w = await _open(prof, "INBOX")
    try:
        resp = await w.client.uid_search("SUBJECT", f'"{text}"', charset=None)
        return [int(x) for line in resp.lines if isinstance(line, bytes) and not line.startswith(b"SEARCH")
                for x in line.split() if x.isdigit()]
    finally:
        await w.close()


def test_a_bounce_for_the_probe_is_a_failure(lab: Lab, attached, profile_path: Path) -> None:
    prof = load_profile(str(profile_path))
    lab.set_fault("smarthost-down", True)  # the real message stays queued on the platform

    def bounce(leg) -> None:
        if leg.role != "sender":
            return
        dsn = EmailMessage()
        dsn["From"] = "MAILER-DAEMON@mail.platform.test (Mail Delivery System)"
        dsn["To"] = t.RECIPIENT
        dsn["Subject"] = "Undelivered Mail Returned to Sender"
        dsn["Date"] = format_datetime(localtime())
        dsn["Message-ID"] = make_msgid(domain="platform.test")
        dsn.set_content(f"This is the mail system.\n\nYour message {leg.token} could not be delivered.\n")
        dsn.add_attachment(f"Reporting-MTA: dns; mail.platform.test\n\nFinal-Recipient: rfc822; {t.RECIPIENT}\nAction: failed\nStatus: 5.0.0\n",
                           subtype="delivery-status")
        dsn.replace_header("Content-Type", dsn["Content-Type"].replace("multipart/mixed", "multipart/report") + "; report-type=delivery-status")
        _deliver_to_mx(dsn)

    try:
        r = asyncio.run(run_probe(replace(prof, delivery_timeout=15), on_submitted=bounce))
    finally:
        lab.set_fault("smarthost-down", False)
    s = _leg(r, "sender")
    assert s.verdict == "not-delivered" and s.bounce is not None and s.found is None
    assert "bounce" in s.error
    assert not r.ok


def _lookalike(sender: str, token: str, marker: str, *, header: bool = True, subject_token: bool = True) -> bytes:
    msg = pm.build(sender, t.RECIPIENT, token, "sender", localtime())
    msg.replace_header("Subject", f"verifier probe {token if subject_token else ''} (sender) {marker}")
    if not header:
        del msg[pm.PROBE_HEADER]
    return bytes(msg)


def test_the_sweep_deletes_only_old_leftovers_it_proves_its_own(lab: Lab, attached, profile_path: Path) -> None:
    """Forged look-alikes planted with old INTERNALDATEs all survive, unflagged; a real old leftover is swept."""
    prof = load_profile(str(profile_path))
    key = pm.key_for(prof.secret_file)
    old = time.time() - 3 * 86400
    ours = prof.sender.address
    run = f"sweep-{os.getpid()}-{time.time_ns()}"
    real = key.new_token(int(old))
    body = key.new_token(int(old)).rsplit("-", 1)[0]
    wrong_mac = f"{body}-{'0' * 24}" if not key.is_own_token(f"{body}-{'0' * 24}") else f"{body}-{'1' * 24}"
    survivors = {
        "wrong-mac": (_lookalike(ours, wrong_mac, f"{run}-wrong-mac"), old),
        "old-shape": (_lookalike(ours, "vprobe-00000001" + "ab" * 8, f"{run}-old-shape"), old),
        "subject-only": (_lookalike(ours, key.new_token(int(old)), f"{run}-subject-only", header=False), old),
        "foreign-sender": (_lookalike("mallory@elsewhere.test", key.new_token(int(old)), f"{run}-foreign-sender"), old),
        # a token made long ago, in a message the server received just now: the age is the server's
        "young-by-internaldate": (_lookalike(ours, key.new_token(int(old)), f"{run}-young-by-internaldate"), None),
        "unrelated": (f"From: friend@elsewhere.test\r\nTo: {t.RECIPIENT}\r\nSubject: lunch? {run}-unrelated\r\n\r\nNot a probe.\r\n".encode(), old),
    }
    for raw, when in survivors.values():
        ls.plant(lab, raw, internaldate=when)
    ls.plant(lab, _lookalike(ours, real, f"{run}-real"), internaldate=old)
    _, before = ls.mailbox_state(lab)

    r = asyncio.run(run_probe(prof))
    assert r.ok, [(leg.role, leg.verdict, leg.error) for leg in r.legs]
    assert r.swept == 1 and r.cleanup_error is None

    _, after = ls.mailbox_state(lab)
    subjects = {uid: subj for uid, (_, subj) in after.items()}
    for name in survivors:
        uids = [u for u, subj in subjects.items() if f"{run}-{name}".encode() in subj]
        assert len(uids) == 1, f"the {name} look-alike did not survive the sweep"
        flags_before = before[uids[0]][0]
        assert after[uids[0]][0] == flags_before and b"Deleted" not in after[uids[0]][0], name
    assert not any(f"{run}-real".encode() in subj for subj in subjects.values())
    # the sweep took exactly one message of those present before the run
    assert set(before) - set(after) == {u for u, (_, subj) in before.items() if f"{run}-real".encode() in subj}
    for leg in r.legs:  # and this run's own messages are gone
        assert asyncio.run(_search_subject(prof, leg.token)) == []


def test_a_mailbox_at_its_connection_limit_is_exit_14_with_the_servers_reason(lab: Lab, attached, profile_path: Path) -> None:
    """Dovecot at its default mail_max_userip_connections: the refusal is not a login failure."""
    held = []
    refusal = None
    try:
        for _ in range(30):
            try:
                held.append(ls.imap(lab))
            except Exception as exc:  # noqa: BLE001 - the server's refusal is what we are after
                refusal = str(exc)
                break
        assert refusal is not None and len(held) == 10, (len(held), refusal)  # Dovecot's default limit
        assert "Maximum number of connections from user+IP exceeded" in refusal
        proc = _cli("probe", "--profile", str(profile_path), "--quiet")
        assert proc.returncode == 14, proc.stdout + proc.stderr
        assert "Maximum number of connections from user+IP exceeded" in proc.stderr
        assert "refused the login" not in proc.stderr
        nag = _cli("probe", "--profile", str(profile_path), "--nagios")
        assert nag.returncode == 3 and nag.stdout.startswith("VERIFIER PROBE UNKNOWN - ") and "Maximum number of connections" in nag.stdout
    finally:
        for c in held:
            try:
                c.logout()
            except Exception:  # noqa: BLE001
                pass
