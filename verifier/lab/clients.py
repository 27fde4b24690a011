"""Clients that reach the lab's servers by address while checking TLS by name.

The lab's names resolve only through the lab's DNS, so from the main namespace
the tool connects to the documentation-range address and verifies the server's
certificate, against the lab CA, for the host name the profile gives.
"""

from __future__ import annotations

import imaplib
import socket
import ssl
from pathlib import Path


def tls_context(ca_file: str | Path) -> ssl.SSLContext:
    """A verifying client context that trusts the lab CA (hostname checks stay on)."""
    return ssl.create_default_context(cafile=str(ca_file))


class LabIMAP4(imaplib.IMAP4):
    """IMAP on 143 (then ``starttls``): connects to ``address``, verifies TLS for ``host``."""

    def __init__(self, host: str, address: str, port: int = 143, timeout: float | None = 10) -> None:
        self._address = address
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout):  # noqa: D401 - imaplib hook
        return socket.create_connection((self._address, self.port), timeout)


class LabIMAP4_SSL(imaplib.IMAP4_SSL):
    """IMAP over implicit TLS (993): connects to ``address``, verifies TLS for ``host``."""

    def __init__(self, host: str, address: str, port: int = 993, *, ssl_context: ssl.SSLContext,
                 timeout: float | None = 10) -> None:
        self._address = address
        super().__init__(host, port, ssl_context=ssl_context, timeout=timeout)

    def _create_socket(self, timeout):
        sock = socket.create_connection((self._address, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)
