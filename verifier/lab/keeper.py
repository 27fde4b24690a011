"""Keep a foreground daemon running: when it dies, start it again as a fresh process.

The lab's two OpenDKIM instances run under this keeper (``opendkim -f``, no
``AutoRestart``), the way a service manager restarts a unit. OpenDKIM's own
``AutoRestart`` keeps a parent that forks a new worker after a crash, and that worker
re-reads its configuration on its first connection; Debian's OpenDKIM 2.11 now and
then dies of a general protection fault under many concurrent sessions, and twice the
worker started after such a crash answered every later message with a temporary
failure, so the lab's mail stopped for the rest of the run. A fresh process starts from
the same state as the first one did.

Run as ``python -m verifier.lab.keeper -- COMMAND [ARG...]``; started detached by the
lab (new session, output to the daemon's start log) and stopped by its PID: on SIGTERM
or SIGINT it stops the daemon (SIGTERM, then SIGKILL after :data:`STOP_GRACE` seconds)
and exits. It gives up (exit status 1) when the daemon had to be started
:data:`MAX_STARTS` times within :data:`WINDOW` seconds: a daemon that cannot stay up is
then reported by ``verifier lab status`` rather than restarted forever.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import deque

from verifier.stopping import stop_requested

PAUSE = 0.5  # seconds between a death and the next start
MAX_STARTS = 20
WINDOW = 60.0
STOP_GRACE = 1.0  # libmilter lingers about 5 s after SIGTERM; it keeps nothing worth waiting for


def _say(text: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    sys.stderr.write(f"{stamp} keeper: {text}\n")
    sys.stderr.flush()


def _describe(status: int) -> str:
    return f"signal {-status}" if status < 0 else f"status {status}"


def keep(cmd: list[str], *, pause: float = PAUSE, max_starts: int = MAX_STARTS, window: float = WINDOW,
         stop_grace: float = STOP_GRACE) -> int:
    """Run ``cmd`` until told to stop, starting it again each time it exits."""
    stop = stop_requested()
    starts: deque[float] = deque()
    started = 0
    while not stop.is_set():
        now = time.monotonic()
        while starts and now - starts[0] > window:
            starts.popleft()
        if len(starts) >= max_starts:
            _say(f"{cmd[0]} was started {len(starts)} times within {window:.0f} s; giving up.")
            return 1
        starts.append(now)
        child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
        if started:
            _say(f"started {cmd[0]} again (pid {child.pid}).")
        started += 1
        status = _wait(child, stop, stop_grace)
        if stop.is_set():
            return 0
        _say(f"{cmd[0]} (pid {child.pid}) exited with {_describe(status)}; starting it again in {pause:g} s.")
        stop.wait(pause)
    return 0


def _wait(child: subprocess.Popen, stop: threading.Event, stop_grace: float) -> int:
    """The child's exit status; when a stop is asked for, SIGTERM then SIGKILL after the grace."""
    asked: float | None = None
    while True:
        try:
            return child.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            pass
        if stop.is_set():
            if asked is None:
                asked = time.monotonic()
                child.send_signal(signal.SIGTERM)
            elif time.monotonic() - asked > stop_grace:
                child.kill()


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        sys.stderr.write("usage: python -m verifier.lab.keeper -- COMMAND [ARG...]\n")
        return 2
    return keep(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
