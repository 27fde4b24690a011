"""The two routes through real servers: via the send connector (smarthost) and direct.

The route for newsletter@ is installed through the OVH API emulator (real
python-ovh client), whose route hook rewrites the platform Postfix's maps.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import ovh
import pytest
from lab_support import find, new_tag, password, submit

from verifier.lab import topology as t
from verifier.lab.control import Lab

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "headers"
LATENCY: dict[str, float] = {}


def ovh_client(lab: Lab) -> ovh.Client:
    state = lab.load()
    # python-ovh knows endpoints by name; register the emulator's URL under one.
    ovh.client.ENDPOINTS["verifier-lab-test"] = state["ovh"]["endpoint"]
    return ovh.Client(
        endpoint="verifier-lab-test",
        application_key=state["ovh"]["application_key"],
        application_secret=(lab.layout.secrets / "ovh-application-secret").read_text().strip(),
        consumer_key=(lab.layout.secrets / "ovh-consumer-key").read_text().strip(),
    )


def wait_task(client: ovh.Client, base: str, task_id: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = client.get(f"{base}/task/{task_id}")
        if task["status"] == "done":
            return
        assert task["status"] in ("todo", "doing"), task
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} not done in {timeout} s")


@pytest.fixture(scope="module")
def attached(lab: Lab) -> int:
    """Attach newsletter@ to a send connector for the lab's smarthost, through the API."""
    client = ovh_client(lab)
    base = f"/email/exchange/{t.ORGANIZATION}/service/{t.SERVICE}"
    ids = client.get(f"{base}/sendConnector")
    cid = None
    for existing in ids:
        if client.get(f"{base}/sendConnector/{existing}")["smartHost"] == t.RELAY_NAME:
            cid = existing
    if cid is None:
        task = client.post(
            f"{base}/sendConnector",
            displayName="lab relay",
            smartHost=t.RELAY_NAME,
            port=t.RELAY_PORT,
            requireTLS=True,
            smartHostAuthMechanism="basicAuthRequireTLS",
            user=t.RELAY_USER,
            password=password(lab, t.RELAY_USER),
        )
        wait_task(client, base, task["id"])
        cid = next(i for i in client.get(f"{base}/sendConnector")
                   if client.get(f"{base}/sendConnector/{i}")["smartHost"] == t.RELAY_NAME)
    account = client.get(f"{base}/account/{t.ATTACHED_SENDER}")
    spam = dict(account["spamAndVirusConfiguration"], deleteVirus=True)
    client.put(f"{base}/account/{t.ATTACHED_SENDER}", spamAndVirusConfiguration=spam)
    client.put(f"{base}/account/{t.ATTACHED_SENDER}", sendConnectorId=cid)
    relay_map = lab.layout.platform_maps / "sender_relay"
    deadline = time.monotonic() + 20
    while t.ATTACHED_SENDER not in relay_map.read_text():
        assert time.monotonic() < deadline, "the route hook did not write the relay map"
        time.sleep(0.1)
    time.sleep(0.5)  # the reload that follows the map
    return cid


def test_route_hook_wrote_the_platform_maps(lab: Lab, attached: int) -> None:
    maps = lab.layout.platform_maps
    assert f"{t.ATTACHED_SENDER} [{t.RELAY_NAME}]:{t.RELAY_PORT}" in (maps / "sender_relay").read_text()
    assert t.CONTROL_SENDER not in (maps / "sender_relay").read_text()
    assert f"[{t.RELAY_NAME}]:{t.RELAY_PORT} secure match=hostname" in (maps / "tls_policy").read_text()
    sasl = maps / "sasl_passwd"
    assert os.stat(sasl).st_mode & 0o777 == 0o600
    has_login = f"{t.ATTACHED_SENDER} {t.RELAY_USER}:" in sasl.read_text()
    assert has_login, "no login for the attached sender in sasl_passwd"  # the text holds a password


def _save_fixture(name: str, headers: bytes) -> None:
    """Keep the capture in the lab directory; refresh fixtures/headers/ when asked (or missing)."""
    text = headers.replace(b"\r\n", b"\n")
    captures = Path(os.environ["VERIFIER_LAB_DIR"]) / "captures"
    captures.mkdir(exist_ok=True)
    (captures / name).write_bytes(text)
    target = FIXTURES / name
    if os.environ.get("VERIFIER_LAB_CAPTURE_FIXTURES") == "1" or not target.exists():
        FIXTURES.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text)


def test_attached_sender_leaves_through_the_smarthost(lab: Lab, attached: int) -> None:
    sent = submit(lab, t.ATTACHED_SENDER, tag=new_tag("via"))
    found = find(lab, sent.tag)
    assert found is not None, "the message from the attached sender never reached the mailbox"
    LATENCY["via-connector"] = found.seen_at - sent.at
    assert found.folder == "INBOX"
    received = found.all("Received")
    # newest first: MX LMTP, MX from the relay's egress, relay from the platform, platform from the client
    assert any(f"by {t.RELAY_NAME}" in r and f"from {t.PLATFORM_NAME}" in r for r in received), received
    assert any(f"from {t.RELAY_EGRESS_NAME}" in r and f"[{t.RELAY_EGRESS_IP}]" in r and f"by {t.MX_NAME}" in r
               for r in received), received
    assert not any(f"from {t.PLATFORM_NAME}" in r and f"by {t.MX_NAME}" in r for r in received)
    sigs = found.all("DKIM-Signature")
    assert any(re.search(r"\bd=relay\.test;", s) and f"s={t.DKIM_SELECTOR};" in s for s in sigs), sigs
    spf = found.all("Received-SPF")
    assert spf and spf[0].lower().startswith("pass"), spf
    assert f"client-ip={t.RELAY_EGRESS_IP}" in spf[0]
    assert found.message["Return-Path"] == f"<bounce+newsletter=mydomain.test@{t.RELAY_BOUNCE_DOMAIN}>"
    ar = found.all("Authentication-Results")
    assert any(a.startswith(f"{t.MX_NAME};") and "dkim=pass" in a and "header.d=relay.test" in a for a in ar), ar
    _save_fixture("lab-via-connector.eml", found.headers)


def test_unattached_sender_goes_direct(lab: Lab, attached: int) -> None:
    sent = submit(lab, t.CONTROL_SENDER, tag=new_tag("direct"))
    found = find(lab, sent.tag)
    assert found is not None, "the message from the unattached sender never reached the mailbox"
    LATENCY["direct"] = found.seen_at - sent.at
    received = found.all("Received")
    assert not any(t.RELAY_NAME in r or t.RELAY_EGRESS_NAME in r for r in received), received
    assert any(f"from {t.PLATFORM_NAME}" in r and f"[{t.PLATFORM_IP}]" in r and f"by {t.MX_NAME}" in r
               for r in received), received
    assert not found.all("DKIM-Signature")
    spf = found.all("Received-SPF")
    assert spf and spf[0].lower().startswith("pass") and f"client-ip={t.PLATFORM_IP}" in spf[0], spf
    assert t.CONTROL_SENDER in found.message["Return-Path"]
    ar = found.all("Authentication-Results")
    assert any(a.startswith(f"{t.MX_NAME};") and "dkim=none" in a for a in ar), ar
    _save_fixture("lab-direct.eml", found.headers)


def test_spam_marked_message_lands_in_junk(lab: Lab) -> None:
    sent = submit(lab, t.CONTROL_SENDER, tag=new_tag("spam"), subject_extra=t.SPAM_TRIGGER + " ")
    found = find(lab, sent.tag)
    assert found is not None
    assert found.folder == "Junk"
    assert found.message["X-Spam-Flag"] == "YES"


def test_imap_starttls_and_idle_offered(lab: Lab) -> None:
    from lab_support import imap

    conn = imap(lab, starttls=True)
    try:
        assert "IDLE" in conn.capabilities
        typ, folders = conn.list()
        names = b" ".join(folders)
        assert b"INBOX" in names and b"Junk" in names
    finally:
        conn.logout()


def test_submission_refuses_a_wrong_password(lab: Lab) -> None:
    import aiosmtplib

    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        submit(lab, t.CONTROL_SENDER, login_password="not-the-password")


def _maildir_time(lab: Lab, tag: str) -> float | None:
    """When Dovecot wrote the message: the microsecond timestamp in its maildir file name."""
    user, domain = t.RECIPIENT.split("@")
    root = lab.layout.mail / domain / user / "Maildir"
    for path in root.glob("**/[0-9]*.M*"):
        try:
            if tag.encode() in path.read_bytes()[:8192]:
                seconds, rest = path.name.split(".", 2)[:2]
                micro = re.match(r"M(\d+)", rest)
                return int(seconds) + (int(micro.group(1)) / 1e6 if micro else 0.0)
        except OSError:
            continue
    return None


def test_latency_per_path(lab: Lab, attached: int) -> None:
    """Submit-to-mailbox latency, 5 rounds per path (printed with -s; only sanity-checked here)."""
    import statistics

    for label, sender in (("direct", t.CONTROL_SENDER), ("via-connector", t.ATTACHED_SENDER)):
        to_maildir: list[float] = []
        to_imap: list[float] = []
        for _ in range(5):
            sent = submit(lab, sender, tag=new_tag("latency"))
            found = find(lab, sent.tag, interval=0.02)
            assert found is not None
            written = _maildir_time(lab, sent.tag)
            assert written is not None
            to_maildir.append(written - sent.at)
            to_imap.append(found.seen_at - sent.at)
        LATENCY[label] = statistics.median(to_maildir)
        print(
            f"\nsubmit-to-maildir {label}: median {statistics.median(to_maildir) * 1000:.0f} ms "
            f"(min {min(to_maildir) * 1000:.0f}, max {max(to_maildir) * 1000:.0f}); "
            f"found over IMAP (polling) median {statistics.median(to_imap) * 1000:.0f} ms"
        )
        assert statistics.median(to_maildir) < 5


def test_idle_reports_a_new_message(lab: Lab) -> None:
    """IMAP IDLE (RFC 2177) by hand: imaplib has no idle() before Python 3.14."""
    from lab_support import imap

    conn = imap(lab, starttls=True)
    try:
        assert "IDLE" in conn.capabilities
        conn.select("INBOX")
        tag = conn._new_tag()
        conn.send(tag + b" IDLE\r\n")
        assert conn.readline().startswith(b"+")
        sent = submit(lab, t.CONTROL_SENDER, tag=new_tag("idle"))
        conn.sock.settimeout(10)
        line = b""
        while b"EXISTS" not in line:
            line = conn.readline()
            assert line, "the server closed the connection during IDLE"
        LATENCY["idle-direct"] = time.time() - sent.at
        conn.send(b"DONE\r\n")
        while not line.startswith(tag):
            line = conn.readline()
        assert b" OK" in line
        print(f"\nIDLE reported the direct message {LATENCY['idle-direct'] * 1000:.0f} ms after submission")
    finally:
        conn.logout()


def test_no_secret_in_any_log(lab: Lab, attached: int) -> None:
    secrets = [p.read_text().strip() for p in lab.layout.secrets.glob("*.password")]
    secrets += [(lab.layout.secrets / n).read_text().strip() for n in ("ovh-application-secret", "ovh-consumer-key")]
    assert all(len(s) >= 16 for s in secrets)
    for log in lab.layout.log.glob("*"):
        text = log.read_text(errors="replace")
        for secret in secrets:
            assert secret not in text, f"a secret is written in {log}"


def test_detaching_through_the_api_sends_direct_again(lab: Lab, attached: int) -> None:
    client = ovh_client(lab)
    base = f"/email/exchange/{t.ORGANIZATION}/service/{t.SERVICE}"
    relay_map = lab.layout.platform_maps / "sender_relay"

    def wait_map(present: bool) -> None:
        deadline = time.monotonic() + 20
        while (t.ATTACHED_SENDER in relay_map.read_text()) != present:
            assert time.monotonic() < deadline, "the route hook did not rewrite the relay map"
            time.sleep(0.1)
        time.sleep(0.5)  # the reload that follows the map

    client.put(f"{base}/account/{t.ATTACHED_SENDER}", sendConnectorId=None)
    try:
        wait_map(False)
        still = t.ATTACHED_SENDER in (lab.layout.platform_maps / "sasl_passwd").read_text()
        assert not still, "the detached sender still has a login in sasl_passwd"  # text holds a password
        sent = submit(lab, t.ATTACHED_SENDER, tag=new_tag("detached"))
        found = find(lab, sent.tag)
        assert found is not None
        received = found.all("Received")
        assert not any(t.RELAY_NAME in r for r in received), received
        assert any(f"from {t.PLATFORM_NAME}" in r and f"by {t.MX_NAME}" in r for r in received), received
    finally:
        client.put(f"{base}/account/{t.ATTACHED_SENDER}", sendConnectorId=attached)
        wait_map(True)
