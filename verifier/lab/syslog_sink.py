"""A tiny syslog sink: reads datagrams on a unix socket and appends them to a file.

OpenDKIM and policyd-spf log only through syslog(3). On a machine without a
syslog daemon (containers, CI runners) the lab binds ``/dev/log`` with this sink
for its lifetime, so their messages land in ``run/log/syslog.log``.

Run as ``python -m verifier.lab.syslog_sink SOCKET LOGFILE``; started detached
(new session, standard streams on the null device) and stopped by its PID.
"""

from __future__ import annotations

import os
import socket
import sys
import time

from verifier.stopping import stop_requested


def serve(sock_path: str, log_path: str) -> int:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    os.chmod(sock_path, 0o666)
    stat = os.stat(sock_path)
    stop = stop_requested()
    sock.settimeout(0.5)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        while not stop.is_set():
            try:
                data = sock.recv(16384)
            except TimeoutError:
                continue
            except InterruptedError:
                continue
            line = data.decode("utf-8", "replace").rstrip("\n\x00")
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
            os.write(fd, f"{stamp} {line}\n".encode())
    finally:
        os.close(fd)
        sock.close()
        try:
            now = os.stat(sock_path)
            if (now.st_dev, now.st_ino) == (stat.st_dev, stat.st_ino):
                os.unlink(sock_path)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.stderr.write("usage: python -m verifier.lab.syslog_sink SOCKET LOGFILE\n")
        raise SystemExit(2)
    raise SystemExit(serve(sys.argv[1], sys.argv[2]))
