"""Watching a mailbox for the probe: IMAP over TLS, IDLE with periodic renewal,
polling when the server has no IDLE, and deletion of the probe's own messages only.

One connection per watched folder (IDLE watches the selected folder only).
Before anything is sent, each folder is selected and its UIDNEXT noted: only
messages at or above it are examined, so a message that arrives while the
probe is being submitted cannot be missed (no race) and older mail is never
read. Matching is done on the fetched bytes (token in Subject, header or
body), not with server-side SEARCH, which some servers answer from a stale
index.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

import aioimaplib

from verifier.errors import ConfigError, CredentialsError, NetworkError, VerifierError

FETCH_LIMIT = 2 * 1024 * 1024  # bytes fetched per message: enough for any probe or bounce
_UIDNEXT_RE = re.compile(rb"\[UIDNEXT (\d+)\]")
_FETCH_RE = re.compile(rb"FETCH \(.*?UID (\d+)")
_INTERNALDATE_RE = re.compile(rb'INTERNALDATE "([^"]+)"')


@dataclass(frozen=True, slots=True)
class Fetched:
    folder: str
    uid: int
    raw: bytes
    internaldate: str | None
    seen_at: float  # monotonic clock when the probe saw it


class _TLSImap(aioimaplib.IMAP4_SSL):
    """IMAP over TLS to an address, verifying the certificate against a name."""

    def __init__(self, address: str, port: int, server_hostname: str, ssl_context: ssl.SSLContext, timeout: float):
        self._server_hostname = server_hostname
        super().__init__(host=address, port=port, timeout=timeout, ssl_context=ssl_context)

    def create_client(self, host, port, loop, conn_lost_cb=None, ssl_context=None):
        local_loop = loop if loop is not None else asyncio.get_running_loop()
        self.protocol = aioimaplib.IMAP4ClientProtocol(local_loop, conn_lost_cb)
        self._client_task = local_loop.create_task(
            local_loop.create_connection(
                lambda: self.protocol, host, port, ssl=ssl_context, server_hostname=self._server_hostname
            )
        )


def _check(resp, what: str, error: type[VerifierError] = NetworkError) -> None:
    if resp.result != "OK":
        text = b" ".join(x for x in resp.lines if isinstance(x, bytes | bytearray))[:200].decode("utf-8", "replace")
        raise error(f"The IMAP server refused {what}: {text or resp.result}.")


class FolderWatch:
    def __init__(self, *, address: str, port: int, server_hostname: str, ssl_context: ssl.SSLContext,
                 username: str, password: str, folder: str, timeout: float, use_idle: bool = True) -> None:
        self.address, self.port, self.server_hostname = address, port, server_hostname
        self.ssl_context = ssl_context
        self.username, self._password = username, password
        self.folder = folder
        self.timeout = timeout
        self.want_idle = use_idle
        self.client: _TLSImap | None = None
        self.uidnext: int | None = None
        self.examined: set[int] = set()
        self.idle = False
        self.uidplus = False
        self._interrupted = False

    def __repr__(self) -> str:
        return f"FolderWatch({self.server_hostname}:{self.port} {self.folder})"

    async def open(self) -> None:
        try:
            self.client = _TLSImap(self.address, self.port, self.server_hostname, self.ssl_context, self.timeout)
            await self.client.wait_hello_from_server()
        except ssl.SSLCertVerificationError as exc:
            raise NetworkError(f"The IMAP server {self.server_hostname} presented a certificate that does not verify: {exc.verify_message}.") from None
        except (TimeoutError, OSError) as exc:
            raise NetworkError(f"Cannot connect to the IMAP server {self.server_hostname} ({self.address}:{self.port}): {getattr(exc, 'strerror', None) or type(exc).__name__}.") from None
        resp = await self.client.login(self.username, self._password)
        if resp.result != "OK":
            raise CredentialsError(f"The IMAP server {self.server_hostname} refused the login of {self.username}.")
        self.idle = self.want_idle and self.client.has_capability("IDLE")
        self.uidplus = self.client.has_capability("UIDPLUS")
        resp = await self.client.select(self.folder)
        _check(resp, f"to open the folder {self.folder}", ConfigError)
        for line in resp.lines:
            m = _UIDNEXT_RE.search(bytes(line)) if isinstance(line, bytes | bytearray) else None
            if m:
                self.uidnext = int(m.group(1))
        if self.uidnext is None:
            self.uidnext = 1

    async def _new_uids(self) -> list[int]:
        resp = await self.client.uid_search(f"UID {self.uidnext}:*", charset=None)
        _check(resp, "a search")
        uids: list[int] = []
        for line in resp.lines:
            if isinstance(line, bytes | bytearray) and not line.startswith(b"SEARCH completed"):
                for tok in bytes(line).split():
                    if tok.isdigit():
                        uid = int(tok)
                        if uid >= self.uidnext and uid not in self.examined:
                            uids.append(uid)
        return sorted(uids)

    async def fetch(self, uid: int) -> Fetched | None:
        resp = await self.client.uid("fetch", str(uid), f"(UID INTERNALDATE BODY.PEEK[]<0.{FETCH_LIMIT}>)")
        _check(resp, "a fetch")
        raw, idate = None, None
        lines = resp.lines
        for i, line in enumerate(lines):
            if isinstance(line, bytes) and b"FETCH" in line:
                m = _INTERNALDATE_RE.search(line)
                idate = m.group(1).decode() if m else idate
                if i + 1 < len(lines) and isinstance(lines[i + 1], bytearray):
                    raw = bytes(lines[i + 1])
        if raw is None:
            return None
        return Fetched(self.folder, uid, raw, idate, time.monotonic())

    async def scan(self) -> list[Fetched]:
        out = []
        for uid in await self._new_uids():
            self.examined.add(uid)
            f = await self.fetch(uid)
            if f is not None:
                out.append(f)
        return out

    async def wait_change(self, seconds: float, poll_interval: float) -> None:
        """Return when the server reports a change, or after ``seconds`` (IDLE), or after a poll interval."""
        self._interrupted = False
        if not self.idle:
            await asyncio.sleep(min(seconds, poll_interval))
            await self.client.noop()
            return
        idle_task = await self.client.idle_start(timeout=max(seconds, 0.05))
        try:
            while not self._interrupted:
                msg = await self.client.wait_server_push(timeout=max(seconds, 0.05) + 1)
                if msg == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    break
                if any(b"EXISTS" in x or b"RECENT" in x for x in msg if isinstance(x, bytes | bytearray)):
                    break
        except TimeoutError:
            pass
        finally:
            self.client.idle_done()
            try:
                await asyncio.wait_for(idle_task, self.timeout)
            except TimeoutError:
                pass

    async def interrupt(self) -> None:
        """End a wait in progress (another folder saw a change)."""
        self._interrupted = True
        if self.client is not None and self.client.has_pending_idle():
            await self.client.stop_wait_server_push()

    async def delete(self, uids: list[int]) -> None:
        """Flag and expunge exactly these UIDs. Without UIDPLUS they are only flagged \\Deleted:
        a plain EXPUNGE would also remove other messages a user had flagged."""
        if not uids:
            return
        uid_set = ",".join(str(u) for u in sorted(uids))
        resp = await self.client.uid("store", uid_set, "+FLAGS.SILENT", r"(\Deleted)")
        _check(resp, "to flag the probe messages as deleted")
        if self.uidplus:
            resp = await self.client.uid("expunge", uid_set)
            _check(resp, "to expunge the probe messages")

    async def find_leftovers(self, older_than_epoch: float, is_probe: Callable[[bytes], str | None]) -> list[int]:
        """UIDs of earlier probes' messages (by their header) made before ``older_than_epoch``."""
        resp = await self.client.uid_search("HEADER", "X-Verifier-Probe", "vprobe-", charset=None)
        if resp.result != "OK":
            return []
        found = []
        for line in resp.lines:
            if not isinstance(line, bytes | bytearray) or line.startswith(b"SEARCH completed"):
                continue
            for tok in bytes(line).split():
                if tok.isdigit():
                    uid = int(tok)
                    if self.uidnext is not None and uid >= self.uidnext:
                        continue  # this run's window: handled by the run itself
                    r = await self.client.uid("fetch", str(uid), "(UID BODY.PEEK[HEADER.FIELDS (X-Verifier-Probe)])")
                    blob = b"".join(bytes(x) for x in r.lines if isinstance(x, bytearray))
                    token = is_probe(blob)
                    if token is not None:
                        from verifier.probe.message import token_time

                        t = token_time(token)
                        if t is not None and t < older_than_epoch:
                            found.append(uid)
        return found

    async def close(self) -> None:
        if self.client is None:
            return
        try:
            if self.client.has_pending_idle():
                self.client.idle_done()
            await asyncio.wait_for(self.client.logout(), 5)
        except Exception:  # closing is best effort; the server drops idle sessions itself
            pass
