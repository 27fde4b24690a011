"""Many probes through one MailboxHub against the real lab: each finds only its own message,
deletes only its own UIDs, and everything else in the mailbox stays, unflagged."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import replace
from email.utils import localtime
from pathlib import Path

import lab_support as ls
import pytest
from test_probe import _state_home, api, attached, connector_id, profile_path  # noqa: F401 - fixtures

from verifier.lab import topology as t
from verifier.lab.control import Lab
from verifier.probe import message as pm
from verifier.probe.mailbox import MailboxHub
from verifier.probe.profile import load_profile
from verifier.probe.run import run_probe

pytestmark = pytest.mark.lab

PROBES = 40  # 200 run in bench/bench_probe_concurrency.py


def _message(sender: str, subject: str, header: str | None) -> bytes:
    lines = [f"From: {sender}", f"To: {t.RECIPIENT}", f"Subject: {subject}", "Date: " + localtime().strftime("%a, %d %b %Y %H:%M:%S %z")]
    if header is not None:
        lines.append(f"{pm.PROBE_HEADER}: {header}")
    return ("\r\n".join(lines) + "\r\n\r\nNot a message of this probe run.\r\n").encode()


def test_concurrent_probes_through_one_hub_touch_only_their_own_messages(lab: Lab, attached, profile_path: Path) -> None:  # noqa: F811
    prof = replace(load_profile(str(profile_path)), delivery_timeout=180)
    key = pm.key_for(prof.secret_file)
    ours = prof.sender.address
    run = f"hub-{os.getpid()}-{time.time_ns()}"
    forged = key.new_token(int(time.time())).rsplit("-", 1)[0] + "-" + "0" * 24
    planted_before = {
        f"{run}-unrelated": _message("friend@elsewhere.test", f"lunch? {run}-unrelated", None),
        f"{run}-wrong-mac": _message(ours, f"verifier probe {forged} (sender) {run}-wrong-mac", f"{forged}; role=sender"),
        f"{run}-unsigned": _message(ours, f"verifier probe vprobe-{'ab' * 12} {run}-unsigned", f"vprobe-{'ab' * 12}; role=sender"),
        f"{run}-foreign": _message("mallory@elsewhere.test", f"{run}-foreign", f"{key.new_token(int(time.time()))}; role=sender"),
    }
    for raw in planted_before.values():
        ls.plant(lab, raw)
    ls.plant(lab, _message("friend@elsewhere.test", f"junk {run}-junk", None), folder="Junk")
    before = {f: ls.mailbox_state(lab, f) for f in prof.recipient.folders}

    planted_during: list[str] = []
    late: list[str] = []
    peak = [0]

    async def main():
        async with MailboxHub(on_late=lambda token, _f: late.append(token)) as hub:
            def submitted(i: int, leg):
                peak[0] = max(peak[0], hub.connections())
                if leg.role == "sender" and i % 8 == 0:
                    # a look-alike lands while the probes wait: the shared watchers examine it too
                    name = f"{run}-during-{i}"
                    planted_during.append(name)
                    fake = key.new_token(int(time.time())).rsplit("-", 1)[0] + "-" + "1" * 24
                    return asyncio.to_thread(ls.plant, lab, _message(ours, f"verifier probe {fake} {name}", f"{fake}; role=sender"))
                return None

            results = await asyncio.gather(*(run_probe(prof, hub=hub, on_submitted=lambda leg, i=i: submitted(i, leg))
                                             for i in range(PROBES)))
            return results, hub.connections()

    results, open_at_end = asyncio.run(main())
    assert peak[0] <= len(prof.recipient.folders) and open_at_end <= len(prof.recipient.folders)

    found: dict[str, set[int]] = {f: set() for f in prof.recipient.folders}
    for r in results:
        assert r.ok, [(leg.role, leg.verdict, leg.error) for leg in r.legs]
        assert r.cleanup_error is None
        for leg in r.legs:
            assert leg.found is not None and pm.carries(leg.found.raw, leg.token)
            assert pm.proven_own(leg.found.raw, (leg.account.address,), key, token=leg.token) == leg.token
            assert leg.found.uid not in found[leg.found.folder], "two probes took the same message"
            found[leg.found.folder].add(leg.found.uid)
    assert sum(len(v) for v in found.values()) == PROBES * 2
    assert late == []

    for folder in prof.recipient.folders:
        uidnext_before, msgs_before = before[folder]
        uidnext_after, msgs_after = ls.mailbox_state(lab, folder)
        existed = set(msgs_before) | set(range(uidnext_before, uidnext_after))
        deleted = existed - set(msgs_after)
        # exactly the probes' own UIDs went, nothing else
        assert deleted == found[folder], (folder, sorted(deleted ^ found[folder])[:10])
        for uid, (flags, _subj) in msgs_after.items():
            if uid in msgs_before:
                assert flags == msgs_before[uid][0], (folder, uid)
    subjects = b"".join(s for _, s in ls.mailbox_state(lab, "INBOX")[1].values())
    for name in [*planted_before, *planted_during]:
        assert name.encode() in subjects, name
    assert f"{run}-junk".encode() in b"".join(s for _, s in ls.mailbox_state(lab, "Junk")[1].values())


def _kick(lab: Lab) -> None:
    """Dovecot drops every session of the recipient (`doveadm kick`), as a server restart would."""
    import subprocess

    done = subprocess.run(["doveadm", "-c", str(lab.layout.dovecot / "dovecot.conf"), "kick", t.RECIPIENT],
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert done.returncode == 0 and t.RECIPIENT in done.stdout, done.stdout + done.stderr


def test_a_watcher_the_server_drops_reconnects_and_the_probe_still_finds_its_message(
        lab: Lab, attached, profile_path: Path) -> None:  # noqa: F811
    prof = replace(load_profile(str(profile_path)), delivery_timeout=60)
    kicked: list[str] = []
    told: list[int] = []

    async def main():
        async with MailboxHub(on_reconnect=lambda: told.append(1)) as hub:
            def submitted(leg):
                if not kicked:  # after the first submission, while the watchers wait
                    kicked.append(leg.role)
                    return asyncio.to_thread(_kick, lab)
                return None

            result = await run_probe(prof, hub=hub, on_submitted=submitted)
            return result, hub.reconnects, hub.connections()

    result, reconnects, connections = asyncio.run(main())
    assert kicked, "the mailbox was never kicked"
    assert result.ok, [(leg.role, leg.verdict, leg.error) for leg in result.legs]
    assert {leg.role: leg.verdict for leg in result.legs} == {"sender": "via-connector", "control": "bypassed"}
    assert reconnects >= 1 and connections <= len(prof.recipient.folders)
    assert len(told) == reconnects  # what the monitor counts as verifier_monitor_imap_reconnects_total
    assert result.cleanup_error is None


def _take_every_slot(lab: Lab, limit: int = 10) -> list:
    """Open ``limit`` IMAP sessions at once (Dovecot's default per user and address); the
    ones that opened (fewer when another client was quicker to a slot)."""
    from concurrent.futures import ThreadPoolExecutor

    def one():
        try:
            return ls.imap(lab)
        except Exception:  # noqa: BLE001 - a refusal: another client holds that slot
            return None

    with ThreadPoolExecutor(limit) as pool:
        return [c for c in pool.map(lambda _: one(), range(limit)) if c is not None]


def _release(conns: list) -> None:
    for c in conns:
        try:
            c.logout()
        except Exception:  # noqa: BLE001 - the session may be gone already
            pass
    conns.clear()


def test_a_watcher_refused_for_the_connection_limit_until_its_window_ends_fails_with_exit_14(
        lab: Lab, attached, profile_path: Path) -> None:  # noqa: F811
    """The mailbox drops the watchers and other clients take every slot before they are back:
    the probe fails with the server's own refusal (MailboxBusyError, exit 14, with its hint),
    not with a plain network error, once the reconnection window is over."""
    import subprocess

    from verifier.errors import ExitCode, MailboxBusyError, exit_code_for

    # connect timeout 5 s: the window is RECONNECT_WINDOW (30 s); delivery waits longer than that
    prof = replace(load_profile(str(profile_path)), delivery_timeout=120, connect_timeout=5)
    held: list = []
    took: list[int] = []

    def kick_and_fill():
        dovecot = str(lab.layout.dovecot / "dovecot.conf")
        for _ in range(6):
            _release(held)
            subprocess.run(["doveadm", "-c", dovecot, "kick", t.RECIPIENT], capture_output=True,
                           timeout=30, stdin=subprocess.DEVNULL, check=False)
            held.extend(_take_every_slot(lab))
            took.append(len(held))
            if len(held) == 10:
                return  # every slot is ours: the watchers' reconnections are refused
        raise AssertionError(f"the watchers kept winning a slot: {took}")

    async def main():
        async with MailboxHub() as hub:
            def submitted(leg):
                if not took:  # after the first submission, while the watchers wait
                    return asyncio.to_thread(kick_and_fill)
                return None

            started = time.monotonic()
            try:
                await run_probe(prof, hub=hub, on_submitted=submitted)
            except MailboxBusyError as exc:
                return exc, time.monotonic() - started, hub.reconnects
            raise AssertionError("the probe did not fail although every slot was taken")

    try:
        exc, seconds, reconnects = asyncio.run(main())
    finally:
        _release(held)
    assert took and took[-1] == 10
    assert reconnects == 0
    assert exit_code_for(exc) == ExitCode.MAILBOX_BUSY == 14
    text = str(exc)
    assert "Maximum number of connections from user+IP exceeded" in text, text
    assert "no new connection within 30 s" in text, text
    assert exc.hint, "the refusal's hint is lost"
    assert seconds >= 30  # the watchers kept trying for the whole window
