"""Bring the mail lab up and down, report its status, switch faults.

    from verifier.lab.control import Lab
    lab = Lab()            # $VERIFIER_LAB_DIR or /var/lib/verifier-lab
    lab.up()               # False if it was already up
    lab.set_fault("smarthost-down", True)
    lab.down()

Everything the lab starts is recorded in ``lab.json`` (PIDs, the emulator's
port, the ``/dev/log`` sink if the lab made one, the faults switched on), and
``down`` stops exactly those PIDs, then any process still living in the lab's
own network namespace, then removes the veth pair (and its routes), the
namespace and ``/etc/netns/verifier-lab``.
"""

from __future__ import annotations

import base64
import contextlib
import grp
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from verifier.errors import LabError
from verifier.lab import configs, system
from verifier.lab import topology as t
from verifier.lab.api.state import StateStore
from verifier.lab.clients import LabIMAP4_SSL, tls_context
from verifier.lab.layout import Layout
from verifier.lab.postfix_maps import apply_routes, write_file, write_tables
from verifier.lab.probe_profile import ovh_conf

FAULTS = {
    "smarthost-down": "the smarthost's Postfix is stopped",
    "smarthost-password": "the smarthost's password for the platform is changed",
    "smarthost-no-starttls": "the smarthost no longer offers STARTTLS",
    "dkim-wrong-key": "DNS publishes a DKIM key that does not match the smarthost's signing key",
    "imap-no-idle": "Dovecot no longer announces IMAP IDLE",
}

POSTFIX_INSTANCES = ("platform", "relay", "mx")
DEVLOG = Path("/dev/log")
TLS_HOSTS = {
    "platform": (t.PLATFORM_NAME,),
    "relay": (t.RELAY_NAME, t.RELAY_EGRESS_NAME),
    "mx": (t.MX_NAME, t.IMAP_NAME),
}


def _chown(path: Path, user: str, group: str | None = None) -> None:
    os.chown(path, pwd.getpwnam(user).pw_uid, grp.getgrnam(group or user).gr_gid)


def _mkdir(path: Path, mode: int = 0o755, owner: str | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    if owner:
        _chown(path, owner)
    return path


def _ssha512(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.sha512(password.encode() + salt).digest()
    return "{SSHA512}" + base64.b64encode(digest + salt).decode()


class Lab:
    """The mail lab in one state directory."""

    def __init__(self, layout: Layout | None = None, *, out: Callable[[str], None] | None = None) -> None:
        self.layout = layout or Layout.current()
        self.out = out or (lambda _msg: None)

    # --- state -------------------------------------------------------------------

    def load(self) -> dict[str, Any]:
        try:
            return json.loads(self.layout.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def save(self, state: dict[str, Any]) -> None:
        self.layout.root.mkdir(parents=True, exist_ok=True)
        write_file(self.layout.state_file, json.dumps(state, indent=1, sort_keys=True) + "\n", 0o600)

    def _record(self, state: dict[str, Any], name: str, pid: int | None) -> None:
        state.setdefault("pids", {})[name] = pid
        state.setdefault("starts", {})[name] = system.start_time(pid)
        self.save(state)

    @staticmethod
    def _live(state: dict[str, Any]) -> dict[str, int]:
        """The recorded daemons still running: alive, and the same process that was recorded.

        A PID left in the state by a lab that was killed may since have gone to another
        process; its start time tells them apart, so that process is never signalled.
        """
        starts = state.get("starts") or {}
        live = {}
        for name, pid in (state.get("pids") or {}).items():
            if not system.pid_alive(pid):
                continue
            if starts.get(name) is not None and system.start_time(pid) != starts[name]:
                continue
            live[name] = pid
        return live

    def is_up(self) -> bool:
        state = self.load()
        if not state.get("pids") or not system.netns_exists():
            return False
        return all(self._component_up(name, state) for name in self._expected(state))

    @staticmethod
    def _expected(state: dict[str, Any]) -> list[str]:
        names = ["nsd", "dovecot", "opendkim-sign", "opendkim-verify", "postfix-platform", "postfix-mx", "api"]
        if "smarthost-down" not in state.get("faults", []):
            names.append("postfix-relay")
        if state.get("devlog"):
            names.append("syslog")
        return names

    def _component_up(self, name: str, state: dict[str, Any]) -> bool:
        return name in self._live(state)

    # --- up ------------------------------------------------------------------------

    def up(self) -> bool:
        """Bring the lab up; False (and nothing done) if it is already up."""
        system.check_can_run()
        started = time.monotonic()
        if self.is_up():
            return False
        state = self.load()
        if state.get("pids") or system.netns_exists() or system.link_exists(t.VETH_MAIN):
            other = self.running_root()
            if other and other != self.layout.root:
                raise LabError(
                    f"A lab is already running with its state in {other}; stop it with "
                    f"`VERIFIER_LAB_DIR={other} verifier lab down` first."
                )
            if self._live(state) or system.netns_pids():
                raise LabError(
                    "The lab is partly up (left from an earlier run); run `verifier lab down` first."
                )
            # Left by a lab that was killed: no process of it runs, only its network remains.
            self.out("Removing what a stopped lab left behind (its network namespace and links).")
            self.down()
        self._check_dir()
        state = {"root": str(self.layout.root), "pids": {}, "faults": [], "started_at": time.time()}
        self.save(state)
        timings: dict[str, float] = {}
        try:
            self._step(timings, "files", lambda: self._prepare_files(state))
            self._step(timings, "network", lambda: self._make_network(state))
            self._step(timings, "syslog", lambda: self._start_syslog(state))
            self._step(timings, "daemons", lambda: self._start_daemons(state))
            self._step(timings, "postfix", lambda: self._start_postfix(state, POSTFIX_INSTANCES))
            self._step(timings, "api", lambda: self._start_api(state))
            self._step(timings, "ready", lambda: self._wait_ready(state))
        except BaseException as exc:
            try:
                self.down()
            except Exception:  # noqa: BLE001 - report the first failure
                pass
            if isinstance(exc, LabError):
                raise
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise LabError(f"The lab did not come up ({type(exc).__name__}: {exc}).") from exc
        state["up_seconds"] = round(time.monotonic() - started, 2)
        state["up_timings"] = timings
        self.save(state)
        return True

    @staticmethod
    def _step(timings: dict[str, float], name: str, fn: Callable[[], object]) -> None:
        t0 = time.monotonic()
        fn()
        timings[name] = round(time.monotonic() - t0, 3)

    def _check_dir(self) -> None:
        root = self.layout.root
        for parent in [root, *root.parents]:
            if not parent.exists():
                continue
            mode = parent.stat().st_mode
            if not mode & 0o001 and parent != root:
                raise LabError(
                    f"The lab's daemons run as their own users and cannot enter {parent} (mode "
                    f"{mode & 0o777:o}); choose a VERIFIER_LAB_DIR whose parents are searchable by all."
                )
        _mkdir(root, 0o755)

    # --- files -----------------------------------------------------------------------

    def _secret(self, name: str) -> str:
        """A random password kept in ``secrets/<name>.password`` (mode 0600), made once."""
        path = self.layout.password_file(name)
        if path.exists():
            return path.read_text().strip()
        value = secrets.token_urlsafe(18)
        write_file(path, value + "\n", 0o600)
        return value

    def _openssl(self, *args: str, what: str) -> str:
        return system.run(["openssl", *args], what=what).stdout

    def _make_tls(self) -> None:
        tls = _mkdir(self.layout.tls, 0o755)
        ca_key, ca_crt = tls / "ca.key", tls / "ca.crt"
        if not (ca_key.exists() and ca_crt.exists()):
            self._openssl(
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", str(ca_key), "-out", str(ca_crt), "-days", "3650",
                "-subj", "/O=verifier lab/CN=verifier lab CA",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-addext", "subjectKeyIdentifier=hash",
                what="make the lab CA",
            )
            os.chmod(ca_key, 0o600)
            os.chmod(ca_crt, 0o644)
            for name in TLS_HOSTS:
                with contextlib.suppress(FileNotFoundError):
                    (tls / f"{name}.crt").unlink()
        for name, hosts in TLS_HOSTS.items():
            crt, key = tls / f"{name}.crt", tls / f"{name}.key"
            if crt.exists() and key.exists():
                continue
            csr, ext = tls / f"{name}.csr", tls / f"{name}.ext"
            self._openssl(
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={hosts[0]}",
                what=f"make the key of {hosts[0]}",
            )
            os.chmod(key, 0o600)
            ext.write_text(
                "basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n"
                "authorityKeyIdentifier=keyid\n"
                "subjectKeyIdentifier=hash\n"
                f"subjectAltName={','.join('DNS:' + h for h in hosts)}\n"
            )
            self._openssl(
                "x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
                "-CAcreateserial", "-days", "825", "-sha256", "-extfile", str(ext), "-out", str(crt),
                what=f"sign the certificate of {hosts[0]}",
            )
            csr.unlink()
            ext.unlink()
            os.chmod(crt, 0o644)

    def _dkim_key(self, name: str) -> tuple[Path, str]:
        """(private key path, public key base64) of ``secrets/dkim-<name>.key``, made once."""
        path = self.layout.secrets / f"dkim-{name}.key"
        if not path.exists():
            self._openssl("genrsa", "-out", str(path), "2048", what="make a DKIM key")
        os.chmod(path, 0o600)
        der = subprocess.run(
            ["openssl", "rsa", "-in", str(path), "-pubout", "-outform", "DER"],
            capture_output=True, stdin=subprocess.DEVNULL, check=True,
        ).stdout
        return path, base64.b64encode(der).decode()

    def _prepare_files(self, state: dict[str, Any]) -> None:
        lay = self.layout
        _mkdir(lay.secrets, 0o700)
        self._make_tls()
        passwords = {user: self._secret(user) for user in (*t.PLATFORM_ACCOUNTS, t.RECIPIENT, t.RELAY_USER)}
        sign_key, sign_pub = self._dkim_key("relay")
        _wrong_key, wrong_pub = self._dkim_key("wrong")
        state["dkim"] = {"good": sign_pub, "wrong": wrong_pub}
        state["zone_serial"] = int(time.time())
        self.save(state)

        if lay.run.exists():
            shutil.rmtree(lay.run)
        _mkdir(lay.run, 0o755)
        _mkdir(lay.log, 0o755)
        # NSD
        _mkdir(lay.nsd, 0o755, "nsd")
        _mkdir(lay.nsd / "xfr", 0o755, "nsd")
        self._write_zones(sign_pub, state["zone_serial"])
        write_file(lay.nsd / "nsd.conf", configs.nsd_conf(lay))
        (lay.log / "nsd.log").touch()
        _chown(lay.log / "nsd.log", "nsd")
        # OpenDKIM: its own copy of the signing key, owned by it.
        _mkdir(lay.opendkim, 0o755, "opendkim")
        key_copy = lay.opendkim / "relay.key"
        shutil.copyfile(sign_key, key_copy)
        os.chmod(key_copy, 0o600)
        _chown(key_copy, "opendkim")
        for name, text in {**configs.opendkim_sign(lay, key_copy), **configs.opendkim_verify(lay)}.items():
            write_file(lay.opendkim / name, text)
        # Dovecot
        dv = _mkdir(lay.dovecot, 0o755)
        _mkdir(dv / "state", 0o755)
        _mkdir(dv / "sieve", 0o755)
        _mkdir(lay.dovecot_base, 0o755)
        _mkdir(lay.mail, 0o700, "mail")
        write_file(dv / "dovecot.conf", configs.dovecot_conf(lay))
        write_file(dv / "faults.conf", "")
        write_file(dv / "sieve" / "spam.sieve", configs.spam_sieve())
        self._write_passwd(t.PLATFORM_IP, {u: passwords[u] for u in t.PLATFORM_ACCOUNTS})
        self._write_passwd(t.RELAY_IP, {t.RELAY_USER: passwords[t.RELAY_USER]})
        self._write_passwd(t.MX_IP, {t.RECIPIENT: passwords[t.RECIPIENT]})
        write_file(dv / "users", f"{t.RECIPIENT}::::::\n", 0o644)
        system.run(["sievec", str(dv / "sieve" / "spam.sieve")], what="compile the Junk Sieve rule")
        # Postfix
        for name, render in (("platform", configs.postfix_platform), ("relay", configs.postfix_relay),
                             ("mx", configs.postfix_mx)):
            d = _mkdir(lay.postfix(name), 0o755)
            _mkdir(d / "queue", 0o755)
            main, master = render(lay)
            write_file(d / "main.cf", main)
            write_file(d / "master.cf", master)
        write_file(lay.postfix("relay") / "bounce_rewrite", configs.relay_bounce_rewrite())
        write_file(lay.postfix("mx") / "vmailbox", f"{t.RECIPIENT} OK\n")
        write_file(lay.postfix("mx") / "header_checks", configs.mx_header_checks())
        write_file(lay.postfix("mx") / "policyd-spf.conf", configs.policyd_spf_conf())
        write_file(lay.platform_maps / "sender_login", "".join(f"{a} {a}\n" for a in t.PLATFORM_ACCOUNTS))
        write_tables([], lay)

    def _write_zones(self, dkim_pub: str, serial: int) -> None:
        for zone, text in configs.zones(dkim_pub, serial).items():
            write_file(self.layout.nsd / f"{zone}.zone", text)

    def _write_passwd(self, ip: str, users: dict[str, str]) -> None:
        path = self.layout.dovecot / f"passwd.{ip}"
        before = path.stat().st_mtime if path.exists() else 0.0
        write_file(path, "".join(f"{u}:{_ssha512(p)}::::::\n" for u, p in users.items()), 0o640)
        _chown(path, "root", "dovecot")
        # Dovecot compares a passwd-file's mtime in whole seconds: make sure it changes.
        mtime = max(time.time(), int(before) + 1.0)
        os.utime(path, (mtime, mtime))

    # --- network -------------------------------------------------------------------

    def _make_network(self, state: dict[str, Any]) -> None:
        ns = t.NETNS
        taken = system.run(["ip", "-o", "-4", "addr", "show"], what="list this machine's addresses").stdout
        for ip in (*t.LAB_ADDRESSES, t.CLIENT_IP):
            if f" {ip}/" in taken:
                raise LabError(f"The lab's address {ip} is already in use on this machine, so the lab cannot take it.")
        # `ip netns add` makes /run/netns (a mount point) if missing; `down` undoes that.
        state["run_netns_made"] = not system.RUN_NETNS.exists()
        self.save(state)
        cmds = [["ip", "netns", "add", ns], ["ip", "-n", ns, "link", "set", "lo", "up"]]
        cmds += [["ip", "-n", ns, "addr", "add", f"{ip}/32", "dev", "lo"] for ip in t.LAB_ADDRESSES]
        cmds += [
            ["ip", "link", "add", t.VETH_MAIN, "type", "veth", "peer", "name", t.VETH_LAB, "netns", ns],
            # IPv4 only: no IPv6 link-local chatter on the pair.
            ["sysctl", "-q", "-w", f"net.ipv6.conf.{t.VETH_MAIN}.disable_ipv6=1"],
            system.netns_cmd("sysctl", "-q", "-w", f"net.ipv6.conf.{t.VETH_LAB}.disable_ipv6=1"),
            ["ip", "addr", "add", f"{t.CLIENT_IP}/32", "dev", t.VETH_MAIN],
            ["ip", "link", "set", t.VETH_MAIN, "up"],
            ["ip", "-n", ns, "link", "set", t.VETH_LAB, "up"],
            ["ip", "-n", ns, "route", "add", f"{t.CLIENT_IP}/32", "dev", t.VETH_LAB],
        ]
        cmds += [["ip", "route", "add", f"{ip}/32", "dev", t.VETH_MAIN, "src", t.CLIENT_IP]
                 for ip in t.LAB_ADDRESSES]
        for cmd in cmds:
            # A kernel without IPv6 has nothing to disable.
            system.run(cmd, what=f"set up the lab network (`{' '.join(cmd)}`)", check="sysctl" not in cmd)
        etc = self.layout.netns_etc
        if not etc.parent.exists():
            state["made_etc_netns"] = True
            self.save(state)
        _mkdir(etc, 0o755)
        write_file(etc / "resolv.conf", f"nameserver {t.NS_IP}\noptions timeout:2 attempts:2\n")
        hosts = "127.0.0.1 localhost\n" + "".join(f"{ip} {name}\n" for name, ip in t.HOSTS.items())
        hosts += f"127.0.0.1 {socket.gethostname()}\n"
        write_file(etc / "hosts", hosts)

    # --- processes -----------------------------------------------------------------

    def _start_syslog(self, state: dict[str, Any]) -> None:
        """Bind /dev/log with the lab's sink unless a syslog daemon already has it.

        A socket file nobody listens on (left by a sink that was killed, or by a syslog
        daemon that stopped) takes no message: OpenDKIM's and policyd-spf's lines would be
        lost, so the lab replaces it with its own sink for its lifetime."""
        if system.devlog_state(DEVLOG) == "stale":
            self.out(f"{DEVLOG} is a socket nobody listens on; the lab binds its own syslog sink there.")
            with contextlib.suppress(FileNotFoundError):
                DEVLOG.unlink()
        if DEVLOG.exists() or DEVLOG.is_symlink():
            state["syslog"] = "system"
            self.save(state)
            return
        proc = subprocess.Popen(
            [sys.executable, "-m", "verifier.lab.syslog_sink", str(DEVLOG), str(self.layout.log / "syslog.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True,
        )
        self._record(state, "syslog", proc.pid)
        if not system.wait_until(lambda: DEVLOG.exists() and DEVLOG.is_socket(), 10):
            raise LabError("The lab's syslog sink did not bind /dev/log.")
        st = DEVLOG.stat()
        state["devlog"] = {"path": str(DEVLOG), "dev": st.st_dev, "ino": st.st_ino}
        state["syslog"] = "lab"
        self.save(state)

    def _spawn_in_netns(self, name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.layout.log / f"start-{name}.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            return subprocess.Popen(
                system.netns_cmd(*cmd), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True, close_fds=True,
            )
        finally:
            log.close()

    def _finish(self, name: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise LabError(f"Starting {name} took longer than {timeout:.0f} s.") from None
        if rc != 0:
            text = (self.layout.log / f"start-{name}.log").read_text(errors="replace").strip()
            last = text.splitlines()[-1].strip() if text else f"exit status {rc}"
            raise LabError(f"Starting {name} failed ({last}).")

    def _start_daemons(self, state: dict[str, Any]) -> None:
        lay = self.layout
        procs = {
            "nsd": self._spawn_in_netns("nsd", [system.which("nsd") or "nsd", "-c", str(lay.nsd / "nsd.conf")]),
            "dovecot": self._spawn_in_netns(
                "dovecot", [system.which("dovecot") or "dovecot", "-c", str(lay.dovecot / "dovecot.conf")]),
        }
        # OpenDKIM runs in the foreground under the lab's keeper, which starts a fresh
        # process when it dies (see verifier/lab/keeper.py); the keeper is what is recorded.
        kept = {
            name: self._spawn_in_netns(name, [sys.executable, "-m", "verifier.lab.keeper", "--",
                                              system.which("opendkim") or "opendkim", "-f", "-x",
                                              str(lay.opendkim / f"{mode}.conf")])
            for name, mode in (("opendkim-sign", "sign"), ("opendkim-verify", "verify"))
        }
        pid_files = {
            "nsd": lay.nsd / "nsd.pid",
            "dovecot": lay.dovecot_base / "master.pid",
        }
        for name, proc in procs.items():
            self._finish(name, proc)
        for name, path in pid_files.items():
            if not system.wait_until(lambda p=path: system.pid_alive(system.read_pid(p)), 10):
                raise LabError(f"{name} did not stay up; see {lay.log}.")
            self._record(state, name, system.read_pid(path))
        for name, proc in kept.items():
            if proc.poll() is not None:
                raise LabError(f"{name} did not stay up; see {lay.log / f'start-{name}.log'}.")
            self._record(state, name, proc.pid)

    def _start_postfix(self, state: dict[str, Any], names: tuple[str, ...]) -> None:
        procs = {n: self._spawn_in_netns(f"postfix-{n}", ["postfix", "-c", str(self.layout.postfix(n)), "start"])
                 for n in names}
        for n, proc in procs.items():
            self._finish(f"postfix-{n}", proc)
        for n in names:
            pid_file = self.layout.postfix(n) / "queue" / "pid" / "master.pid"
            if not system.wait_until(lambda p=pid_file: system.pid_alive(system.read_pid(p)), 10):
                raise LabError(f"The {n} Postfix did not stay up; see {self.layout.log}.")
            self._record(state, f"postfix-{n}", system.read_pid(pid_file))

    def _start_api(self, state: dict[str, Any]) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = dict(os.environ, VERIFIER_LAB_DIR=str(self.layout.root))
        log_path = self.layout.log / "api.log"
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "verifier.cli", "lab", "api", "--state-dir", str(self.layout.api),
                 "--listen", f"127.0.0.1:{port}", "--task-delay", "1",
                 "--route-hook", "verifier.lab.postfix_maps:route_hook"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=fd, env=env,
                start_new_session=True, close_fds=True,
            )
        finally:
            os.close(fd)
        state["api_port"] = port
        self._record(state, "api", proc.pid)

        def answers() -> bool:
            if not system.pid_alive(proc.pid):
                raise LabError(f"The OVH API emulator stopped at start; see {log_path}.")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/1.0/auth/time", timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False

        if not system.wait_until(answers, 30, 0.1):
            raise LabError(f"The OVH API emulator did not answer on 127.0.0.1:{port}; see {log_path}.")
        data = json.loads((self.layout.api / "state.json").read_text())
        creds = data["credentials"]
        write_file(self.layout.secrets / "ovh-application-secret", creds["applicationSecret"] + "\n", 0o600)
        write_file(self.layout.secrets / "ovh-consumer-key", creds["consumerKey"] + "\n", 0o600)
        endpoint = f"http://127.0.0.1:{port}/1.0"
        write_file(self.layout.secrets / "ovh.conf", ovh_conf(endpoint, creds["applicationKey"],
                                                              creds["applicationSecret"], creds["consumerKey"]), 0o600)
        state["ovh"] = {"endpoint": endpoint, "application_key": creds["applicationKey"]}
        self.save(state)

    def _checks(self) -> dict[str, Callable[[], bool]]:
        def dns() -> bool:
            import dns.message
            import dns.query

            try:
                q = dns.message.make_query(t.PLATFORM_NAME, "A")
                r = dns.query.udp(q, t.NS_IP, timeout=0.5)
                return any(rr.address == t.PLATFORM_IP for rrset in r.answer for rr in rrset)
            except Exception:  # noqa: BLE001 - not ready yet
                return False

        return {
            "nsd": dns,
            "postfix-platform": lambda: system.tcp_open(t.PLATFORM_IP, t.SUBMISSION_PORT),
            "postfix-relay": lambda: system.tcp_open(t.RELAY_IP, t.RELAY_PORT),
            "postfix-mx": lambda: system.tcp_open(t.MX_IP, 25),
            "dovecot": lambda: system.tcp_open(t.MX_IP, t.IMAP_PORT) and system.tcp_open(t.MX_IP, t.IMAPS_PORT),
            "opendkim-sign": lambda: system.in_netns(lambda: system.tcp_open("127.0.0.1", t.DKIM_SIGN_PORT)),
            "opendkim-verify": lambda: system.in_netns(lambda: system.tcp_open("127.0.0.1", t.DKIM_VERIFY_PORT)),
        }

    def _wait_ready(self, state: dict[str, Any]) -> None:
        checks = self._checks()
        expected = [n for n in self._expected(state) if n in checks]
        for name in expected:
            if not system.wait_until(checks[name], 30, 0.05):
                raise LabError(f"{name} did not become ready within 30 s; see {self.layout.log}.")

    # --- down ------------------------------------------------------------------------

    @staticmethod
    def running_root() -> Path | None:
        """The state directory of the lab running in the namespace (from its daemons' command lines)."""
        for pid in system.netns_pids():
            try:
                args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            for arg in args:
                text = arg.decode(errors="replace")
                for tail in ("/run/nsd/nsd.conf", "/run/dovecot/dovecot.conf"):
                    if text.endswith(tail):
                        return Path(text[: -len(tail)])
        return None

    def down(self) -> bool:
        """Stop everything the lab started; False if nothing was there."""
        system.check_can_run()
        state = self.load()
        if not state.get("pids") and system.netns_exists():
            other = self.running_root()
            if other and other != self.layout.root and (other / "lab.json").exists():
                # The running lab keeps its state elsewhere: stop that one, completely.
                self.layout = Layout(other)
                state = self.load()
        recorded = self._live(state)
        pids = list(recorded.values())
        found = bool(pids) or system.netns_exists() or system.link_exists(t.VETH_MAIN)
        system.signal_pids(pids, signal.SIGTERM)
        left = system.wait_gone(pids, 1.5)
        # (OpenDKIM's keeper stops it within a second: libmilter lingers about 5 s after SIGTERM
        # and keeps no state worth waiting for, so the keeper kills it after a short grace.)
        left = system.wait_gone(left, 10)
        system.signal_pids(left, signal.SIGKILL)
        system.wait_gone(left, 3)
        # Anything still living in the lab's own namespace is a child of a lab daemon.
        inside = system.netns_pids()
        if inside:
            system.signal_pids(inside, signal.SIGTERM)
            left = system.wait_gone(inside, 5)
            system.signal_pids(left, signal.SIGKILL)
            system.wait_gone(left, 3)
        if system.link_exists(t.VETH_MAIN):
            system.run(["ip", "link", "del", t.VETH_MAIN], what="remove the lab's veth pair")
        if system.netns_exists():
            system.run(["ip", "netns", "del", t.NETNS], what="remove the lab's network namespace")
        if state.get("run_netns_made"):
            system.remove_run_netns()
        if self.layout.netns_etc.exists():
            shutil.rmtree(self.layout.netns_etc)
        if state.get("made_etc_netns"):
            with contextlib.suppress(OSError):
                self.layout.netns_etc.parent.rmdir()  # only if empty
        devlog = state.get("devlog")
        if devlog:
            with contextlib.suppress(OSError):
                st = os.stat(devlog["path"])
                if (st.st_dev, st.st_ino) == (devlog["dev"], devlog["ino"]):
                    os.unlink(devlog["path"])
        if state:
            with contextlib.suppress(FileNotFoundError):
                self.layout.state_file.unlink()
        return found

    # --- status ----------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        state = self.load()
        pids = state.get("pids") or {}
        checks = self._checks() if system.netns_exists() else {}
        components: dict[str, dict[str, Any]] = {}
        components["namespace"] = {"up": system.netns_exists(), "detail": t.NETNS}
        components["veth"] = {
            "up": system.link_exists(t.VETH_MAIN),
            "detail": f"{t.VETH_MAIN} {t.CLIENT_IP} -> {', '.join(t.LAB_ADDRESSES)}",
        }
        details = {
            "nsd": f"DNS {t.NS_NAME} {t.NS_IP}:53",
            "postfix-platform": f"platform {t.PLATFORM_NAME} {t.PLATFORM_IP}:{t.SUBMISSION_PORT}",
            "postfix-relay": f"smarthost {t.RELAY_NAME} {t.RELAY_IP}:{t.RELAY_PORT}",
            "postfix-mx": f"recipient MX {t.MX_NAME} {t.MX_IP}:25",
            "dovecot": f"IMAP {t.IMAP_NAME} {t.MX_IP}:{t.IMAP_PORT},{t.IMAPS_PORT}",
            "opendkim-sign": f"DKIM signer 127.0.0.1:{t.DKIM_SIGN_PORT} (lab namespace)",
            "opendkim-verify": f"DKIM verifier 127.0.0.1:{t.DKIM_VERIFY_PORT} (lab namespace)",
        }
        live = self._live(state)
        for name, detail in details.items():
            pid = pids.get(name)
            alive = name in live
            components[name] = {"up": bool(alive and name in checks and checks[name]()), "pid": pid, "detail": detail}
        if state.get("syslog") == "system":
            components["syslog"] = {"up": True, "detail": "the system's /dev/log"}
        else:
            pid = pids.get("syslog")
            components["syslog"] = {"up": "syslog" in live, "pid": pid, "detail": "sink on /dev/log"}
        api_pid = pids.get("api")
        api_up = "api" in live
        if api_up:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{state['api_port']}/1.0/auth/time", timeout=1):
                    pass
            except OSError:
                api_up = False
        components["api"] = {"up": api_up, "pid": api_pid,
                             "detail": f"OVH API emulator {(state.get('ovh') or {}).get('endpoint', '')}".strip()}
        faults = state.get("faults", [])
        expected = set(self._expected(state)) | {"namespace", "veth"} if state.get("pids") else set()
        up = bool(expected) and all(components[n]["up"] for n in expected if n in components)
        return {"state_dir": str(self.layout.root), "up": up, "faults": faults,
                "up_seconds": state.get("up_seconds"), "components": components}

    # --- faults ----------------------------------------------------------------------

    def _require_up(self) -> dict[str, Any]:
        system.check_can_run()
        state = self.load()
        if not state.get("pids") or not system.netns_exists():
            raise LabError("The lab is not up; run `verifier lab up` first.")
        return state

    def restart_api(self, edit: Callable[[dict[str, Any]], None] | None = None) -> None:
        """Stop the OVH API emulator, let ``edit`` change its saved state, and start it again.

        The state is edited while no emulator holds it, so a test can plant what the API
        itself would refuse (a connector with a hostile smartHost, say). The emulator
        comes back on a new port; ``lab.json`` and the lab's ovh.conf follow it.
        """
        state = self._require_up()
        pid = self._live(state).get("api")
        if pid:
            system.signal_pids([pid], signal.SIGTERM)
            if system.wait_gone([pid], 30):
                raise LabError(f"The OVH API emulator (pid {pid}) did not stop.")
        if edit is not None:
            store = StateStore(self.layout.api)
            data, _seeded = store.load_or_seed()
            edit(data)
            store.save(data)
        self._start_api(state)

    def set_fault(self, name: str, on: bool) -> bool:
        """Switch a fault on or off; False if it already was in that position."""
        if name not in FAULTS:
            raise LabError(f"Unknown fault {name!r}; the faults are {', '.join(FAULTS)}.")
        state = self._require_up()
        active = set(state.get("faults", []))
        if (name in active) == on:
            return False
        getattr(self, "_fault_" + name.replace("-", "_"))(state, on)
        state = self.load()
        active = set(state.get("faults", []))
        (active.add if on else active.discard)(name)
        state["faults"] = sorted(active)
        self.save(state)
        if not on and name.startswith("smarthost"):
            self.flush_platform()
        return True

    def _reload_postfix(self, name: str) -> None:
        system.run(system.netns_cmd("postfix", "-c", str(self.layout.postfix(name)), "reload"),
                   what=f"reload the {name} Postfix")

    def _fault_smarthost_down(self, state: dict[str, Any], on: bool) -> None:
        if on:
            pid = self._live(state).get("postfix-relay")
            system.signal_pids([pid] if pid else [], signal.SIGTERM)
            if system.wait_gone([pid] if pid else [], 10):
                raise LabError("The smarthost's Postfix did not stop within 10 s.")
            # Its workers leave with the master; wait until the port is closed.
            system.wait_until(lambda: not system.tcp_open(t.RELAY_IP, t.RELAY_PORT), 10)
            self._record(state, "postfix-relay", None)
        else:
            self._start_postfix(state, ("relay",))
            if not system.wait_until(lambda: system.tcp_open(t.RELAY_IP, t.RELAY_PORT), 30):
                raise LabError("The smarthost's Postfix did not come back within 30 s.")

    def _fault_smarthost_password(self, _state: dict[str, Any], on: bool) -> None:
        password = secrets.token_urlsafe(18) if on else self._secret(t.RELAY_USER)
        self._write_passwd(t.RELAY_IP, {t.RELAY_USER: password})
        # Dovecot looks at a passwd-file at most once per second of its clock: a login
        # in the second of the change could still see the old file.
        time.sleep(1.05 - (time.time() % 1.0))

    def _fault_smarthost_no_starttls(self, _state: dict[str, Any], on: bool) -> None:
        level = "none" if on else "encrypt"
        system.run(["postconf", "-c", str(self.layout.postfix("relay")), "-e", f"smtpd_tls_security_level={level}"],
                   what="change the smarthost's TLS setting")
        self._reload_postfix("relay")
        want = not on

        def offers_starttls() -> bool:
            import smtplib

            try:
                with smtplib.SMTP(t.RELAY_IP, t.RELAY_PORT, local_hostname=t.CLIENT_NAME, timeout=2) as s:
                    s.ehlo()
                    return s.has_extn("starttls")
            except (OSError, smtplib.SMTPException):
                return False

        if not system.wait_until(lambda: offers_starttls() == want, 15, 0.2):
            raise LabError("The smarthost's STARTTLS offer did not change within 15 s.")

    def _fault_dkim_wrong_key(self, state: dict[str, Any], on: bool) -> None:
        key = state["dkim"]["wrong" if on else "good"]
        serial = max(int(time.time()), int(state.get("zone_serial", 0)) + 1)
        state["zone_serial"] = serial
        self.save(state)
        self._write_zones(key, serial)
        system.signal_pids([p for p in [self._live(state).get("nsd")] if p], signal.SIGHUP)

        def published() -> bool:
            import dns.message
            import dns.query

            try:
                q = dns.message.make_query(f"{t.DKIM_SELECTOR}._domainkey.{t.RELAY_DOMAIN}", "TXT")
                r = dns.query.udp(q, t.NS_IP, timeout=0.5)
                text = "".join(b"".join(rr.strings).decode() for rrset in r.answer for rr in rrset)
                return text.endswith(key)
            except Exception:  # noqa: BLE001 - not yet
                return False

        if not system.wait_until(published, 15, 0.1):
            raise LabError("The lab DNS did not publish the changed DKIM key within 15 s.")

    def _fault_imap_no_idle(self, state: dict[str, Any], on: bool) -> None:
        write_file(self.layout.dovecot / "faults.conf", configs.NO_IDLE_CAPABILITY if on else "")
        system.signal_pids([p for p in [self._live(state).get("dovecot")] if p], signal.SIGHUP)
        want = not on

        def idle_offered() -> bool | None:
            import imaplib

            try:
                imap = LabIMAP4_SSL(t.IMAP_NAME, t.MX_IP, t.IMAPS_PORT,
                                    ssl_context=tls_context(self.layout.ca_file), timeout=3)
            except (OSError, imaplib.IMAP4.error):
                return None
            try:
                imap.login(t.RECIPIENT, self._secret(t.RECIPIENT))
                return "IDLE" in imap.capabilities
            except (OSError, imaplib.IMAP4.error):
                return None
            finally:
                with contextlib.suppress(Exception):
                    imap.logout()

        if not system.wait_until(lambda: idle_offered() is want, 15, 0.2):
            raise LabError("Dovecot's IDLE capability did not change within 15 s.")

    def flush_platform(self) -> None:
        """Ask the platform Postfix to retry its deferred mail now."""
        system.run(system.netns_cmd("postqueue", "-c", str(self.layout.postfix("platform")), "-f"),
                   what="flush the platform queue")

    def queue(self, name: str = "platform") -> list[dict[str, Any]]:
        """The messages waiting in one Postfix instance's queue (``postqueue -j``)."""
        done = system.run(system.netns_cmd("postqueue", "-c", str(self.layout.postfix(name)), "-j"),
                          what=f"list the {name} queue")
        return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]

    def apply_routes(self, routes) -> bool:
        """Apply routes directly (what the emulator's hook does)."""
        return apply_routes(list(routes), self.layout)
