"""`up` is idempotent, `status` and `env` report the running lab, `down` leaves nothing.

Named to run last: it takes the session's lab down, checks that nothing is left,
and brings it up again from nothing (the session fixture takes it down at the end).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from verifier.lab import system
from verifier.lab import topology as t
from verifier.lab.control import DEVLOG, Lab

pytestmark = pytest.mark.lab


def cli(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "verifier.cli", "lab", *args], capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ, **(env or {})),
                          stdin=subprocess.DEVNULL)


def test_second_up_is_a_no_op(lab: Lab) -> None:
    pids = dict(lab.load()["pids"])
    t0 = time.monotonic()
    done = cli("up")
    assert done.returncode == 0, done.stderr
    assert "already up" in done.stdout
    assert time.monotonic() - t0 < 10
    assert lab.load()["pids"] == pids


def test_up_with_another_state_dir_names_the_running_one(lab: Lab, tmp_path: Path) -> None:
    other = tmp_path / "other"
    done = cli("up", env={"VERIFIER_LAB_DIR": str(other)})
    assert done.returncode == 10
    assert f"already running with its state in {lab.layout.root}" in done.stderr
    assert not other.exists()


def test_status_reports_every_component(lab: Lab) -> None:
    done = cli("status", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["up"] is True
    for name in ("namespace", "veth", "nsd", "postfix-platform", "postfix-relay", "postfix-mx", "dovecot",
                 "opendkim-sign", "opendkim-verify", "syslog", "api"):
        assert report["components"][name]["up"], name
    text = cli("status")
    assert text.returncode == 0 and "postfix-relay" in text.stdout


def test_env_prints_the_profile(lab: Lab) -> None:
    done = cli("env")
    assert done.returncode == 0, done.stderr
    data = tomllib.loads(done.stdout)
    for section in ("platform", "sender", "control", "recipient", "tls", "dns", "smarthost"):
        assert section in data
    for section in data.values():
        for key, value in section.items():
            if key.endswith("_file") and key != "ca_file":
                assert os.stat(value).st_mode & 0o777 == 0o600, key
                assert Path(value).read_text().strip() not in done.stdout
    assert Path(data["tls"]["ca_file"]).is_file()
    assert data["platform"]["endpoint"].startswith("http://127.0.0.1:")
    shell = cli("env", "--shell")
    assert shell.returncode == 0 and "export OVH_ENDPOINT=" in shell.stdout
    # Background helpers do not hold the caller's stdout: a pipe reader saw EOF (run() returned).


def test_fault_command(lab: Lab) -> None:
    done = cli("fault", "imap-no-idle", "on")
    assert done.returncode == 0, done.stderr
    assert "imap-no-idle" in json.loads(cli("status", "--json").stdout)["faults"]
    assert cli("fault", "imap-no-idle", "on").stdout.strip().endswith("(it already was).")
    assert cli("fault", "imap-no-idle", "off").returncode == 0
    assert lab.load()["faults"] == []


def _routes_to_lab() -> list[str]:
    out = subprocess.run(["ip", "-o", "route", "show"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines()
            if t.VETH_MAIN in line or any(line.startswith(ip) for ip in (*t.LAB_ADDRESSES, t.CLIENT_IP))]


def test_down_leaves_nothing_and_up_comes_back(lab: Lab) -> None:
    state = lab.load()
    pids = [p for p in state["pids"].values() if p]
    had_devlog = bool(state.get("devlog"))
    t0 = time.monotonic()
    done = cli("down")
    down_s = time.monotonic() - t0
    assert done.returncode == 0, done.stderr
    assert str(lab.layout.root) in done.stdout
    assert not system.netns_exists()
    assert not system.link_exists(t.VETH_MAIN)
    assert _routes_to_lab() == []
    assert not lab.layout.netns_etc.exists()
    assert not any(system.pid_alive(p) for p in pids)
    assert t.NETNS not in Path("/proc/self/mountinfo").read_text()
    if state.get("run_netns_made"):
        assert "/run/netns" not in system.mount_points() and not system.RUN_NETNS.exists()
    if had_devlog:
        assert not DEVLOG.exists()
    assert not lab.layout.state_file.exists()
    again = cli("down")
    assert again.returncode == 0 and "not up" in again.stdout
    status = cli("status")
    assert status.returncode == 10

    # A lab killed outright leaves its namespace with nothing running in it: `up` clears it.
    subprocess.run(["ip", "netns", "add", t.NETNS], check=True, capture_output=True)
    assert system.netns_exists() and not system.netns_pids()
    t0 = time.monotonic()
    done = cli("up")
    up_s = time.monotonic() - t0
    assert done.returncode == 0, done.stderr
    assert up_s < 60
    assert lab.is_up()
    print(f"\nlab down {down_s:.2f} s, lab up from nothing {up_s:.2f} s")
