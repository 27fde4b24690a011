"""Submitting the probe: SMTP submission with STARTTLS (certificate verified) and AUTH.

A refusal the server calls temporary (a 4xx reply: Postfix's "421 too many connections"
at the greeting, "451 try again later" to a command) or a connection that could not be
made or broke before the message was sent is tried again, after pauses of
:data:`RETRY_PAUSES` seconds: a monitor must not raise an alert for a submission server
that was busy for a second. Nothing is tried again once the message's data was sent and
no answer came back (a broken connection or a timeout after DATA): the server may have
queued it, and a second copy would be a second message. Permanent refusals (5xx), a
certificate that does not verify and a refused login are never tried again.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from verifier.errors import CredentialsError, NetworkError, NotDeliveredError, VerifierError

_QUEUED_RE = re.compile(r"queued as ([A-Za-z0-9._-]+)", re.I)

RETRY_PAUSES: tuple[float, ...] = (2.0, 5.0)  # pauses between attempts: three attempts in all


@dataclass(frozen=True, slots=True)
class Submitted:
    queue_id: str | None  # what the submission server said it queued the message as
    reply: str
    seconds: float  # from the first connection to the accepted message, pauses included
    attempts: int = 1  # connections it took (more than one after a temporary refusal)


class _TryAgain(Exception):
    """A failure after which the message was certainly not accepted, and which the server
    itself called temporary (or a connection that never carried the message)."""

    def __init__(self, error: VerifierError) -> None:
        super().__init__(str(error))
        self.error = error


async def submit(*, address: str, port: int, server_hostname: str, ssl_context: ssl.SSLContext,
                 username: str | None, password: str | None, message: EmailMessage,
                 sender: str, recipients: Sequence[str], timeout: float,
                 retry_pauses: Sequence[float] = RETRY_PAUSES,
                 on_retry: Callable[[VerifierError, float], None] | None = None) -> Submitted:
    """Submit ``message``; raises NetworkError, CredentialsError or NotDeliveredError.

    ``on_retry(error, pause)`` is told of each temporary failure before the pause that
    follows it (progress for the user)."""
    start = time.monotonic()
    pauses = tuple(retry_pauses)
    for attempt in range(len(pauses) + 1):
        try:
            queue_id, reply = await _attempt(address, port, server_hostname, ssl_context, username, password,
                                             message, sender, recipients, timeout)
        except _TryAgain as again:
            if attempt == len(pauses):
                error = again.error
                if attempt:
                    error = type(error)(f"{str(error).rstrip('.')} ({attempt + 1} attempts).", hint=error.hint)
                raise error from None
            if on_retry is not None:
                on_retry(again.error, pauses[attempt])
            await asyncio.sleep(pauses[attempt])
            continue
        return Submitted(queue_id, reply, time.monotonic() - start, attempt + 1)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _temporary(exc: BaseException) -> bool:
    code = getattr(exc, "code", None)
    return isinstance(code, int) and 400 <= code < 500


async def _attempt(address: str, port: int, server_hostname: str, ssl_context: ssl.SSLContext,
                   username: str | None, password: str | None, message: EmailMessage,
                   sender: str, recipients: Sequence[str], timeout: float) -> tuple[str | None, str]:
    """One connection: (queue id, the server's reply to the data), or an error (_TryAgain
    around one that may be tried again)."""
    smtp = aiosmtplib.SMTP(hostname=address, port=port, timeout=timeout, start_tls=False, use_tls=False)
    sending = False  # True once the message's data may have reached the server
    try:
        try:
            await smtp.connect()
        except aiosmtplib.SMTPConnectResponseError as exc:  # the greeting: "421 too many connections"
            err = NetworkError(f"The submission server {server_hostname} refused the connection: {_short(exc)}.")
            raise (_TryAgain(err) if _temporary(exc) else err) from None
        except aiosmtplib.SMTPTimeoutError:
            raise _TryAgain(NetworkError(
                f"The submission server {server_hostname} ({address}:{port}) did not answer within {timeout:.0f} s.")) from None
        except OSError as exc:  # aiosmtplib's SMTPConnectError is one too
            reason = exc.strerror or (_short(exc) if isinstance(exc, aiosmtplib.SMTPException) else None)
            raise _TryAgain(NetworkError(
                f"Cannot connect to the submission server {server_hostname} ({address}:{port}): "
                f"{reason or type(exc).__name__}.")) from None
        try:
            await smtp.starttls(server_hostname=server_hostname, tls_context=ssl_context)
        except ssl.SSLCertVerificationError as exc:
            raise NetworkError(f"The submission server {server_hostname} presented a certificate that does not verify: {str(exc.verify_message).rstrip('.')}.") from None
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
            raise  # before the message: tried again (below)
        except (aiosmtplib.SMTPException, OSError) as exc:  # a refusal, no STARTTLS offered, a TLS failure
            err = NetworkError(f"STARTTLS with the submission server {server_hostname} failed: {_short(exc)}.")
            raise (_TryAgain(err) if _temporary(exc) else err) from None
        if username and password is not None:
            try:
                await smtp.login(username, password)
            except aiosmtplib.SMTPAuthenticationError as exc:
                if _temporary(exc):  # "454 4.7.0 Temporary authentication failure"
                    raise _TryAgain(NetworkError(
                        f"The submission server {server_hostname} could not check the login of {username} now: {_short(exc)}.")) from None
                raise CredentialsError(f"The submission server {server_hostname} refused the login of {username}.") from None
        try:
            sending = True
            _, reply = await smtp.send_message(message, sender=sender, recipients=list(recipients))
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(recipients)
            err = NotDeliveredError(f"The submission server refused the recipient {refused}: {_short(exc)}.")
            raise (_TryAgain(err) if exc.recipients and all(_temporary(r) for r in exc.recipients) else err) from None
        except aiosmtplib.SMTPSenderRefused as exc:
            err = NotDeliveredError(f"The submission server refused the sender {sender}: {_short(exc)}.")
            raise (_TryAgain(err) if _temporary(exc) else err) from None
        except aiosmtplib.SMTPResponseException as exc:  # an explicit reply: the message was not taken
            err = NotDeliveredError(f"The submission server refused the message: {_short(exc)}.")
            raise (_TryAgain(err) if _temporary(exc) else err) from None
    except aiosmtplib.SMTPServerDisconnected:
        err = NetworkError(f"The submission server {server_hostname} closed the connection.")
        raise (err if sending else _TryAgain(err)) from None
    except aiosmtplib.SMTPTimeoutError:
        err = NetworkError(f"The submission server {server_hostname} did not answer within {timeout:.0f} s.")
        raise (err if sending else _TryAgain(err)) from None
    except aiosmtplib.SMTPException as exc:  # any other refusal (a login the server cannot offer ...)
        err = NetworkError(f"The submission to {server_hostname} failed: {_short(exc)}.")
        raise (_TryAgain(err) if not sending and _temporary(exc) else err) from None
    finally:
        if smtp.is_connected:
            try:
                await smtp.quit()
            except Exception:  # the message is already accepted or refused; quitting is courtesy
                smtp.close()
    m = _QUEUED_RE.search(reply or "")
    return (m.group(1) if m else None), reply


def _short(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    msg = getattr(exc, "message", None) or str(exc)
    msg = " ".join(str(msg).split())[:200]
    return f"{code} {msg}" if code else msg
