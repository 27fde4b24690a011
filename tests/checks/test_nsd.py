"""The real dnspython resolver against a real authoritative server: NSD on 127.0.0.1.

The test starts its own NSD (foreground, a free port, zone and config in a
temporary directory), serving a DKIM key, SPF, MX, DMARC and PTR records;
signs a message here with keys generated here, and checks it end to end.
NSD is stopped by its process id. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from verifier.analysis.engine import Options, analyze_bytes
from verifier.checks import resolve_host, run_checks
from verifier.checks.dkim import verify_dkim
from verifier.checks.dmarc import check_dmarc
from verifier.checks.dns import NODATA, NXDOMAIN, OK, DnsResolver, DnsTemporaryError
from verifier.checks.spf import check_host

from .support import MESSAGE, ed25519_key, rsa_key, run, sign

ZONE = "checks.example"


def _nsd_binary() -> str:
    found = shutil.which("nsd") or ("/usr/sbin/nsd" if os.path.exists("/usr/sbin/nsd") else None)
    if found:
        return found
    if os.geteuid() != 0:
        pytest.skip("NSD is not installed and this user is not root, so the real-DNS test cannot install it and is skipped.")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", "nsd"]
    if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"NSD could not be installed with apt-get: {done.stderr.strip().splitlines()[-1:]}")
    found = shutil.which("nsd") or "/usr/sbin/nsd"
    assert os.path.exists(found), "apt-get installed nsd but no nsd binary was found"
    return found


def _free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            t.close()
            u.close()
        return port
    raise RuntimeError("no free port on 127.0.0.1")


def _txt_strings(value: str) -> str:
    """A TXT value as quoted character-strings of at most 255 bytes."""
    parts = [value[i : i + 250] for i in range(0, len(value), 250)]
    return "( " + " ".join(f'"{p}"' for p in parts) + " )"


def _zone(ed_record: str, rsa_record: str) -> str:
    return f"""$ORIGIN {ZONE}.
$TTL 300
@ IN SOA ns.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 60
@ IN NS ns.{ZONE}.
ns IN A 127.0.0.1
@ IN MX 10 mail.{ZONE}.
@ IN TXT "v=spf1 ip4:192.0.2.0/24 mx -all"
mail IN A 198.51.100.7
mail IN AAAA 2001:db8::7
smarthost IN A 203.0.113.25
bounce IN TXT "v=spf1 a:smarthost.{ZONE} -all"
_dmarc IN TXT "v=DMARC1; p=quarantine; pct=100; rua=mailto:dmarc@{ZONE}"
ed._domainkey IN TXT {_txt_strings(ed_record)}
rsa._domainkey IN TXT {_txt_strings(rsa_record)}
"""


REVERSE = f"""$ORIGIN 113.0.203.in-addr.arpa.
$TTL 300
@ IN SOA ns.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 60
@ IN NS ns.{ZONE}.
25 IN PTR smarthost.{ZONE}.
"""


@pytest.fixture(scope="module")
def nsd(tmp_path_factory):
    binary = _nsd_binary()
    d: Path = tmp_path_factory.mktemp("nsd")
    ed_seed, ed_record = ed25519_key()
    rsa_pem, rsa_record = rsa_key(2048)
    (d / f"{ZONE}.zone").write_text(_zone(ed_record, rsa_record))
    (d / "reverse.zone").write_text(REVERSE)
    port = _free_port()
    (d / "nsd.conf").write_text(
        f"""server:
    ip-address: 127.0.0.1
    port: {port}
    do-ip4: yes
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "{d}"
    pidfile: "{d}/nsd.pid"
    database: ""
    zonelistfile: "{d}/zone.list"
    xfrdfile: "{d}/xfrd.state"
    xfrdir: "{d}"
    logfile: "{d}/nsd.log"
    server-count: 1
    verbosity: 1
remote-control:
    control-enable: no
zone:
    name: "{ZONE}"
    zonefile: "{ZONE}.zone"
zone:
    name: "113.0.203.in-addr.arpa"
    zonefile: "reverse.zone"
"""
    )
    proc = subprocess.Popen([binary, "-d", "-c", str(d / "nsd.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_until_serving(proc, port, d)
        yield {"port": port, "ed": ed_seed, "rsa": rsa_pem, "dir": d}
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc.stdout:
            proc.stdout.close()


def _wait_until_serving(proc: subprocess.Popen, port: int, d: Path) -> None:
    import dns.exception
    import dns.message
    import dns.query

    q = dns.message.make_query(f"{ZONE}.", "SOA")
    for _ in range(200):  # a bound on attempts, not a timing assertion
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            log = (d / "nsd.log").read_text(errors="replace") if (d / "nsd.log").exists() else ""
            pytest.fail(f"NSD exited with status {proc.returncode} before serving: {out.strip()} {log.strip()}")
        try:
            r = dns.query.udp(q, "127.0.0.1", port=port, timeout=0.5)
            if r.answer:
                return
        except (dns.exception.Timeout, OSError):
            pass
        time.sleep(0.1)
    pytest.fail("NSD did not answer for its zone after 200 attempts.")


def _resolver(nsd) -> DnsResolver:
    return DnsResolver("127.0.0.1", port=nsd["port"], timeout=3.0)


def test_record_types_and_the_three_outcomes(nsd):
    r = _resolver(nsd)

    async def go():
        return (
            await r.txt(ZONE),
            await r.a(f"mail.{ZONE}"),
            await r.aaaa(f"mail.{ZONE}"),
            await r.mx(ZONE),
            await r.ptr("203.0.113.25"),
            await r.lookup(f"nothing.{ZONE}", "TXT"),
            await r.lookup(f"mail.{ZONE}", "TXT"),
            await r.lookup(f"rsa._domainkey.{ZONE}", "TXT"),
        )

    txt, a, aaaa, mx, ptr, nx, nodata, rsa = run(go())
    assert txt == [b"v=spf1 ip4:192.0.2.0/24 mx -all"]
    assert (a, aaaa, mx, ptr) == (["198.51.100.7"], ["2001:db8::7"], [(10, f"mail.{ZONE}")], [f"smarthost.{ZONE}"])
    assert nx.status == NXDOMAIN and nx.ttl == 60  # SOA minimum
    assert nodata.status == NODATA
    assert rsa.status == OK and len(rsa.records) == 1 and rsa.records[0].startswith(b"v=DKIM1; k=rsa; p=MII")


def test_cache_and_refused_zone_is_temporary(nsd):
    r = _resolver(nsd)

    async def go():
        await r.a(f"mail.{ZONE}")
        before = r.queries
        await r.a(f"MAIL.{ZONE}.")
        return before, r.queries

    before, after = run(go())
    assert before == after == 1
    # NSD refuses names outside its zones: a server failure, not "no such name"
    with pytest.raises(DnsTemporaryError) as err:
        run(r.txt("elsewhere.example"))
    assert "elsewhere.example" in str(err.value) and str(err.value).endswith(".")


def test_dkim_spf_dmarc_against_nsd(nsd):
    r = _resolver(nsd)
    msg = MESSAGE.replace(b"alice@example.com", b"alice@news.checks.example")
    signed = sign(msg, "ed", ZONE, nsd["ed"])
    signed = sign(signed, "rsa", ZONE, nsd["rsa"], algorithm=b"rsa-sha256")
    results = run(verify_dkim(signed, r))
    assert [(v.s, v.result) for v in results] == [("rsa", "pass"), ("ed", "pass")]
    assert run(verify_dkim(signed.replace(b"Hello Bob.", b"Bye."), r))[0].result == "fail"
    spf = run(check_host("203.0.113.25", f"bounce@bounce.{ZONE}", "smarthost.checks.example", r))
    assert (spf.result, spf.mechanism) == ("pass", f"a:smarthost.{ZONE}")
    assert run(check_host("198.51.100.7", f"x@{ZONE}", "h", r)).result == "pass"  # through mx
    assert run(check_host("203.0.113.99", f"x@{ZONE}", "h", r)).result == "fail"
    # From is a subdomain without its own record: the organisational record applies
    out = run(check_dmarc(f"news.{ZONE}", r, dkim_pass_domains=[ZONE]))
    assert out.result == "pass" and out.lookup.found_at == ZONE
    out = run(check_dmarc(f"news.{ZONE}", r, spf_pass_domains=["other.example"]))
    assert (out.result, out.disposition) == ("fail", "quarantine")


def test_run_checks_and_smarthost_resolution_against_nsd(nsd):
    r = _resolver(nsd)
    msg = MESSAGE.replace(b"alice@example.com", b"alice@checks.example")
    signed = sign(msg, "ed", ZONE, nsd["ed"])
    trace = (
        f"Return-Path: <bounce@bounce.{ZONE}>\r\n"
        f"Received-SPF: pass client-ip=203.0.113.25; envelope-from=bounce@bounce.{ZONE}; helo=smarthost.{ZONE};\r\n"
        f"Received: from smarthost.{ZONE} (smarthost.{ZONE} [203.0.113.25]) by mx.recipient.example"
        " with ESMTPS id 1; Fri, 27 Nov 2026 10:00:05 +0000\r\n"
    ).encode()
    message = trace + signed
    analysis = analyze_bytes(message, Options(smarthosts=(f"smarthost.{ZONE}",)))
    rep = run(run_checks(message, analysis, r))
    assert [v.result for v in rep.dkim] == ["pass"]
    assert rep.spf.result == "pass" and rep.spf.ip == "203.0.113.25"
    assert rep.dmarc.result == "pass" and rep.dmarc.spf_aligned and rep.dmarc.dkim_aligned
    host = run(resolve_host(f"smarthost.{ZONE}", r))
    assert host.addresses == ("203.0.113.25",)
