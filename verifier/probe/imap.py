"""Watching a mailbox for the probe: IMAP over TLS, IDLE with periodic renewal,
polling when the server has no IDLE, and deletion of the probe's own messages only.

One connection per watched folder (IDLE watches the selected folder only).
Before anything is sent, each folder is selected and its UIDNEXT noted: only
messages at or above it are examined, so a message that arrives while the
probe is being submitted cannot be missed (no race) and older mail is never
read. Matching is done on the fetched bytes (token in Subject, header or
body), not with server-side SEARCH, which some servers answer from a stale
index.

Nothing is flagged or expunged unless the caller proved the message is the
tool's own (:func:`verifier.probe.message.proven_own`); the sweep of old
leftovers proves it here, per message, and judges age by the server's
INTERNALDATE, never by a time written in the message.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import aioimaplib

from verifier.errors import (
    ConfigError,
    CredentialsError,
    MailboxBusyError,
    NetworkError,
    VerifierError,
)

FETCH_LIMIT = 2 * 1024 * 1024  # bytes fetched per message: enough for any probe or bounce
_UIDNEXT_RE = re.compile(rb"\[UIDNEXT (\d+)\]")
_UIDVALIDITY_RE = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_FETCH_RE = re.compile(rb"FETCH \(.*?UID (\d+)")
_INTERNALDATE_RE = re.compile(rb'INTERNALDATE "([^"]+)"')
SWEEP_LIMIT = 200  # candidates examined per folder per sweep; the rest wait for the next sweep
# How servers word a refusal because the user has too many connections open (Dovecot:
# "Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)").
_BUSY_RE = re.compile(r"maximum number of connections|too many (simultaneous |concurrent |open )?connections|connection limit", re.I)


def parse_internaldate(text: str | None) -> float | None:
    """An IMAP date-time ("03-Dec-2026 10:25:01 +0000") as epoch seconds, or None."""
    if not text:
        return None
    try:
        return datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S %z").timestamp()
    except ValueError:
        return None


def _server_text(resp) -> str:
    text = b" ".join(bytes(x) for x in resp.lines if isinstance(x, bytes | bytearray))
    text = text.decode("utf-8", "replace")
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())[:200]


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


def _uids(resp) -> list[int]:
    out = []
    for line in resp.lines:
        if isinstance(line, bytes | bytearray) and not bytes(line).startswith(b"SEARCH completed"):
            out.extend(int(tok) for tok in bytes(line).split() if tok.isdigit() and len(tok) <= 10)
    return out


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
        self.uidnext: int | None = None  # the folder's UIDNEXT when it was opened
        self.next_uid: int | None = None  # the lowest UID not yet examined
        self.uidvalidity: int | None = None
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
        try:
            resp = await self.client.login(self.username, self._password)
        except (TimeoutError, OSError) as exc:
            raise NetworkError(f"The IMAP server {self.server_hostname} dropped the connection during login: {getattr(exc, 'strerror', None) or type(exc).__name__}.") from None
        if resp.result != "OK":
            reason = _server_text(resp)
            if _BUSY_RE.search(reason):
                raise MailboxBusyError(
                    f"The IMAP server {self.server_hostname} refused a connection for {self.username} because too many are open: {reason}.",
                    hint="lower the number of probes sharing this mailbox, or [recipient] max_connections",
                )
            raise CredentialsError(f"The IMAP server {self.server_hostname} refused the login of {self.username}: {reason or resp.result}.")
        self.idle = self.want_idle and self.client.has_capability("IDLE")
        self.uidplus = self.client.has_capability("UIDPLUS")
        resp = await self.client.select(self.folder)
        _check(resp, f"to open the folder {self.folder}", ConfigError)
        uidnext = uidvalidity = None
        for line in resp.lines:
            if not isinstance(line, bytes | bytearray):
                continue
            m = _UIDNEXT_RE.search(bytes(line))
            if m:
                uidnext = int(m.group(1))
            m = _UIDVALIDITY_RE.search(bytes(line))
            if m:
                uidvalidity = int(m.group(1))
        uidnext = uidnext or 1
        if self.next_uid is None or uidvalidity != self.uidvalidity:
            self.uidnext = self.next_uid = uidnext  # first open (or the folder was recreated)
        self.uidvalidity = uidvalidity

    async def _new_uids(self) -> list[int]:
        resp = await self.client.uid_search(f"UID {self.next_uid}:*", charset=None)
        _check(resp, "a search")
        # UIDs only grow (RFC 9051 2.3.1.1): everything below the watermark was examined.
        return sorted({uid for uid in _uids(resp) if uid >= self.next_uid})

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
            self.next_uid = max(self.next_uid, uid + 1)
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

    async def delete(self, uids: Iterable[int]) -> None:
        """Flag and expunge exactly these UIDs, which the caller proved are the tool's own.
        Without UIDPLUS they are only flagged \\Deleted: a plain EXPUNGE would also remove
        other messages a user had flagged."""
        uids = sorted(set(uids))
        if not uids:
            return
        uid_set = ",".join(str(u) for u in uids)
        resp = await self.client.uid("store", uid_set, "+FLAGS.SILENT", r"(\Deleted)")
        _check(resp, "to flag the probe messages as deleted")
        if self.uidplus:
            resp = await self.client.uid("expunge", uid_set)
            _check(resp, "to expunge the probe messages")

    async def find_leftovers(self, older_than_epoch: float, own_senders: Iterable[str], key) -> list[int]:
        """UIDs of earlier probes' messages that are provably the tool's own and old enough.

        A candidate is any message the server finds with an ``X-Verifier-Probe`` header
        (the server's SEARCH only narrows; nothing is decided on it). Each is then proven
        from its own fetched header fields: the header's token verifies under ``key``, its
        From is one of ``own_senders``, and its INTERNALDATE (the server's arrival time,
        not the token's time) is before ``older_than_epoch``.
        """
        from verifier.probe.message import proven_own

        resp = await self.client.uid_search("HEADER", "X-Verifier-Probe", "vprobe-", charset=None)
        if resp.result != "OK":
            return []
        senders = tuple(own_senders)
        found = []
        for uid in sorted(set(_uids(resp)))[:SWEEP_LIMIT]:
            if self.next_uid is not None and uid >= self.next_uid:
                continue  # not examined yet: the waiting probes' business first, not the sweep's
            r = await self.client.uid("fetch", str(uid), "(UID INTERNALDATE BODY.PEEK[HEADER.FIELDS (X-Verifier-Probe From)])")
            if r.result != "OK":
                continue
            idate, blob = None, b""
            for line in r.lines:
                if isinstance(line, bytearray):
                    blob += bytes(line)
                elif isinstance(line, bytes) and b"FETCH" in line:
                    m = _INTERNALDATE_RE.search(line)
                    idate = m.group(1).decode("ascii", "replace") if m else idate
            arrived = parse_internaldate(idate)
            if arrived is None or arrived >= older_than_epoch:
                continue
            if proven_own(blob + b"\r\n", senders, key) is not None:
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
