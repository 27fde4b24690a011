"""Each fault switch, shown by its effect on the mail flow, then switched back.

The smarthost faults hold newsletter@'s message in the platform's queue (with the
reason Postfix gives); switching the fault off retries the queue and the message
arrives through the smarthost.
"""

from __future__ import annotations

import pytest
from lab_support import delay_reasons, find, imap, new_tag, queued, submit
from test_mail_flow import attached  # noqa: F401 - the module fixture attaching newsletter@

from verifier.errors import LabError
from verifier.lab import topology as t
from verifier.lab.control import FAULTS, Lab

pytestmark = pytest.mark.lab


def _held_then_delivered(lab: Lab, fault: str, reason_words: tuple[str, ...]) -> None:
    assert lab.set_fault(fault, True)
    try:
        assert fault in lab.status()["faults"]
        sent = submit(lab, t.ATTACHED_SENDER, tag=new_tag(fault))
        entries = queued(lab, t.ATTACHED_SENDER)
        reasons = delay_reasons(entries)
        assert entries and any(w.lower() in reasons.lower() for w in reason_words), reasons
        assert find(lab, sent.tag, timeout=1.0) is None, "delivered although the smarthost is broken"
    finally:
        assert lab.set_fault(fault, False)
    found = find(lab, sent.tag, timeout=30)
    assert found is not None, f"not delivered after {fault} was switched off"
    assert any(f"by {t.RELAY_NAME}" in r for r in found.all("Received"))
    assert not [e for e in lab.queue("platform") if e.get("sender") == t.ATTACHED_SENDER]


def test_smarthost_down_holds_mail(lab: Lab, attached: int) -> None:  # noqa: F811
    _held_then_delivered(lab, "smarthost-down", ("connection refused",))
    assert lab.status()["components"]["postfix-relay"]["up"]


def test_smarthost_password_change_fails_auth(lab: Lab, attached: int) -> None:  # noqa: F811
    _held_then_delivered(lab, "smarthost-password", ("535", "authentication failed"))


def test_smarthost_without_starttls_fails_required_tls(lab: Lab, attached: int) -> None:  # noqa: F811
    _held_then_delivered(lab, "smarthost-no-starttls", ("TLS is required, but was not offered",))


def test_wrong_dkim_key_fails_verification(lab: Lab, attached: int) -> None:  # noqa: F811
    assert lab.set_fault("dkim-wrong-key", True)
    try:
        sent = submit(lab, t.ATTACHED_SENDER, tag=new_tag("dkim-wrong"))
        found = find(lab, sent.tag)
        assert found is not None
        ar = " ".join(found.all("Authentication-Results"))
        assert "dkim=fail" in ar and "header.d=relay.test" in ar, ar
    finally:
        assert lab.set_fault("dkim-wrong-key", False)
    sent = submit(lab, t.ATTACHED_SENDER, tag=new_tag("dkim-right"))
    found = find(lab, sent.tag)
    assert found is not None
    assert "dkim=pass" in " ".join(found.all("Authentication-Results"))


def test_imap_without_idle(lab: Lab) -> None:
    assert lab.set_fault("imap-no-idle", True)
    try:
        conn = imap(lab)
        try:
            assert "IDLE" not in conn.capabilities
        finally:
            conn.logout()
        # Mail still arrives; a client has to poll for it.
        sent = submit(lab, t.CONTROL_SENDER, tag=new_tag("no-idle"))
        assert find(lab, sent.tag) is not None
    finally:
        assert lab.set_fault("imap-no-idle", False)
    conn = imap(lab)
    try:
        assert "IDLE" in conn.capabilities
    finally:
        conn.logout()


def test_fault_switches_are_idempotent_and_named(lab: Lab) -> None:
    assert set(FAULTS) == {"smarthost-down", "smarthost-password", "smarthost-no-starttls",
                           "dkim-wrong-key", "imap-no-idle"}
    assert lab.set_fault("imap-no-idle", False) is False  # already off
    with pytest.raises(LabError, match="Unknown fault"):
        lab.set_fault("no-such-fault", True)
    assert lab.status()["faults"] == []


def test_a_crashed_opendkim_is_started_afresh_and_mail_keeps_flowing(lab: Lab) -> None:
    """Debian's OpenDKIM 2.11 now and then dies of a general protection fault under many
    concurrent sessions. The lab's keeper starts a fresh OpenDKIM (not OpenDKIM's own
    AutoRestart, whose restarted worker once tempfailed every later message), so the MX's
    milter is back at once and every message after the crash arrives with the MX's own
    Authentication-Results."""
    import os
    import signal
    from pathlib import Path

    from verifier.lab import system

    keeper = lab.load()["pids"]["opendkim-verify"]
    children = Path(f"/proc/{keeper}/task/{keeper}/children")
    daemon = int(children.read_text().split()[0])
    assert Path(f"/proc/{daemon}/comm").read_text().strip() == "opendkim"
    os.kill(daemon, signal.SIGSEGV)
    assert system.wait_until(lambda: children.read_text().split() not in ([], [str(daemon)]), 10), "no new OpenDKIM"
    assert system.pid_alive(keeper)
    assert system.wait_until(lambda: system.in_netns(lambda: system.tcp_open("127.0.0.1", t.DKIM_VERIFY_PORT)), 10)
    start_log = (lab.layout.log / "start-opendkim-verify.log").read_text()
    assert f"(pid {daemon}) exited with signal {int(signal.SIGSEGV)}; starting it again" in start_log, start_log[-2000:]
    tags = [(sender, new_tag("dkim-restart")) for sender in (t.CONTROL_SENDER, t.CONTROL_SENDER, t.CONTROL_SENDER)]
    for sender, tag in tags:
        submit(lab, sender, tag=tag)
    for sender, tag in tags:
        found = find(lab, tag, timeout=60)
        assert found is not None, f"not delivered after the restart: {delay_reasons(queued(lab, sender))}"
        assert any(ar.startswith(t.MX_NAME + ";") for ar in found.all("Authentication-Results")), found.all("Authentication-Results")
    syslog = lab.layout.log / "syslog.log"
    if lab.load().get("syslog") == "lab":  # the lab's own sink: OpenDKIM's lines are in its log
        assert syslog.read_text().count("verify.conf)") >= 2, "OpenDKIM's start lines are missing from syslog.log"
