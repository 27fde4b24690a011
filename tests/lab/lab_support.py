"""Helpers of the lab tests: submit through the platform, find a message over IMAP.

Everything connects from the main namespace through the lab's veth pair, to the
documentation-range addresses, with TLS verified against the lab CA for the
servers' host names.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib

from verifier.lab import topology as t
from verifier.lab.clients import LabIMAP4, LabIMAP4_SSL, tls_context
from verifier.lab.control import Lab


def password(lab: Lab, user: str) -> str:
    return lab.layout.password_file(user).read_text().strip()


def new_tag(prefix: str = "lab") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class Sent:
    tag: str
    sender: str
    subject: str
    at: float  # time.time() when the platform accepted the message


async def _submit(lab: Lab, sender: str, subject: str, body: str, login_password: str | None) -> None:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = t.RECIPIENT
    msg["Subject"] = subject
    msg["Date"] = format_datetime(email.utils.localtime())
    msg["Message-ID"] = make_msgid(domain=t.SENDER_DOMAIN)
    msg.set_content(body)
    sock = socket.create_connection((t.PLATFORM_IP, t.SUBMISSION_PORT), timeout=10)
    smtp = aiosmtplib.SMTP(hostname=None, sock=sock, local_hostname=t.CLIENT_NAME, timeout=15, start_tls=False)
    await smtp.connect()
    try:
        await smtp.starttls(server_hostname=t.PLATFORM_NAME, tls_context=tls_context(lab.layout.ca_file))
        await smtp.login(sender, login_password if login_password is not None else password(lab, sender))
        await smtp.send_message(msg)
    finally:
        try:
            await smtp.quit()
        except aiosmtplib.SMTPException:
            pass


def submit(lab: Lab, sender: str, *, tag: str | None = None, subject_extra: str = "",
           login_password: str | None = None) -> Sent:
    """Submit one message from ``sender`` to the lab recipient; returns when the platform took it."""
    tag = tag or new_tag()
    subject = f"{subject_extra}lab probe {tag}".strip()
    asyncio.run(_submit(lab, sender, subject, f"Lab message {tag} from {sender}.\n", login_password))
    return Sent(tag=tag, sender=sender, subject=subject, at=time.time())


def imap(lab: Lab, *, starttls: bool = False):
    """A logged-in IMAP connection to the recipient's mailbox (993, or 143 + STARTTLS)."""
    ctx = tls_context(lab.layout.ca_file)
    if starttls:
        conn = LabIMAP4(t.IMAP_NAME, t.MX_IP, t.IMAP_PORT, timeout=10)
        conn.starttls(ssl_context=ctx)
    else:
        conn = LabIMAP4_SSL(t.IMAP_NAME, t.MX_IP, t.IMAPS_PORT, ssl_context=ctx, timeout=10)
    conn.login(t.RECIPIENT, password(lab, t.RECIPIENT))
    return conn


@dataclass
class Found:
    folder: str
    headers: bytes
    seen_at: float

    @property
    def message(self) -> email.message.Message:
        return email.message_from_bytes(self.headers, policy=email.policy.compat32)

    def all(self, name: str) -> list[str]:
        return [" ".join(str(v).split()) for v in (self.message.get_all(name) or [])]


def find(lab: Lab, tag: str, *, timeout: float = 20.0, folders: tuple[str, ...] = ("INBOX", "Junk"),
         interval: float = 0.05) -> Found | None:
    """Poll the mailbox until a message whose Subject carries ``tag`` shows up; None at timeout."""
    conn = imap(lab)
    try:
        deadline = time.monotonic() + timeout
        while True:
            for folder in folders:
                conn.select(folder, readonly=True)
                typ, data = conn.uid("SEARCH", None, "HEADER", "Subject", f'"{tag}"')
                uids = data[0].split() if typ == "OK" and data and data[0] else []
                if uids:
                    seen = time.time()
                    typ, fetched = conn.uid("FETCH", uids[-1], "(BODY.PEEK[HEADER])")
                    raw = next(part[1] for part in fetched if isinstance(part, tuple))
                    return Found(folder=folder, headers=raw, seen_at=seen)
            if time.monotonic() >= deadline:
                return None
            time.sleep(interval)
    finally:
        try:
            conn.logout()
        except Exception:  # noqa: BLE001
            pass


def queued(lab: Lab, tag_sender: str, timeout: float = 10.0) -> list[dict]:
    """Platform queue entries from ``tag_sender`` that carry a deferral reason (waits for one)."""
    deadline = time.monotonic() + timeout
    while True:
        entries = [e for e in lab.queue("platform") if e.get("sender") == tag_sender]
        reasons = [r for e in entries for r in e.get("recipients", []) if r.get("delay_reason")]
        if reasons or time.monotonic() >= deadline:
            return entries
        time.sleep(0.2)


def delay_reasons(entries: list[dict]) -> str:
    return " | ".join(r.get("delay_reason", "") for e in entries for r in e.get("recipients", []))


# --- planting and inspecting messages in the recipient's mailbox (probe cleanup tests) ---


def plant(lab: Lab, raw: bytes, *, folder: str = "INBOX", internaldate: float | None = None) -> None:
    """Put a message into the mailbox with IMAP APPEND, as any other client could,
    with the server's INTERNALDATE set to ``internaldate`` (epoch seconds) when given."""
    import imaplib

    conn = imap(lab)
    try:
        when = imaplib.Time2Internaldate(internaldate) if internaldate is not None else None
        typ, data = conn.append(folder, None, when, raw)
        assert typ == "OK", data
    finally:
        conn.logout()


def mailbox_state(lab: Lab, folder: str = "INBOX") -> tuple[int, dict[int, tuple[bytes, bytes]]]:
    """The folder's UIDNEXT and, per UID, its flags and Subject (read-only, nothing marked seen).
    ``\\Recent`` is left out of the flags: it belongs to IMAP sessions, not to the message."""
    import re

    conn = imap(lab)
    try:
        typ, data = conn.select(folder, readonly=True)
        assert typ == "OK", data
        typ, data = conn.status(folder, "(UIDNEXT)")
        uidnext = int(re.search(rb"UIDNEXT (\d+)", data[0]).group(1))
        out: dict[int, tuple[bytes, bytes]] = {}
        typ, data = conn.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        for part in data:
            if isinstance(part, tuple):
                m = re.search(rb"UID (\d+)", part[0])
                f = re.search(rb"FLAGS \(([^)]*)\)", part[0])
                if m:
                    flags = b" ".join(x for x in (f.group(1) if f else b"").split() if x != rb"\Recent")
                    out[int(m.group(1))] = (flags, part[1])
        return uidnext, out
    finally:
        conn.logout()
