"""Late arrivals and leftovers of the monitor's own runs.

The history holds the token of every message the monitor submitted (written
right after the submission, before the wait). A message still ``sent`` or
``lost`` may arrive after its run gave up: this sweep looks for exactly those
tokens (server-side header search, then the fetched header checked for the
token), records each one as ``late`` (or ``bounced``) against the run it
belongs to, and deletes exactly those UIDs. Nothing else in the mailbox is
read or touched: a message is deleted only when its token is one the history
proves the monitor sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from verifier.errors import VerifierError
from verifier.probe import message as pm
from verifier.probe.imap import FolderWatch
from verifier.probe.profile import Profile

log = logging.getLogger("verifier.monitor")
MAX_TOKENS_PER_SWEEP = 500


async def sweep_tokens(profile: Profile, tokens: Iterable[str]) -> list[tuple[str, str, int, bool, float | None]]:
    """Find and delete the messages carrying ``tokens`` in the profile's mailbox.

    Returns ``(token, folder, uid, is_bounce, arrived_epoch)`` for each message removed.
    """
    from verifier.probe.run import resolve, tls_context

    own = getattr(pm, "is_own_token", None)
    # The history proves the monitor sent these; with provable tokens the token's MAC must verify too.
    wanted = [tk for tk in dict.fromkeys(tokens) if own is None or own(tk)][:MAX_TOKENS_PER_SWEEP]
    if not wanted:
        return []
    rec = profile.recipient
    ctx = tls_context(profile)
    address = rec.connect_address
    if address is None:
        from verifier.checks import DnsResolver

        resolver = DnsResolver(profile.nameserver, port=profile.nameserver_port, timeout=profile.connect_timeout) \
            if profile.nameserver else DnsResolver(timeout=profile.connect_timeout)
        address = (await resolve(rec.host, resolver))[0]
    password = rec.password.reveal(f"the mailbox {rec.address}") or ""
    found: list[tuple[str, str, int, bool, float | None]] = []
    for folder in rec.folders:
        w = FolderWatch(address=address, port=rec.port, server_hostname=rec.host, ssl_context=ctx,
                        username=rec.username or rec.address, password=password, folder=folder,
                        timeout=profile.connect_timeout, use_idle=False)
        try:
            await w.open()
        except VerifierError as exc:
            if folder == rec.folders[0]:
                raise
            log.info("late sweep: folder %s not opened: %s", folder, exc, extra={"event": "sweep-skip"})
            continue
        try:
            mine: list[int] = []
            for token in wanted:
                resp = await w.client.uid_search("TEXT", token, charset=None)
                if resp.result != "OK":
                    continue
                uids = [int(x) for line in resp.lines if isinstance(line, bytes | bytearray)
                        and not bytes(line).startswith(b"SEARCH") for x in bytes(line).split() if x.isdigit()]
                for uid in uids[:20]:
                    f = await w.fetch(uid)
                    if f is None or not pm.carries(f.raw, token):
                        continue  # the server's search is only a hint: the token must really be there
                    found.append((token, folder, uid, pm.is_bounce(f.raw), arrival_time(f)))
                    mine.append(uid)
            await w.delete(mine)
        finally:
            await w.close()
    return found


def arrival_time(f) -> float:
    """When the server received the message (INTERNALDATE), or now if it does not say."""
    from email.utils import parsedate_to_datetime

    if f.internaldate:
        try:
            return parsedate_to_datetime(_imap_date(f.internaldate)).timestamp()
        except (TypeError, ValueError, IndexError):
            pass
    return time.time()


def _imap_date(text: str) -> str:
    """IMAP INTERNALDATE ("03-Dec-2026 10:20:00 +0000") as an RFC 5322 date."""
    day, rest = text.strip().split("-", 1)
    month, rest = rest.split("-", 1)
    year, clock, zone = rest.split(" ")
    return f"{int(day)} {month} {year} {clock} {zone}"
