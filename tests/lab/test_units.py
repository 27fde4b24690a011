"""Parts of the lab that need neither root nor the Debian packages."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from verifier.errors import ExitCode, LabError
from verifier.lab import configs, system
from verifier.lab import topology as t
from verifier.lab.layout import Layout
from verifier.lab.postfix_maps import apply_routes, render_tables
from verifier.lab.probe_profile import to_shell, to_toml
from verifier.lab.routes import Route

SECRET = "S3cret-relay-pw"


def _routes() -> list[Route]:
    return [
        Route("newsletter@mydomain.test", 1, "smtp.relay.test", 587, True, "basicAuthRequireTLS",
              "u@relay.test", SECRET),
        Route("news2@mydomain.test", 2, "SMTP.Relay.test", 587, False, "basicAuth", "u2", "pw2"),
        Route("open@mydomain.test", 3, "other.relay.test", 25, False, "none"),
    ]


def test_tables_from_routes() -> None:
    tables = render_tables(_routes())
    relay = tables["sender_relay"]
    assert "newsletter@mydomain.test [smtp.relay.test]:587\n" in relay
    assert "open@mydomain.test [other.relay.test]:25\n" in relay
    sasl = tables["sasl_passwd"]
    assert f"newsletter@mydomain.test u@relay.test:{SECRET}\n" in sasl
    assert "open@mydomain.test" not in sasl
    policy = tables["tls_policy"]
    # two connectors on one host: the strictest requirement wins
    assert "[smtp.relay.test]:587 secure match=hostname\n" in policy
    assert "[other.relay.test]:25 may\n" in policy


def test_no_route_means_empty_tables() -> None:
    tables = render_tables([])
    assert all(line.startswith("#") for text in tables.values() for line in text.splitlines())


def test_apply_routes_writes_modes_without_a_running_platform(tmp_path: Path) -> None:
    lay = Layout(tmp_path)
    assert apply_routes(_routes(), lay) is False  # nothing to reload
    sasl = lay.platform_maps / "sasl_passwd"
    assert os.stat(sasl).st_mode & 0o777 == 0o600
    assert SECRET in sasl.read_text()
    assert os.stat(lay.platform_maps / "sender_relay").st_mode & 0o777 == 0o644


def test_credentials_that_break_a_table_are_refused_alone(tmp_path: Path) -> None:
    bad = Route("a@mydomain.test", 9, "smtp.relay.test", 587, True, "basicAuth", "user name", "pw")
    tables = render_tables([bad, *_routes()])
    assert "a@mydomain.test" not in "".join(tables.values())
    assert "newsletter@mydomain.test [smtp.relay.test]:587\n" in tables["sender_relay"]


def test_not_root_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(LabError) as err:
        system.check_can_run()
    assert "needs root" in str(err.value) and err.value.exit_code == ExitCode.LAB
    assert str(err.value).count(". ") == 0


def test_missing_package_names_the_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    real = system.which
    monkeypatch.setattr(system, "which", lambda name: None if name == "nsd" else real(name) or "/bin/true")
    monkeypatch.setattr(system, "FILES", {})
    monkeypatch.setattr(system, "USERS", {})
    with pytest.raises(LabError) as err:
        system.check_can_run()
    text = str(err.value)
    assert "(nsd)" in text and "scripts/install-lab-packages.sh" in text and "apt-get install" in text


def test_profile_is_toml_with_secrets_by_reference(tmp_path: Path) -> None:
    lay = Layout(tmp_path)
    state = {"ovh": {"endpoint": "http://127.0.0.1:1234/1.0", "application_key": "AK"}}
    text = to_toml(lay, state)
    data = tomllib.loads(text)
    assert data["sender"]["address"] == t.ATTACHED_SENDER
    assert data["control"]["address"] == t.CONTROL_SENDER
    assert data["recipient"]["folders"] == ["INBOX", "Junk"]
    assert data["tls"]["ca_file"] == str(lay.ca_file)
    assert data["platform"]["endpoint"] == "http://127.0.0.1:1234/1.0"
    for section in data.values():
        for key in section:
            assert "password" not in key or key.endswith("_file")
            assert "secret" not in key or key.endswith("_file")
    assert "#   OVH_ENDPOINT=http://127.0.0.1:1234/1.0\n" in text
    shell = to_shell(lay, state)
    assert "export OVH_APPLICATION_SECRET=\"$(cat " in shell


def test_zones_cover_every_lab_address() -> None:
    zones = configs.zones("AAAA", 1)
    reverse = zones["100.51.198.in-addr.arpa"] + zones["113.0.203.in-addr.arpa"]
    for ip in (*t.LAB_ADDRESSES, t.CLIENT_IP):
        assert f"\n{ip.rsplit('.', 1)[1]} IN PTR " in reverse
    assert "192.0.2." not in "".join(zones.values())


def test_main_cf_has_one_line_per_parameter(tmp_path: Path) -> None:
    lay = Layout(tmp_path)
    for render in (configs.postfix_platform, configs.postfix_relay, configs.postfix_mx):
        main, _master = render(lay)
        keys = [line.split("=", 1)[0].strip() for line in main.splitlines()]
        assert len(keys) == len(set(keys))
    relay_main, _ = configs.postfix_relay(lay)
    assert f"smtp_bind_address = {t.RELAY_EGRESS_IP}" in relay_main


def test_profile_reads_as_a_probe_profile(tmp_path: Path) -> None:
    probe_profile = pytest.importorskip("verifier.probe.profile")
    lay = Layout(tmp_path)
    state = {"ovh": {"endpoint": "http://127.0.0.1:1234/1.0", "application_key": "AK"}}
    prof = probe_profile.profile_from_dict(tomllib.loads(to_toml(lay, state)), name="lab")
    assert prof.sender.address == t.ATTACHED_SENDER and prof.sender.host == t.PLATFORM_NAME
    assert prof.control is not None and prof.control.address == t.CONTROL_SENDER
    assert prof.recipient.host == t.IMAP_NAME and prof.recipient.port == t.IMAPS_PORT
    assert prof.recipient.folders == ("INBOX", "Junk")
    assert prof.nameserver == t.NS_IP and prof.ca_file == str(lay.ca_file)
    assert prof.platform is not None and prof.platform.config_file == str(lay.secrets / "ovh.conf")


def test_a_reused_pid_is_not_taken_for_a_lab_daemon() -> None:
    """A PID recorded by a lab that was killed may belong to another process by now."""
    import subprocess
    import sys

    from verifier.lab.control import Lab

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        started = system.start_time(proc.pid)
        assert started is not None
        same = {"pids": {"nsd": proc.pid}, "starts": {"nsd": started}}
        other = {"pids": {"nsd": proc.pid}, "starts": {"nsd": started - 1}}
        legacy = {"pids": {"nsd": proc.pid}}
        assert Lab._live(same) == {"nsd": proc.pid}
        assert Lab._live(other) == {}
        assert Lab._live(legacy) == {"nsd": proc.pid}
    finally:
        proc.kill()
        proc.wait()
    assert Lab._live({"pids": {"nsd": proc.pid}, "starts": {"nsd": started}}) == {}


def test_devlog_state_tells_a_dead_syslog_socket_from_a_listening_one(tmp_path: Path) -> None:
    """A /dev/log left by a killed sink refuses connections; the lab must replace it, or
    OpenDKIM's log is lost. A listening socket, a regular file and a symlink are left alone."""
    import socket

    path = tmp_path / "log"
    assert system.devlog_state(path) == "absent"
    live = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    live.bind(str(path))
    try:
        assert system.devlog_state(path) == "listening"
    finally:
        live.close()
    assert path.exists()  # closing a bound socket leaves its file behind
    assert system.devlog_state(path) == "stale"
    path.unlink()
    path.write_text("not a socket\n")
    assert system.devlog_state(path) == "other"
    link = tmp_path / "link"
    link.symlink_to(path)
    assert system.devlog_state(link) == "other"


def test_keeper_starts_a_dead_daemon_afresh_and_gives_up_on_one_that_cannot_stay_up(tmp_path: Path) -> None:
    import subprocess
    import sys

    marker = tmp_path / "starts"
    # a daemon that dies at once: started, restarted, then given up after MAX_STARTS in the window
    cmd = [sys.executable, "-c", f"open({str(marker)!r}, 'a').write('x'); raise SystemExit(3)"]
    done = subprocess.run([sys.executable, "-c",
                           "import sys; from verifier.lab import keeper; "
                           f"sys.exit(keeper.keep({cmd!r}, pause=0.01, max_starts=4, window=60))"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert marker.read_text() == "xxxx"
    assert done.stderr.count("exited with status 3; starting it again") == 4
    assert "started 4 times within 60 s; giving up" in done.stderr


def test_keeper_stops_its_daemon_on_sigterm(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    pid_file = tmp_path / "pid"
    # a daemon that ignores SIGTERM (as a lingering milter does): killed after the grace
    daemon = ("import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
              f"open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-m", "verifier.lab.keeper", "--", sys.executable, "-c", daemon],
                            stderr=subprocess.PIPE, text=True)
    try:
        assert system.wait_until(lambda: pid_file.exists() and pid_file.read_text(), 20)
        child = int(pid_file.read_text())
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert time.monotonic() - t0 < 15
        assert not system.pid_alive(child) or system.proc_state(child) == "Z"
        assert "starting it again" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
