"""`verifier probe --nagios` as a monitoring plugin: perfdata, thresholds, UNKNOWN for everything
that keeps the check from running, and one overall --timeout."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest

from verifier.probe.imap import Fetched
from verifier.probe.profile import SmtpAccount
from verifier.probe.run import Expectation, Leg, ProbeResult
from verifier.report import probe as rp


def _result(mailbox: dict[str, float | None], verdicts: dict[str, str] | None = None) -> ProbeResult:
    legs = []
    for role, mb in mailbox.items():
        expect = "via-connector" if role == "sender" else "bypassed"
        leg = Leg(role, SmtpAccount(f"{role}@mydomain.test", "smtp.test"), Expectation(role, f"{role}@mydomain.test", expect, "profile"),
                  token=f"tok-{role}")
        leg.verdict = (verdicts or {}).get(role, expect if mb is not None else "not-delivered")
        if mb is not None:
            leg.timings["mailbox"] = mb
            leg.found = Fetched("INBOX", 1, b"", None, 0.0)
        legs.append(leg)
    return ProbeResult("lab.toml", None, legs, started=datetime.now(UTC), seconds=3.5)


def _perf(line: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in line.split(" | ", 1)[1].split())


def test_a_message_that_never_arrived_has_U_in_the_perfdata():
    code, line = rp.nagios(_result({"sender": None, "control": 0.5}))
    assert code == rp.NAGIOS_CRITICAL
    perf = _perf(line)
    assert perf["sender_delivery"] == "U;;;0"
    assert perf["control_delivery"] == "0.500s;;;0"
    assert "=s" not in line and "=;" not in line


@pytest.mark.parametrize(
    "mailbox, warning, critical, code, words",
    [
        ({"sender": 1.0, "control": 1.0}, 5.0, 10.0, rp.NAGIOS_OK, None),
        ({"sender": 6.0, "control": 1.0}, 5.0, 10.0, rp.NAGIOS_WARNING, "sender delivery 6.0 s > 5 s"),
        ({"sender": 1.0, "control": 12.5}, 5.0, 10.0, rp.NAGIOS_CRITICAL, "control delivery 12.5 s > 10 s"),
        ({"sender": 12.5}, None, 10.0, rp.NAGIOS_CRITICAL, "sender delivery 12.5 s > 10 s"),
        ({"sender": 7.0}, 5.0, None, rp.NAGIOS_WARNING, "sender delivery 7.0 s > 5 s"),
    ],
)
def test_warning_and_critical_apply_to_delivery_time(mailbox, warning, critical, code, words):
    got, line = rp.nagios(_result(mailbox), warning=warning, critical=critical)
    assert got == code, line
    if words:
        assert words in line.split(" | ")[0]
    w = "" if warning is None else f"{warning:g}"
    c = "" if critical is None else f"{critical:g}"
    assert _perf(line)["sender_delivery"].endswith(f";{w};{c};0")


def _cli(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "verifier", "probe", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


@pytest.mark.parametrize(
    "args",
    [
        ("--nagios",),  # --profile missing
        ("--nagios", "--profile", "p.toml", "-w", "soon"),
        ("--nagios", "--profile", "p.toml", "--timeout", "-3"),
        ("--nagios", "--profile", "p.toml", "--bogus"),
        ("--nagios", "--json", "--profile", "p.toml"),
        ("--nagi", "--profile", "p.toml", "-c", "0"),  # argparse accepts the abbreviation: so do we
    ],
)
def test_bad_arguments_under_nagios_are_unknown_with_a_status_line(args):
    proc = _cli(*args)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("VERIFIER PROBE UNKNOWN - bad arguments: ")


def test_bad_arguments_without_nagios_stay_usage_errors():
    proc = _cli("--profile", "p.toml", "-w", "5")
    assert proc.returncode == 2 and "--nagios" in proc.stderr and proc.stdout == ""
    proc = _cli("--profile", "p.toml", "--bogus")
    assert proc.returncode == 2 and proc.stdout == ""


def test_warning_above_critical_is_refused_as_unknown(tmp_path):
    proc = _cli("--nagios", "--profile", str(tmp_path / "p.toml"), "-w", "20", "-c", "10")
    assert proc.returncode == 3 and proc.stdout.startswith("VERIFIER PROBE UNKNOWN - -w/--warning must not be more")


def test_a_profile_error_under_nagios_is_unknown(tmp_path):
    proc = _cli("--nagios", "--profile", str(tmp_path / "missing.toml"))
    assert proc.returncode == 3
    assert proc.stdout == f"VERIFIER PROBE UNKNOWN - The profile {tmp_path / 'missing.toml'} does not exist.\n"


def test_an_internal_error_under_nagios_is_unknown_with_a_status_line(tmp_path, monkeypatch, capsys):
    """A bug anywhere in the run (simulated here) still answers as a plugin must."""
    from verifier import cli
    from verifier.probe import run as run_mod

    async def broken(*_a, **_k):
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(run_mod, "run_probe", broken)
    prof = tmp_path / "p.toml"
    prof.write_text('[sender]\naddress = "a@mydomain.test"\nsmtp_host = "h"\nexpect = "bypassed"\n'
                    '[recipient]\naddress = "r@guides.test"\nimap_host = "h"\n')
    code = cli.main(["probe", "--nagios", "--profile", str(prof)])
    out = capsys.readouterr().out
    assert code == 3
    assert out == "VERIFIER PROBE UNKNOWN - internal error (RuntimeError: a bug over two lines)\n"


class _Silent(threading.Thread):
    """A TCP server that accepts connections and never says a word (a hung API or IMAP server)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []

    def run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for c in self.held:
            c.close()


def test_one_timeout_bounds_the_whole_plugin_run(tmp_path):
    """A silent API server and a silent IMAP server, each within the profile's generous timeouts:
    --timeout still ends the check, UNKNOWN with a status line."""
    api, imap = _Silent(), _Silent()
    api.start()
    imap.start()
    try:
        conf = tmp_path / "ovh.conf"
        conf.write_text(f"[http://127.0.0.1:{api.port}/1.0]\napplication_key=a\napplication_secret=b\nconsumer_key=c\n")
        prof = tmp_path / "p.toml"
        prof.write_text(
            f'[platform]\nendpoint = "http://127.0.0.1:{api.port}/1.0"\norganization = "o"\nservice = "s"\nconfig_file = "{conf}"\n'
            '[sender]\naddress = "a@mydomain.test"\nsmtp_host = "h"\n'
            f'[recipient]\naddress = "r@guides.test"\nimap_host = "h"\nimap_address = "127.0.0.1"\nimap_port = {imap.port}\n'
            '[timeouts]\nconnect = 120\ndelivery = 300\n'
        )
        proc = _cli("--nagios", "--profile", str(prof), "--timeout", "2", timeout=60)
    finally:
        api.close()
        imap.close()
    assert proc.returncode == 3, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("VERIFIER PROBE UNKNOWN - ")
    assert "2 s" in lines[0], lines[0]
