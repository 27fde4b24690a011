"""Small system helpers for the lab: commands, processes, the namespace.

Processes are only ever signalled by PID: the PIDs the lab recorded, or the PIDs
the kernel lists as living in the lab's own network namespace.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from verifier.errors import LabError
from verifier.lab.topology import NETNS

T = TypeVar("T")

CLONE_NEWNET = 0x40000000

# Programs the lab runs, and the Debian package each comes from.
PROGRAMS = {
    "ip": "iproute2",
    "openssl": "openssl",
    "postfix": "postfix",
    "postqueue": "postfix",
    "postconf": "postfix",
    "nsd": "nsd",
    "opendkim": "opendkim",
    "dovecot": "dovecot-core",
    "sievec": "dovecot-sieve",
    "sysctl": "procps",
}
FILES = {
    "/usr/bin/policyd-spf": "postfix-policyd-spf-python",
    "/usr/lib/dovecot/imap": "dovecot-imapd",
    "/usr/lib/dovecot/lmtp": "dovecot-lmtpd",
    "/usr/lib/dovecot/modules/lib90_sieve_plugin.so": "dovecot-sieve",
    "/usr/share/dovecot/dh.pem": "dovecot-core",
    "/etc/postfix/postfix-files": "postfix",
}
USERS = {"postfix": "postfix", "opendkim": "opendkim", "nsd": "nsd", "dovecot": "dovecot-core",
         "dovenull": "dovecot-core"}
INSTALL_LINE = (
    "apt-get install --no-install-recommends postfix postfix-policyd-spf-python opendkim "
    "opendkim-tools dovecot-core dovecot-imapd dovecot-lmtpd dovecot-sieve nsd libsasl2-modules"
)


def which(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in ("/usr/sbin", "/sbin", "/usr/bin", "/bin"):
        candidate = Path(d) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def missing_packages() -> list[str]:
    """Debian packages the lab needs that are not there (judged by their files)."""
    import pwd

    missing: list[str] = []
    for prog, pkg in PROGRAMS.items():
        if which(prog) is None and pkg not in missing:
            missing.append(pkg)
    for path, pkg in FILES.items():
        if not Path(path).exists() and pkg not in missing:
            missing.append(pkg)
    for user, pkg in USERS.items():
        try:
            pwd.getpwnam(user)
        except KeyError:
            if pkg not in missing:
                missing.append(pkg)
    return missing


def check_can_run() -> None:
    """Raise LabError (one sentence) unless this process can run the lab."""
    if os.geteuid() != 0:
        raise LabError(
            "The mail lab needs root (network namespace, Postfix masters); run `sudo verifier lab ...`."
        )
    missing = missing_packages()
    if missing:
        raise LabError(
            f"The mail lab needs Debian packages that are missing ({', '.join(missing)}); "
            f"install them with scripts/install-lab-packages.sh or `{INSTALL_LINE}`."
        )


def run(cmd: Sequence[str], *, what: str, timeout: float = 60, input: str | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure raise LabError naming ``what`` and the last line it said."""
    try:
        done = subprocess.run(
            list(cmd),
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except FileNotFoundError:
        raise LabError(f"Cannot {what}: {cmd[0]} is not installed.") from None
    except subprocess.TimeoutExpired:
        raise LabError(f"Cannot {what}: {cmd[0]} did not finish within {timeout:.0f} s.") from None
    if check and done.returncode != 0:
        text = (done.stderr.strip() or done.stdout.strip() or f"exit status {done.returncode}")
        raise LabError(f"Cannot {what} ({text.splitlines()[-1].strip()}).")
    return done


def netns_cmd(*cmd: str) -> list[str]:
    return ["ip", "netns", "exec", NETNS, *cmd]


RUN_NETNS = Path("/run/netns")


def netns_exists() -> bool:
    return (RUN_NETNS / NETNS).exists()


def mount_points() -> set[str]:
    try:
        text = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return set()
    return {line.split()[4] for line in text.splitlines() if len(line.split()) > 4}


def remove_run_netns() -> None:
    """Undo what `ip netns add` did to /run/netns, if no namespace is left in it."""
    try:
        if any(RUN_NETNS.iterdir()):
            return
    except OSError:
        return
    if str(RUN_NETNS) in mount_points():
        subprocess.run(["umount", str(RUN_NETNS)], capture_output=True, stdin=subprocess.DEVNULL)
    with contextlib.suppress(OSError):
        RUN_NETNS.rmdir()


def link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def in_netns(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a thread that has joined the lab's network namespace."""
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/run/netns/{NETNS}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, os.strerror(err))
            finally:
                os.close(fd)
            result.append(fn())
        except BaseException as exc:  # handed to the caller
            errors.append(exc)

    thread = threading.Thread(target=target, name="lab-netns")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


def tcp_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def devlog_state(path: Path) -> str:
    """What the syslog socket path holds: ``"absent"``, ``"listening"`` (a daemon takes
    datagrams there), ``"stale"`` (a socket file whose connect is refused: its owner is gone)
    or ``"other"`` (a symlink, a file, or a socket that could not be judged; left alone)."""
    if path.is_symlink():
        return "other"
    try:
        st = path.stat()
    except FileNotFoundError:
        return "absent"
    except OSError:
        return "other"
    if not stat.S_ISSOCK(st.st_mode):
        return "other"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(str(path))
        except ConnectionRefusedError:
            return "stale"
        except OSError:
            return "other"
    return "listening"


def proc_state(pid: int) -> str | None:
    """The process state letter, or None if there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()[0]


def pid_alive(pid: int | None) -> bool:
    """True if ``pid`` runs (a zombie counts as gone)."""
    if not pid:
        return False
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our own child
    state = proc_state(pid)
    return state is not None and state not in ("Z", "X")


def start_time(pid: int | None) -> int | None:
    """When ``pid`` started (clock ticks since boot), so a recorded PID can be told from a reused one."""
    if not pid:
        return None
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    try:
        return int(fields[19])  # field 22 of proc(5); fields[0] is field 3
    except (IndexError, ValueError):
        return None


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def signal_pids(pids: Sequence[int], sig: int = signal.SIGTERM) -> None:
    for pid in pids:
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)


def wait_gone(pids: Sequence[int], timeout: float) -> list[int]:
    """Wait until every PID is gone; returns those still alive at the deadline."""
    deadline = time.monotonic() + timeout
    alive = [p for p in pids if pid_alive(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if pid_alive(p)]
    return alive


def netns_pids() -> list[int]:
    """PIDs of the processes living in the lab's network namespace."""
    if not netns_exists():
        return []
    done = subprocess.run(["ip", "netns", "pids", NETNS], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    return [int(x) for x in done.stdout.split() if x.isdigit()]


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
