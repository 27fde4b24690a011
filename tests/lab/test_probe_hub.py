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
