"""Capture Received headers written by real MTAs, with each hop's truth from the MTA's log.

Run by ``scripts/capture-mta-headers.sh`` inside a private mount, network and PID
namespace (``unshare --mount --net --pid --uts --fork``), where:

- the MTAs' Debian packages, extracted into a prefix, are laid over ``/usr``, ``/etc``
  and ``/var`` with overlay mounts, so they run from their packaged paths without
  being installed on the machine (they conflict with its Postfix);
- a small DNS server on 127.0.0.1 (``/etc/resolv.conf`` points at it) gives the
  reverse names and their forward records, as ``/etc/hosts`` does too, so no lookup
  leaves the namespace; an ident server answers for one client;
- the loopback interface carries documentation addresses: the MTA listens on
  192.0.2.25 / 2001:db8::25 / 127.0.0.1, clients connect from 198.51.100.x,
  2001:db8::10 and 127.0.0.1, and a sink on 192.0.2.250 receives what the MTA relays;
- ``/dev/log`` is bound to a socket read by this script, so the MTAs' syslog lines
  are captured too.

For every case a client (``smtplib``) connects from a chosen address with a chosen
HELO (optionally STARTTLS and AUTH), or the MTA's own local submission command is
run; the message the sink receives gives ``<case>.hdr`` (its header section) and
the MTA's log lines about that message give ``<case>.truth.json``. The truth is
read from the log only; what the client did is kept beside it under ``sent`` and
the capture stops if the two disagree, so a misread log is noticed at once.

Usage (inside the namespace): ``python scripts/mta_capture.py PREFIX WORKDIR OUTDIR MTA...``
(``CAPTURE_ONLY=case,case`` limits the cases; ``CAPTURE_SHELL=1`` opens a shell in the
prepared namespace instead, reading commands from standard input, for debugging).
"""

from __future__ import annotations

import email
import email.utils
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

MX4 = "192.0.2.25"
MX6 = "2001:db8::25"
SINK = "192.0.2.250"
LOOP = "127.0.0.1"
CLIENT_NAMED = "198.51.100.10"  # reverse name client-a.mta.test
CLIENT_NOREV = "198.51.100.11"  # no reverse name
CLIENT_LITERAL = "198.51.100.12"  # no reverse name, HELO is an address literal
CLIENT_SAME = "198.51.100.13"  # reverse name same.mta.test, HELO the same
CLIENT6 = "2001:db8::10"  # reverse name client6.mta.test
CLIENT_UNCONFIRMED = "198.51.100.14"  # PTR unconfirmed.mta.test, whose A is another address
CLIENT_IDENT = "198.51.100.15"  # reverse name client-ident.mta.test, answers ident (RFC 1413)
IDENT_USER = "bob"

HOSTS = f"""127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
{MX4} mx.mta.test
{MX6} mx.mta.test
{SINK} sink.mta.test
{CLIENT_NAMED} client-a.mta.test
{CLIENT_SAME} same.mta.test
{CLIENT6} client6.mta.test
{CLIENT_IDENT} client-ident.mta.test
"""

# In the DNS only (not in /etc/hosts): a reverse name that does not resolve back to its
# address, as a forged or stale PTR record does.
DNS_ONLY_PTR = {CLIENT_UNCONFIRMED: "unconfirmed.mta.test"}
DNS_ONLY_A = {"unconfirmed.mta.test": "198.51.100.99"}

# Users the packages expect (their maintainer scripts would create them); they exist
# only in this namespace's /etc/passwd.
EXTRA_USERS = [
    ("Debian-exim", 960, 960, "/var/spool/exim4"),
    ("opensmtpd", 961, 961, "/var/lib/opensmtpd/empty"),
    ("opensmtpq", 962, 962, "/var/lib/opensmtpd/empty"),
    ("smmsp", 963, 963, "/var/lib/sendmail"),
    ("alice", 1500, 1500, "/nonexistent"),
]
EXTRA_GROUPS = [("Debian-exim", 960), ("opensmtpd", 961), ("opensmtpq", 962), ("smmsp", 963), ("alice", 1500)]

AUTH_USER = "alice"
SENDER = "sender@client.mta.test"
RCPT = "rcpt@sink.mta.test"


@dataclass
class Case:
    name: str
    source: str | None  # client address; None for a local submission
    helo: str | None
    starttls: bool = False
    auth: bool = False
    note: str = ""
    may_be_refused: bool = False  # the MTA may refuse it (then the case is skipped, and says so)


NETWORK_CASES = [
    Case("helo-differs", CLIENT_NAMED, "helo-name.example", note="HELO differs from the reverse name"),
    Case("helo-differs-tls", CLIENT_NAMED, "helo-name.example", starttls=True, note="same, with STARTTLS"),
    Case("helo-matches", CLIENT_SAME, "same.mta.test", note="HELO equal to the reverse name"),
    Case("no-rdns", CLIENT_NOREV, "norev.example", note="client address with no reverse name"),
    Case("no-rdns-tls", CLIENT_NOREV, "norev.example", starttls=True, note="same, with STARTTLS"),
    Case("helo-literal", CLIENT_LITERAL, "[192.0.2.1]", note="address-literal HELO, no reverse name"),
    Case("helo-literal-own", CLIENT_LITERAL, f"[{CLIENT_LITERAL}]",
         note="the client's own address as an address-literal HELO, no reverse name"),
    Case("helo-literal6", CLIENT6, "[IPv6:2001:db8::99]", note="IPv6 address-literal HELO, with a reverse name"),
    Case("localhost", LOOP, "loopback-helo.example", note="reverse name localhost"),
    Case("rdns-unconfirmed", CLIENT_UNCONFIRMED, "unconfirmed-helo.example",
         note="the PTR name does not resolve back to the client's address"),
    Case("ipv6", CLIENT6, "client6-helo.example", note="IPv6 client with a reverse name"),
    Case("ident", CLIENT_IDENT, "ident-helo.example",
         note=f"the client's ident (RFC 1413) server names the user {IDENT_USER}"),
    Case("no-helo", CLIENT_NAMED, None, note="MAIL FROM with no HELO/EHLO first", may_be_refused=True),
    Case("auth", CLIENT_NAMED, "helo-name.example", starttls=True, auth=True, note="authenticated submission"),
]


# --------------------------------------------------------------------------- helpers


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    kw.setdefault("check", True)
    return subprocess.run(cmd, **kw)


def log(msg: str) -> None:
    print(f"capture: {msg}", file=sys.stderr, flush=True)


class SyslogSink:
    """Reads datagrams from a unix socket (bound over /dev/log) into a list of lines."""

    def __init__(self, path: Path) -> None:
        self.lines: list[str] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        os.chmod(path, 0o666)
        self.sock.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while self.running:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            line = data.decode("utf-8", "replace").rstrip("\x00\n")
            # strip the "<PRI>" prefix; keep the rest as the daemon wrote it
            line = re.sub(r"^<\d{1,3}>", "", line)
            self.lines.append(line)

    def since(self, mark: int) -> list[str]:
        return self.lines[mark:]


class DnsServer:
    """A small authoritative DNS server on 127.0.0.1:53 answering A, AAAA and PTR from HOSTS.

    It stands in for the real DNS: the MTAs look reverse names up (and confirm them
    forward) with their ordinary resolvers. A name not in HOSTS gets NXDOMAIN, a name
    without the asked type an empty answer.
    """

    def __init__(self) -> None:
        import dns.reversename

        self.forward: dict[str, list[str]] = {}
        self.reverse: dict[str, str] = {}
        for line in HOSTS.splitlines():
            parts = line.split()
            if not parts:
                continue
            addr, names = parts[0], parts[1:]
            rev = dns.reversename.from_address(addr).to_text().lower()
            self.reverse.setdefault(rev, names[0] + ".")
            for n in names:
                self.forward.setdefault(n.lower() + ".", []).append(addr)
        for addr, name in DNS_ONLY_PTR.items():
            self.reverse[dns.reversename.from_address(addr).to_text().lower()] = name + "."
        for name, addr in DNS_ONLY_A.items():
            self.forward.setdefault(name + ".", []).append(addr)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 53))
        self.sock.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def answer(self, wire: bytes) -> bytes:
        import dns.flags
        import dns.message
        import dns.rcode
        import dns.rdataclass
        import dns.rdatatype
        import dns.rrset

        q = dns.message.from_wire(wire)
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        question = q.question[0]
        name = question.name.to_text().lower()
        rtype = question.rdtype
        if name in self.reverse:
            if rtype == dns.rdatatype.PTR:
                r.answer.append(dns.rrset.from_text(question.name, 300, "IN", "PTR", self.reverse[name]))
        elif name in self.forward:
            for addr in self.forward[name]:
                is6 = ":" in addr
                if (rtype == dns.rdatatype.A and not is6) or (rtype == dns.rdatatype.AAAA and is6):
                    r.answer.append(dns.rrset.from_text(question.name, 300, "IN", "AAAA" if is6 else "A", addr))
        else:
            r.set_rcode(dns.rcode.NXDOMAIN)
        return r.to_wire()

    def _loop(self) -> None:
        while self.running:
            try:
                wire, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            try:
                self.sock.sendto(self.answer(wire), peer)
            except Exception as exc:  # a query it cannot read: say so, keep serving
                log(f"dns: unanswered query from {peer}: {exc}")


class Sink:
    """An SMTP server on SINK:25 keeping every message it receives, by Message-ID."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: dict[str, bytes] = {}
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
                msg = email.message_from_bytes(envelope.original_content or envelope.content)
                mid = (msg.get("Message-ID") or "").strip()
                sink.messages[mid] = envelope.original_content or envelope.content
                return "250 kept"

        self.controller = Controller(Handler(), hostname=SINK, port=25, server_hostname="sink.mta.test")
        self.controller.start()

    def wait(self, message_id: str, timeout: float = 30.0) -> bytes:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if message_id in self.messages:
                return self.messages[message_id]
            time.sleep(0.1)
        raise RuntimeError(f"the sink received no message {message_id} within {timeout:.0f} s")

    def stop(self) -> None:
        self.controller.stop()


def message_for(mta: str, case: str) -> tuple[str, bytes]:
    mid = f"<{case}.{mta}@capture.mta.test>"
    body = (
        f"From: Sender <{SENDER}>\r\n"
        f"To: <{RCPT}>\r\n"
        f"Subject: capture {mta} {case}\r\n"
        f"Date: {email.utils.formatdate(localtime=False)}\r\n"
        f"Message-ID: {mid}\r\n"
        "\r\n"
        f"A message captured to record how {mta} writes its Received header.\r\n"
    )
    return mid, body.encode()


def header_section(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
    head, _sep, _body = text.partition("\n\n")
    return head + "\n"


def smtp_send(case: Case, server: str, mid_body: tuple[str, bytes], ca: Path, password: str) -> dict:
    """Send one message as the case says; returns what the client did."""
    mid, body = mid_body
    ctx = ssl.create_default_context(cafile=str(ca))
    with smtplib.SMTP(
        server, 25, local_hostname=case.helo, source_address=(case.source, 0), timeout=30
    ) as s:
        tls_version = tls_cipher = None
        if case.helo is None:
            # no HELO at all: MAIL, RCPT, DATA straight after the greeting
            for code, text in (s.mail(SENDER), s.rcpt(RCPT)):
                if code >= 400:
                    raise smtplib.SMTPResponseException(code, text)
            s.data(body)
            return {"source_ip": case.source, "server_ip": server, "helo": None, "starttls": False,
                    "tls_version": None, "tls_cipher": None, "auth_user": None}
        s.ehlo()
        if case.starttls:
            s.starttls(context=ctx)
            s.ehlo()
            tls_version = s.sock.version()
            tls_cipher = s.sock.cipher()[0]
        if case.auth:
            s.login(AUTH_USER, password)
        s.sendmail(SENDER, [RCPT], body)
    return {
        "source_ip": case.source,
        "server_ip": server,
        "helo": case.helo,
        "starttls": case.starttls,
        "tls_version": tls_version,
        "tls_cipher": tls_cipher,
        "auth_user": AUTH_USER if case.auth else None,
    }


class IdentServer:
    """An ident (RFC 1413) server on CLIENT_IDENT:113 naming IDENT_USER for every query."""

    def __init__(self) -> None:
        self.sock = socket.create_server((CLIENT_IDENT, 113))
        self.sock.settimeout(0.2)
        self.running = True
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while self.running:
            try:
                conn, _peer = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    query = conn.recv(512).decode("ascii", "replace").strip()
                    ports = re.sub(r"\s+", "", query)
                    conn.sendall(f"{ports} : USERID : UNIX : {IDENT_USER}\r\n".encode())
                except OSError:
                    pass


def send_case(mta: str, case: Case, server: str, mid_body: tuple[str, bytes], ca: Path,
              password: str) -> dict | None:
    """smtp_send, except that a case marked may_be_refused is skipped when refused."""
    try:
        return smtp_send(case, server, mid_body, ca, password)
    except smtplib.SMTPResponseException as exc:
        if not case.may_be_refused:
            raise
        log(f"{mta}/{case.name}: skipped, refused with {exc.smtp_code} {exc.smtp_error!r}")
        return None


def wait_port(host: str, port: int = 25, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection((host, port), timeout=1) as c:
                c.recv(512)
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on {host}:{port} within {timeout:.0f} s")


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# --------------------------------------------------------------------------- namespace


def setup_namespace(prefix: Path, work: Path) -> tuple[SyslogSink, Path]:
    """Overlay the extracted packages, write hosts/users, raise the addresses."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for d in ("usr", "etc", "var"):
        upper, wdir = work / f"{d}-upper", work / f"{d}-work"
        upper.mkdir()
        wdir.mkdir()
        lower = f"{prefix / d}:/{d}" if (prefix / d).is_dir() else f"/{d}"
        run(["mount", "-t", "overlay", "overlay", "-o",
             f"lowerdir={lower},upperdir={upper},workdir={wdir}", f"/{d}"])
    run(["mount", "-t", "tmpfs", "tmpfs", "/run"])
    Path("/etc/hosts").write_text(HOSTS)
    Path("/etc/resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:2 attempts:2\n")
    Path("/etc/mailname").write_text("mx.mta.test\n")
    with open("/etc/passwd", "a") as f:
        for name, uid, gid, home in EXTRA_USERS:
            f.write(f"{name}:x:{uid}:{gid}::{home}:/usr/sbin/nologin\n")
    with open("/etc/group", "a") as f:
        for name, gid in EXTRA_GROUPS:
            f.write(f"{name}:x:{gid}:\n")
    run(["hostname", "mx.mta.test"])  # the UTS namespace is private too
    run(["ip", "link", "set", "lo", "up"])
    for a in (MX4, SINK, CLIENT_NAMED, CLIENT_NOREV, CLIENT_LITERAL, CLIENT_SAME, CLIENT_UNCONFIRMED,
              CLIENT_IDENT):
        run(["ip", "addr", "add", f"{a}/32", "dev", "lo"])
    for a in (MX6, CLIENT6):
        run(["ip", "-6", "addr", "add", f"{a}/128", "dev", "lo", "nodad"])
    DnsServer()
    IdentServer()
    devlog = work / "devlog"
    sink = SyslogSink(devlog)
    run(["mount", "--bind", str(devlog), "/dev/log"])
    # a certificate for the MTAs, with its own CA file for the client. An EC key:
    # OpenSMTPD 6.8's privilege-separated RSA signing fails with OpenSSL 3
    # ("rsa routines::missing private key").
    tls = work / "tls"
    tls.mkdir()
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
         "-subj", "/CN=mx.mta.test", "-addext",
         f"subjectAltName=DNS:mx.mta.test,IP:{MX4},IP:{MX6},IP:{LOOP}",
         "-keyout", str(tls / "mx.key"), "-out", str(tls / "mx.crt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(tls, 0o755)
    os.chmod(tls / "mx.key", 0o600)
    return sink, tls


def private_key_copy(tls: Path, dest: str, owner: str) -> str:
    """A copy of the run's private key readable by ``owner`` only (each MTA checks its modes)."""
    shutil.copy(tls / "mx.key", dest)
    shutil.chown(dest, owner, "root")
    os.chmod(dest, 0o600)
    return dest


# --------------------------------------------------------------------------- output


def write_capture(out: Path, mta: str, case: str, raw: bytes, truth: dict) -> None:
    d = out / mta
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{case}.hdr").write_text(header_section(raw))
    (d / f"{case}.truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
    log(f"{mta}/{case}: written")


def check_sent(truth: dict, sent: dict, asks_ident: bool = True) -> None:
    """The log must say what the client did; otherwise the log was misread."""
    problems = []
    if truth["client_ip"] != sent["source_ip"]:
        problems.append(f"client_ip {truth['client_ip']!r} != {sent['source_ip']!r}")
    if sent["helo"] is None and truth["helo"] is not None and truth["helo"] == truth["reverse_name"]:
        # no HELO was sent and the MTA recorded the client's reverse name in its place
        # (Sendmail sets $s so); kept as the log has it, and marked
        truth["helo_filled_in_by_mta"] = True
    elif truth["helo"] != sent["helo"]:
        problems.append(f"helo {truth['helo']!r} != {sent['helo']!r}")
    if truth["tls"] != sent["starttls"]:
        problems.append(f"tls {truth['tls']!r} != {sent['starttls']!r}")
    wanted_ident = IDENT_USER if asks_ident and sent["source_ip"] == CLIENT_IDENT else None
    if truth["ident"] != wanted_ident:
        problems.append(f"ident {truth['ident']!r} for a client at {sent['source_ip']}")
    if truth["authenticated_user"] != sent["auth_user"]:
        problems.append(f"auth {truth['authenticated_user']!r} != {sent['auth_user']!r}")
    if problems:
        raise RuntimeError("the log disagrees with what the client did: " + "; ".join(problems))


PACKAGE_VERSIONS: dict[str, str] = {}


def base_truth(mta: str, version: str, case: Case | str, note: str) -> dict:
    name = case.name if isinstance(case, Case) else case
    return {
        "mta": mta,
        "mta_version": version,
        "packages": {k: v for k, v in PACKAGE_VERSIONS.items() if k in MTA_PACKAGES[mta]},
        "case": name,
        "note": note,
        "network": True,
        "client_ip": None,
        "reverse_name": None,
        "helo": None,
        "tls": None,
        "tls_version": None,
        "tls_cipher": None,
        "authenticated_user": None,
        "ident": None,
        "local_user": None,
        "log_lines": [],
    }


# --------------------------------------------------------------------------- Exim

EXIM_CONF = r"""
primary_hostname = mx.mta.test
spool_directory = /var/spool/exim4
log_file_path = /var/log/exim4/%slog
log_selector = +tls_cipher +tls_peerdn +received_recipients
daemon_smtp_ports = 25
local_interfaces = <; 192.0.2.25 ; 2001:db8::25 ; 127.0.0.1
host_lookup = *
rfc1413_hosts = *
rfc1413_query_timeout = 5s
tls_advertise_hosts = *
tls_certificate = @TLS@/mx.crt
tls_privatekey = /etc/exim4/mx.key
acl_smtp_rcpt = acl_rcpt
acl_smtp_data = acl_data
acl_not_smtp = acl_data
auth_advertise_hosts = ${if def:tls_in_cipher {*}{}}
trusted_users = root
keep_environment =

begin acl

acl_rcpt:
  accept

acl_data:
  warn logwrite = capture-truth: ip=<$sender_host_address> rdns=<$sender_host_name> \
                  helo=<$sender_helo_name> tls_ver=<$tls_in_ver> tls_cipher=<$tls_in_cipher_std> \
                  auth=<$authenticated_id> ident=<$sender_ident> uid=<$originator_uid> \
                  proto=<$received_protocol> msgid=<$h_message-id:>
  accept

begin routers

to_sink:
  driver = manualroute
  route_list = * 192.0.2.250
  transport = to_sink
  self = send

begin transports

to_sink:
  driver = smtp
  hosts_avoid_tls = *

begin retry
* * F,1m,10s

begin authenticators

plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if and {{eq{$auth2}{alice}}{eq{$auth3}{@PASSWORD@}}}}
  server_set_id = $auth2

login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = ${if and {{eq{$auth1}{alice}}{eq{$auth2}{@PASSWORD@}}}}
  server_set_id = $auth1
"""

_EXIM_TRUTH_RE = re.compile(
    r"capture-truth: ip=<(?P<ip>[^>]*)> rdns=<(?P<rdns>[^>]*)> helo=<(?P<helo>[^>]*)> "
    r"tls_ver=<(?P<tls_ver>[^>]*)> tls_cipher=<(?P<tls_cipher>[^>]*)> auth=<(?P<auth>[^>]*)> "
    r"ident=<(?P<login>[^>]*)> uid=<(?P<uid>[^>]*)> proto=<(?P<proto>[^>]*)> msgid=<(?P<msgid><[^>]*>)>"
)


def exim_version() -> str:
    out = run(["/usr/sbin/exim4", "-bV"], capture_output=True, text=True).stdout
    m = re.search(r"Exim version (\S+)", out)
    return m.group(1) if m else "unknown"


def exim_truth(mta_log: str, mid: str, case: str, note: str, version: str) -> dict:
    truth_line = next((ln for ln in mta_log.splitlines() if "capture-truth" in ln and mid in ln), None)
    if truth_line is None:
        raise RuntimeError(f"exim logged no capture-truth line for {mid}")
    m = _EXIM_TRUTH_RE.search(truth_line)
    if m is None:
        raise RuntimeError(f"unreadable capture-truth line: {truth_line}")
    exim_id = truth_line.split()[2]
    arrival = next((ln for ln in mta_log.splitlines() if f" {exim_id} <= " in ln), None)
    t = base_truth("exim", version, case, note)
    g = m.groupdict()
    t["network"] = bool(g["ip"])
    t["client_ip"] = g["ip"] or None
    t["reverse_name"] = g["rdns"] or None
    t["helo"] = g["helo"] or None
    t["tls"] = bool(g["tls_cipher"])
    t["tls_version"] = g["tls_ver"] or None
    t["tls_cipher"] = g["tls_cipher"] or None
    # SMTP AUTH as the arrival line records it (A=mechanism:id); $authenticated_id
    # alone would also hold the caller's login for a local submission
    auth = re.search(r" A=[^: ]+:(\S+)", arrival or "")
    t["authenticated_user"] = auth.group(1) if auth else None
    t["local_user"] = None if g["ip"] else (g["login"] or None)
    # $sender_ident: the RFC 1413 answer for a network client
    t["ident"] = (g["login"] or None) if g["ip"] else None
    t["protocol"] = g["proto"]
    t["log_lines"] = [truth_line] + ([arrival] if arrival else [])
    return t


def capture_exim(out: Path, tls: Path, syslog: SyslogSink, sink: Sink, only: set[str] | None) -> None:
    password = secrets.token_urlsafe(18)
    conf = EXIM_CONF.replace("@TLS@", str(tls)).replace("@PASSWORD@", password)
    Path("/etc/exim4").mkdir(exist_ok=True)
    Path("/etc/exim4/exim4.conf").write_text(conf)
    private_key_copy(tls, "/etc/exim4/mx.key", "Debian-exim")
    for d in ("/var/spool/exim4", "/var/log/exim4"):
        Path(d).mkdir(parents=True, exist_ok=True)
        shutil.chown(d, "Debian-exim", "Debian-exim")
    version = exim_version()
    daemon = subprocess.Popen(["/usr/sbin/exim4", "-bdf", "-q30s"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    mainlog = Path("/var/log/exim4/mainlog")
    try:
        wait_port(MX4)
        for case in NETWORK_CASES:
            if only and case.name not in only:
                continue
            mid_body = message_for("exim", case.name)
            server = {CLIENT6: MX6, LOOP: LOOP}.get(case.source, MX4)
            sent = send_case("exim", case, server, mid_body, tls / "mx.crt", password)
            if sent is None:
                continue
            raw = sink.wait(mid_body[0])
            time.sleep(0.3)
            truth = exim_truth(mainlog.read_text(), mid_body[0], case.name, case.note, version)
            truth["sent"] = sent
            check_sent(truth, sent)
            write_capture(out, "exim", case.name, raw, truth)
        # local submissions: SMTP on standard input (-bs) and the sendmail interface (-t)
        for name, args, note, smtp in (
            ("local-bs", ["-bs"], "local SMTP on standard input (exim -bs) by user alice", True),
            ("local-sendmail", ["-odi", "-t"], "sendmail interface (exim -t) by user alice", False),
        ):
            if only and name not in only:
                continue
            mid, body = message_for("exim", name)
            if smtp:
                script = (
                    b"EHLO alice-workstation.example\r\nMAIL FROM:<alice@mx.mta.test>\r\n"
                    + f"RCPT TO:<{RCPT}>\r\n".encode() + b"DATA\r\n" + body + b".\r\nQUIT\r\n"
                )
            else:
                script = body.replace(b"\r\n", b"\n")
            r = run(["setpriv", "--reuid=alice", "--regid=alice", "--init-groups",
                     "/usr/sbin/exim4", *args], input=script, capture_output=True, check=False)
            if r.returncode != 0:
                raise RuntimeError(f"exim {' '.join(args)} failed: {r.stderr.decode()} {r.stdout.decode()}")
            raw = sink.wait(mid)
            time.sleep(0.3)
            truth = exim_truth(mainlog.read_text(), mid, name, note, version)
            if truth["network"]:
                raise RuntimeError(f"exim logged {truth} for a local submission by alice")
            truth["sent"] = {"local_command": "exim4 " + " ".join(args), "user": "alice",
                             "helo": "alice-workstation.example" if smtp else None}
            write_capture(out, "exim", name, raw, truth)
    finally:
        stop_process(daemon)


# --------------------------------------------------------------------------- dma

DMA_CONF = """SMARTHOST 192.0.2.250
PORT 25
MAILNAME /etc/mailname
SPOOLDIR /var/spool/dma
"""


def dma_truth(syslog: SyslogSink, mark: int, case: str, note: str, version: str) -> dict:
    """dma logs to syslog: "new mail from user=U uid=N envelope_from=<...>", then the queue id."""
    lines = [ln for ln in syslog.since(mark) if "dma[" in ln]
    new = next((ln for ln in lines if "new mail from user=" in ln), None)
    if new is None:
        raise RuntimeError(f"dma logged no 'new mail from' line: {lines}")
    m = re.search(r"new mail from user=(\S+) uid=(\d+)", new)
    if m is None:
        raise RuntimeError(f"unreadable dma line: {new}")
    t = base_truth("dma", version, case, note)
    t.update(network=False, tls=False, local_user=m.group(1), local_uid=int(m.group(2)))
    t["log_lines"] = lines
    return t


def capture_dma(out: Path, tls: Path, syslog: SyslogSink, sink: Sink, only: set[str] | None) -> None:
    Path("/etc/dma").mkdir(exist_ok=True)
    Path("/etc/dma/dma.conf").write_text(DMA_CONF)
    pkg = PACKAGE_VERSIONS.get("dma", "unknown")
    version = pkg.split("-")[0]
    for name, user, args, note in (
        ("local-user", "alice", ["-f", "alice@mx.mta.test", RCPT], "dma run by user alice, recipient on the command line"),
        ("local-root-t", "root", ["-t"], "dma -t run by root, recipients read from the header"),
    ):
        if only and name not in only:
            continue
        mid, body = message_for("dma", name)
        mark = len(syslog.lines)
        cmd = ["/usr/sbin/dma", *args]
        if user != "root":
            cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", *cmd]
        r = run(cmd, input=body.replace(b"\r\n", b"\n"), capture_output=True, check=False)
        if r.returncode != 0:
            raise RuntimeError(f"dma failed: {r.stderr.decode()}")
        raw = sink.wait(mid)
        time.sleep(0.5)
        truth = dma_truth(syslog, mark, name, note, version)
        if truth["local_user"] != user:
            raise RuntimeError(f"dma logged user {truth['local_user']!r}, but {user!r} ran it")
        truth["sent"] = {"local_command": "dma " + " ".join(args), "user": user}
        write_capture(out, "dma", name, raw, truth)


# --------------------------------------------------------------------------- OpenSMTPD

SMTPD_CONF = """pki mx.mta.test cert "@TLS@/mx.crt"
pki mx.mta.test key "/etc/smtpd/mx.key"
table creds file:/etc/smtpd/creds
listen on 192.0.2.25 tls pki mx.mta.test auth-optional <creds>
listen on 2001:db8::25 tls pki mx.mta.test auth-optional <creds>
listen on 127.0.0.1 tls pki mx.mta.test auth-optional <creds>
action "sink" relay host smtp://192.0.2.250:25
match from any for any action "sink"
match from local for any action "sink"
match auth from any for any action "sink"
"""


_SMTPD_CONNECTED = re.compile(r"smtp connected address=(?P<addr>\S+) host=(?P<host>\S+)")
_SMTPD_HELO = re.compile(r"smtp: 0x[0-9a-f]+: <<< (?:ehlo|helo) (?P<helo>\S+)", re.IGNORECASE)
_SMTPD_ENVELOPE = re.compile(r"smtp envelope evpid=\S+ from=<(?P<from>[^>]*)>")


def opensmtpd_truth(lines: list[str], mid: str, case: str, note: str, version: str) -> dict:
    """Read one session from smtpd's log (-v, with the smtp trace -T smtp, for the HELO)."""
    if not any(f"Message-ID: {mid}" in ln for ln in lines):
        raise RuntimeError(f"smtpd's trace does not show {mid}")
    conn = [m for ln in lines if (m := _SMTPD_CONNECTED.search(ln))]
    helo = [m for ln in lines if (m := _SMTPD_HELO.search(ln))]
    env = [m for ln in lines if (m := _SMTPD_ENVELOPE.search(ln))]
    if len(conn) != 1 or len(helo) != 1 or len(env) != 1:
        raise RuntimeError(f"expected one session in smtpd's log, read {len(conn)}/{len(helo)}/{len(env)}")
    t = base_truth("opensmtpd", version, case, note)
    addr, host = conn[0].group("addr"), conn[0].group("host")
    t["helo"] = helo[0].group("helo")
    t["tls"] = any(" smtp tls " in ln or "STARTTLS" == ln.rsplit("<<< ", 1)[-1] for ln in lines)
    if addr == "local":
        # the enqueuer's session on smtpd's local socket: no network address; smtpd
        # records its own name as the host, and the sender from the user's login
        # (its log names no user: the envelope sender comes from the From: header)
        t["network"] = False
        t["logged_host"] = host
        t["logged_sender"] = env[0].group("from")
    else:
        # smtpd writes an IPv6 address in brackets: the truth keeps the bare address
        t["logged_client_addr"] = addr
        t["client_ip"] = addr.removeprefix("[").removesuffix("]")
        t["reverse_name"] = None if host == "<unknown>" else host
    keep = ("smtp connected", "<<< ehlo", "<<< EHLO", "<<< helo", "<<< HELO", "smtp message",
            "smtp envelope", " smtp tls ", "smtp authentication", f"Message-ID: {mid}")
    t["log_lines"] = [ln for ln in lines if any(k in ln for k in keep)]
    return t


def capture_opensmtpd(out: Path, tls: Path, syslog: SyslogSink, sink: Sink, only: set[str] | None) -> None:
    password = secrets.token_urlsafe(18)
    etc = Path("/etc/smtpd")
    etc.mkdir(exist_ok=True)
    # what the maintainer scripts would do: smtpctl setgid opensmtpq
    shutil.chown("/usr/sbin/smtpctl", "root", "opensmtpq")
    os.chmod("/usr/sbin/smtpctl", 0o2755)
    enc = run(["/usr/sbin/smtpctl", "encrypt"], input=password + "\n", capture_output=True, text=True)
    (etc / "creds").write_text(f"{AUTH_USER} {enc.stdout.strip()}\n")
    os.chmod(etc / "creds", 0o640)
    shutil.chown(etc / "creds", "root", "opensmtpd")
    private_key_copy(tls, str(etc / "mx.key"), "root")
    (etc / "smtpd.conf").write_text(SMTPD_CONF.replace("@TLS@", str(tls)))
    version = PACKAGE_VERSIONS.get("opensmtpd", "unknown").split("-")[0]
    # smtpctl acts as sendmail(8) when called by that name (Debian's /usr/sbin/sendmail link)
    sendmail = Path("/run/opensmtpd-bin/sendmail")
    sendmail.parent.mkdir(exist_ok=True)
    sendmail.symlink_to("/usr/sbin/smtpctl")
    daemon = subprocess.Popen(["/usr/sbin/smtpd", "-F", "-v", "-T", "smtp", "-f", str(etc / "smtpd.conf")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(MX4)
        time.sleep(0.5)
        for case in NETWORK_CASES:
            if only and case.name not in only:
                continue
            if case.starttls:
                # Debian 12's OpenSMTPD 6.8.0p2 fails every TLS handshake under OpenSSL 3
                # ("missing private key" from its privilege-separated key process), with
                # RSA and EC keys alike; AUTH is offered only after TLS
                log(f"opensmtpd/{case.name}: skipped, TLS does not work in this package")
                continue
            mid_body = message_for("opensmtpd", case.name)
            server = {CLIENT6: MX6, LOOP: LOOP}.get(case.source, MX4)
            mark = len(syslog.lines)
            sent = send_case("opensmtpd", case, server, mid_body, tls / "mx.crt", password)
            if sent is None:
                continue
            raw = sink.wait(mid_body[0])
            time.sleep(0.5)
            truth = opensmtpd_truth(syslog.since(mark), mid_body[0], case.name, case.note, version)
            truth["sent"] = sent
            check_sent(truth, sent, asks_ident=False)  # smtpd makes no ident queries
            write_capture(out, "opensmtpd", case.name, raw, truth)
        name = "local-user"
        if not only or name in only:
            mid, body = message_for("opensmtpd", name)
            mark = len(syslog.lines)
            r = run(["setpriv", "--reuid=alice", "--regid=alice", "--init-groups", str(sendmail), RCPT],
                    input=body.replace(b"\r\n", b"\n"), capture_output=True, check=False)
            if r.returncode != 0:
                raise RuntimeError(f"smtpctl (sendmail) failed: {r.stderr.decode()}")
            raw = sink.wait(mid)
            time.sleep(0.5)
            truth = opensmtpd_truth(syslog.since(mark), mid, name,
                                    "sendmail interface (smtpctl as sendmail, no -f) run by user alice", version)
            if truth["network"]:
                raise RuntimeError(f"smtpd logged {truth} for a local submission by alice")
            truth["sent"] = {"local_command": f"sendmail {RCPT} (smtpctl)", "user": "alice"}
            write_capture(out, "opensmtpd", name, raw, truth)
    finally:
        stop_process(daemon)


# --------------------------------------------------------------------------- Sendmail

SENDMAIL_MC = """divert(0)dnl
include(`/usr/share/sendmail/cf/m4/cf.m4')dnl
VERSIONID(`capture')dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `mx.mta.test')dnl
define(`SMART_HOST', `[192.0.2.250]')dnl
define(`confLOG_LEVEL', `12')dnl
define(`confTO_IDENT', `5s')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`ALIAS_FILE', `/etc/mail/aliases')dnl
define(`confSERVER_CERT', `/etc/mail/tls/mx.crt')dnl
define(`confSERVER_KEY', `/etc/mail/tls/mx.key')dnl
define(`confCACERT', `/etc/mail/tls/mx.crt')dnl
define(`confCACERT_PATH', `/etc/mail/tls')dnl
define(`confAUTH_MECHANISMS', `PLAIN LOGIN')dnl
TRUST_AUTH_MECH(`PLAIN LOGIN')dnl
define(`confAUTH_OPTIONS', `A p')dnl
FEATURE(`promiscuous_relay')dnl
FEATURE(`accept_unresolvable_domains')dnl
FEATURE(`accept_unqualified_senders')dnl
DAEMON_OPTIONS(`Family=inet, Name=MTA-v4, Addr=192.0.2.25, Port=smtp')dnl
DAEMON_OPTIONS(`Family=inet, Name=MTA-lo, Addr=127.0.0.1, Port=smtp')dnl
DAEMON_OPTIONS(`Family=inet6, Name=MTA-v6, Addr=2001:db8::25, Port=smtp')dnl
MAILER(`local')dnl
MAILER(`smtp')dnl
LOCAL_CONFIG
Klog syslog
LOCAL_RULESETS
SLocal_check_rcpt
R$*\t$: $(log capture-truth|qid|$&i|addr|$&{client_addr}|name|$&{client_name}|resolve|$&{client_resolve}|helo|$&s|tls|$&{tls_version}|cipher|$&{cipher}|auth|$&{auth_authen}|end $) $1
"""

SUBMIT_MC = """divert(0)dnl
include(`/usr/share/sendmail/cf/m4/cf.m4')dnl
VERSIONID(`capture submit')dnl
define(`confCF_VERSION', `Submit')dnl
define(`__OSTYPE__',`')dnl
define(`confDOMAIN_NAME', `mx.mta.test')dnl
define(`confTIME_ZONE', `USE_TZ')dnl
define(`confDONT_INIT_GROUPS', `True')dnl
define(`confLOG_LEVEL', `12')dnl
FEATURE(`msp', `[127.0.0.1]')dnl
"""

SASL_CONF = """pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: /etc/sasldb2
mech_list: PLAIN LOGIN
"""

SENDMAIL = "/usr/libexec/sendmail/sendmail"

_SM_TRUTH = re.compile(
    r"(?P<qid>\w+): capture-truth\|qid\|\.?(?P=qid)\.?\|addr\|(?P<addr>[^|]*)\|name\|(?P<name>[^|]*)\|"
    r"resolve\|(?P<resolve>[^|]*)\|helo\|(?P<helo>[^|]*)\|tls\|(?P<tls>[^|]*)\|cipher\|(?P<cipher>[^|]*)\|"
    r"auth\|(?P<auth>[^|]*)\|end"
)


def sendmail_version() -> str:
    out = run([SENDMAIL, "-d0.1", "-bt"], input="", capture_output=True, text=True, check=False).stdout
    m = re.search(r"Version (\S+)", out)
    return m.group(1) if m else "unknown"


def _sm_arrival(lines: list[str], mid: str) -> tuple[str, str]:
    """The queue id and the 'from=' line sendmail logged for the message ``mid``."""
    for ln in lines:
        m = re.search(r"(\w+): from=.*, msgid=" + re.escape(mid), ln)
        if m:
            return m.group(1), ln
    raise RuntimeError(f"sendmail logged no arrival of {mid}")


def sendmail_truth(lines: list[str], mid: str, case: str, note: str, version: str) -> dict:
    """The MTA's view of a network session: its capture-truth line plus its ordinary lines."""
    qid, arrival = _sm_arrival(lines, mid)
    return sendmail_truth_for_qid(lines, qid, arrival, case, note, version)


def sendmail_truth_for_qid(lines: list[str], qid: str, arrival: str, case: str, note: str, version: str) -> dict:
    tl = next((ln for ln in lines if f"{qid}: capture-truth" in ln), None)
    m = _SM_TRUTH.search(tl or "")
    if m is None:
        raise RuntimeError(f"sendmail logged no readable capture-truth line for {qid}: {tl}")
    # the syslog map writes its key with BlankSub ('.') where a macro's tokens met the
    # '|' separators: strip that one '.' at each end
    g = {k: v.removeprefix(".").removesuffix(".") for k, v in m.groupdict().items()}
    relay = re.search(r"relay=(.*)$", arrival)
    relay_text = relay.group(1) if relay else ""
    # the session's own lines: STARTTLS and AUTH are logged with the same relay=
    pid = re.search(r"sendmail\[(\d+)\]", arrival)
    session = [ln for ln in lines if pid and f"sendmail[{pid.group(1)}]" in ln]
    starttls = next((ln for ln in session if "STARTTLS=server, relay=" in ln), None)
    auth = next((ln for ln in session if "AUTH=server, relay=" in ln), None)
    t = base_truth("sendmail", version, case, note)
    # ${client_addr} writes IPv6 as "IPv6:" and eight full groups; the truth keeps the
    # canonical form (as written in the log under logged_client_addr)
    t["logged_client_addr"] = g["addr"]
    addr = g["addr"].removeprefix("IPv6:")
    t["client_ip"] = str(ipaddress.ip_address(addr)) if addr else None
    # ${client_resolve}: OK (forward-confirmed), FAIL (no PTR), FORGED, TEMP
    t["client_resolve"] = g["resolve"]
    # OK: ${client_name} is the confirmed name. FORGED: ${client_name} is the bracketed
    # address, and the PTR name it found is in the arrival line's relay= field,
    # "relay=NAME [ip] (may be forged)". FAIL/TEMP: no name.
    if g["resolve"] == "OK":
        t["reverse_name"] = g["name"]
    elif g["resolve"] == "FORGED":
        fm = re.search(r"relay=(\S+) \[[^\]]+\] \(may be forged\)", arrival)
        if fm is None or fm.group(1).startswith("["):
            raise RuntimeError(f"FORGED, but no name in the arrival line: {arrival}")
        t["reverse_name"] = fm.group(1)
    t["reverse_name_confirmed"] = {"OK": True, "FORGED": False}.get(g["resolve"])
    t["helo"] = g["helo"] or None
    t["tls"] = bool(g["tls"])
    t["tls_version"] = g["tls"] or None
    t["tls_cipher"] = g["cipher"] or None
    am = re.search(r"authid=([^,\s]+)", auth or "")
    t["authenticated_user"] = am.group(1) if am else None
    if (g["auth"] or None) != t["authenticated_user"]:
        raise RuntimeError(f"{{auth_authen}} {g['auth']!r} differs from the AUTH line {auth!r}")
    t["logged_relay"] = relay_text
    # the RFC 1413 answer, which sendmail puts before the host in relay=: "relay=USER@NAME [ip]"
    im = re.match(r"(\S+)@\S+ \[", relay_text)
    t["ident"] = im.group(1) if im else None
    t["log_lines"] = [x for x in (tl, arrival, starttls, auth) if x]
    return t


def capture_sendmail(out: Path, tls: Path, syslog: SyslogSink, sink: Sink, only: set[str] | None) -> None:
    password = secrets.token_urlsafe(18)
    etc = Path("/etc/mail")
    (etc / "tls").mkdir(parents=True, exist_ok=True)
    shutil.copy(tls / "mx.crt", etc / "tls" / "mx.crt")
    private_key_copy(tls, str(etc / "tls" / "mx.key"), "root")
    (etc / "aliases").write_text("postmaster: root\n")
    for name, text in (("sendmail", SENDMAIL_MC), ("submit", SUBMIT_MC)):
        (etc / f"{name}.mc").write_text(text)
        cf = run(["m4", str(etc / f"{name}.mc")], capture_output=True, text=True)
        (etc / f"{name}.cf").write_text(cf.stdout)
    Path("/etc/sasl2").mkdir(exist_ok=True)
    Path("/etc/sasl2/Sendmail.conf").write_text(SASL_CONF)
    run(["saslpasswd2", "-p", "-c", "-u", "mx.mta.test", "-f", "/etc/sasldb2", AUTH_USER],
        input=password.encode(), capture_output=True)
    os.chmod("/etc/sasldb2", 0o600)
    # what the maintainer scripts would do: queues, aliases database, sendmail setgid smmsp
    for q, owner, mode in (("/var/spool/mqueue", "root", 0o700), ("/var/spool/clientmqueue", "smmsp", 0o770)):
        Path(q).mkdir(parents=True, exist_ok=True)
        shutil.chown(q, owner, "smmsp")
        os.chmod(q, mode)
    shutil.chown(SENDMAIL, "root", "smmsp")
    os.chmod(SENDMAIL, 0o2755)
    run([SENDMAIL, "-bi"], capture_output=True, check=False)
    version = sendmail_version()
    daemon = subprocess.Popen([SENDMAIL, "-bD", "-q30s"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(MX4)
        for case in NETWORK_CASES:
            if only and case.name not in only:
                continue
            mid_body = message_for("sendmail", case.name)
            server = {CLIENT6: MX6, LOOP: LOOP}.get(case.source, MX4)
            mark = len(syslog.lines)
            sent = send_case("sendmail", case, server, mid_body, tls / "mx.crt", password)
            if sent is None:
                continue
            raw = sink.wait(mid_body[0])
            time.sleep(0.5)
            truth = sendmail_truth(syslog.since(mark), mid_body[0], case.name, case.note, version)
            truth["sent"] = sent
            check_sent(truth, sent)
            write_capture(out, "sendmail", case.name, raw, truth)
        if not only or "local-msp" in only:
            sendmail_local_msp(out, syslog, sink, version)
        if not only or "local-root" in only:
            mid, body = message_for("sendmail", "local-root")
            mark = len(syslog.lines)
            r = run([SENDMAIL, "-Am", "-odi", "-i", RCPT], input=body.replace(b"\r\n", b"\n"),
                    capture_output=True, check=False)
            if r.returncode != 0:
                raise RuntimeError(f"sendmail -Am failed: {r.stderr.decode()}")
            raw = sink.wait(mid)
            time.sleep(0.5)
            lines = syslog.since(mark)
            _qid, arrival = _sm_arrival(lines, mid)
            truth = sendmail_local_truth(arrival, "local-root",
                                         "sendmail -Am -odi run by root: the MTA's own local submission", version)
            truth["sent"] = {"local_command": f"sendmail -Am -odi -i {RCPT}", "user": "root"}
            write_capture(out, "sendmail", "local-root", raw, truth)
    finally:
        stop_process(daemon)


def sendmail_local_truth(arrival: str, case: str, note: str, version: str) -> dict:
    """A command-line submission: sendmail logs 'relay=USER@localhost' and no client address."""
    relay = re.search(r"relay=(\S+)@localhost$", arrival)
    if relay is None or "daemon=" in arrival:
        raise RuntimeError(f"not a local submission in sendmail's log: {arrival}")
    t = base_truth("sendmail", version, case, note)
    t.update(network=False, tls=False, local_user=relay.group(1))
    t["log_lines"] = [arrival]
    return t


def sendmail_local_msp(out: Path, syslog: SyslogSink, sink: Sink, version: str) -> None:
    """alice submits through the MSP (submit.cf), which relays to the MTA on 127.0.0.1.

    The message then carries two hops: the MSP's (index 1, a local submission) and the
    MTA's (index 0, from localhost). Each gets its own truth file over the same header.
    """
    mid, body = message_for("sendmail", "local-msp")
    mark = len(syslog.lines)
    r = run(["setpriv", "--reuid=alice", "--regid=alice", "--init-groups", SENDMAIL, "-i", RCPT],
            input=body.replace(b"\r\n", b"\n"), capture_output=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"sendmail (MSP) failed: {r.stderr.decode()}")
    raw = sink.wait(mid)
    time.sleep(0.5)
    lines = syslog.since(mark)
    arrivals = [ln for ln in lines if re.search(r"\w+: from=.*, msgid=" + re.escape(mid), ln)]
    msp = [ln for ln in arrivals if "daemon=" not in ln]
    mta = [ln for ln in arrivals if "daemon=" in ln]
    if len(msp) != 1 or len(mta) != 1:
        raise RuntimeError(f"expected one MSP and one MTA arrival of {mid}: {arrivals}")
    truth = sendmail_local_truth(msp[0], "local-msp",
                                 "submitted by alice through the MSP (submit.cf): the lower Received", version)
    if truth["local_user"] != "alice":
        raise RuntimeError(f"the MSP logged {truth['local_user']!r}, but alice ran it")
    truth["received_index"] = 1
    truth["sent"] = {"local_command": f"sendmail -i {RCPT} (MSP, submit.cf)", "user": "alice"}
    write_capture(out, "sendmail", "local-msp", raw, truth)
    qid = re.search(r"(\w+): from=", mta[0]).group(1)
    relay_truth = sendmail_truth_for_qid(
        lines, qid, mta[0], "local-msp-relay",
        "the MSP's relay of local-msp to the MTA on 127.0.0.1: the upper Received", version)
    relay_truth["received_index"] = 0
    relay_truth["sent"] = {"by": "the MSP", "source_ip": LOOP}
    write_capture(out, "sendmail", "local-msp-relay", raw, relay_truth)


# --------------------------------------------------------------------------- main


CAPTURERS = {
    "exim": capture_exim,
    "dma": capture_dma,
    "opensmtpd": capture_opensmtpd,
    "sendmail": capture_sendmail,
}
MTA_PACKAGES = {
    "exim": ("exim4-daemon-light", "exim4-base", "exim4-config"),
    "dma": ("dma",),
    "opensmtpd": ("opensmtpd",),
    "sendmail": ("sendmail-bin", "sendmail-base", "sendmail-cf"),
}


def main(argv: list[str]) -> int:
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    prefix, work, out = Path(argv[0]), Path(argv[1]), Path(argv[2])
    mtas = argv[3:]
    only_env = os.environ.get("CAPTURE_ONLY")
    only = set(only_env.split(",")) if only_env else None
    versions = prefix / "versions.txt"
    if versions.exists():
        for line in versions.read_text().splitlines():
            m = re.match(r"Package: (\S+) Version: (\S+)", line)
            if m:
                PACKAGE_VERSIONS[m.group(1)] = m.group(2)
    syslog, tls = setup_namespace(prefix, work)
    sink = Sink()
    try:
        if os.environ.get("CAPTURE_SHELL"):
            subprocess.run(["bash"], check=False)
            return 0
        for mta in mtas:
            log(f"{mta}: capturing")
            CAPTURERS[mta](out, tls, syslog, sink, only)
    finally:
        sink.stop()
        syslog.running = False
        (work / "syslog.log").write_text("\n".join(syslog.lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
