"""Shared mailbox connections: one IMAP watcher per (mailbox, folder) for every probe.

IMAP servers cap the connections a user may hold (Dovecot's
``mail_max_userip_connections`` is 10 by default), so probes that wait on the
same mailbox must not each open their own. A :class:`MailboxHub` keeps one
:class:`~verifier.probe.imap.FolderWatch` per (mailbox, folder), opened on the
first probe that needs it and kept until :meth:`MailboxHub.close`; at most
``max_connections`` of them per mailbox. Each watcher examines every new
message once (UIDs above a watermark), and hands it to the probe whose token
it carries (:meth:`MailboxHub.subscribe` registers the tokens *before* the
messages are sent, so nothing can slip past).

A message that carries a token this hub registered but whose probe is no
longer waiting (it timed out, or already had its message) is *late*: it goes
to the ``on_late(token, fetched)`` callback, and is then deleted by UID if,
and only if, it is provably the tool's own
(:func:`verifier.probe.message.proven_own`: the token's MAC verifies, the
sender is the probe's own address). A token from another process (another
``verifier probe`` sharing the mailbox) is neither taken nor deleted: it is
that process's business, and the sweep's once it is old.

Every command on a connection goes through the watcher's lock: an IDLE in
progress is ended first, so deletions and sweeps never race the watch.

A watcher whose connection drops (the server restarts, kicks the session, a
network path breaks) reconnects by itself, with growing pauses, for up to
``RECONNECT_WINDOW`` seconds (at least three connect timeouts); it resumes at its
watermark, so a message that arrived in the gap is still examined once. Only a
refusal that another try cannot cure (the login, a missing folder) or a window
spent without a connection reaches the waiting probes as their error.
"""

from __future__ import annotations

import asyncio
import inspect
import ssl
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aioimaplib

from verifier.errors import ConfigError, MailboxBusyError, NetworkError, VerifierError
from verifier.probe import message as pm
from verifier.probe.imap import Fetched, FolderWatch
from verifier.probe.profile import Profile

OnLate = Callable[[str, Fetched], Awaitable[None] | None]
DEFAULT_MAX_CONNECTIONS = 4
RECONNECT_WINDOW = 30.0  # seconds a dropped watcher keeps trying (or three connect timeouts, if longer)
RECONNECT_PAUSES = (0.2, 0.5, 1.0, 2.0, 4.0)  # then the last one again
REMEMBER_TOKENS = 65536  # finished tokens remembered for late-arrival recognition (oldest forgotten first)


@dataclass(frozen=True, slots=True)
class MailboxKey:
    address: str
    port: int
    server_hostname: str
    username: str


@dataclass(frozen=True, slots=True)
class _Settings:
    timeout: float
    idle: bool
    idle_renew: float
    poll_interval: float
    fast_window: float
    fast_poll: float


class _Folder:
    """One connection watching one folder, shared by every subscriber of its mailbox."""

    def __init__(self, box: _Mailbox, watch: FolderWatch) -> None:
        self.box = box
        self.watch = watch
        self.lock = asyncio.Lock()
        self.wake = asyncio.Event()
        self.fast_until = 0.0
        self.task: asyncio.Task | None = None
        self.closing = False

    @property
    def name(self) -> str:
        return self.watch.folder

    @asynccontextmanager
    async def command(self):
        """Hold the connection for a command: ends an IDLE or a wait in progress first."""
        self.wake.set()
        await self.watch.interrupt()
        async with self.lock:
            yield self.watch

    def hurry(self, seconds: float) -> None:
        self.fast_until = max(self.fast_until, time.monotonic() + seconds)
        self.wake.set()

    async def _wait_for_change(self) -> None:
        s = self.box.settings
        if time.monotonic() < self.fast_until:
            # Right after a submission the message is moments away: look often rather than
            # wait for IDLE, which Dovecot, for one, delays by half a second.
            await asyncio.sleep(s.fast_poll)
            return
        self.wake.clear()
        if not self.watch.idle:
            try:
                await asyncio.wait_for(self.wake.wait(), s.poll_interval)
            except TimeoutError:
                pass
            return
        async with self.lock:
            if self.wake.is_set() or time.monotonic() < self.fast_until or self.closing:
                return
            idle = asyncio.create_task(self.watch.wait_change(s.idle_renew, s.poll_interval))
            woken = asyncio.create_task(self.wake.wait())
            try:
                await asyncio.wait({idle, woken}, return_when=asyncio.FIRST_COMPLETED)
                if not idle.done():
                    await self.watch.interrupt()
                    await asyncio.wait_for(idle, s.timeout)
            finally:
                woken.cancel()
                if not idle.done():
                    idle.cancel()
            idle.result()

    async def run(self) -> None:
        while not self.closing:
            try:
                await self._watch()
                return
            except asyncio.CancelledError:
                raise
            except (NetworkError, MailboxBusyError, TimeoutError, OSError, aioimaplib.AioImapException) as exc:
                lost = exc if isinstance(exc, VerifierError) else NetworkError(
                    f"The IMAP connection watching {self.name} on {self.watch.server_hostname} failed: "
                    f"{getattr(exc, 'strerror', None) or type(exc).__name__}.")
                if self.closing:
                    return
                if not await self._reconnect(lost):
                    return
            except VerifierError as exc:  # a refusal another try would not cure
                self.box.folder_failed(self, exc)
                return

    async def _watch(self) -> None:
        while not self.closing:
            async with self.lock:
                items = await self.watch.scan()
            if items:
                await self.box.dispatch(self, items)
            await self._wait_for_change()

    async def _reconnect(self, lost: VerifierError) -> bool:
        """Open a new connection in place of a dropped one; False (waiters told) if it cannot be done."""
        s = self.box.settings
        self.box.marks[self.name] = (self.watch.uidvalidity, self.watch.next_uid)
        old = self.watch
        async with self.lock:
            await old.close()
        deadline = time.monotonic() + max(RECONNECT_WINDOW, 3 * s.timeout)
        last: VerifierError = lost
        for attempt in range(10_000):
            if self.closing:
                return False
            pause = RECONNECT_PAUSES[min(attempt, len(RECONNECT_PAUSES) - 1)]
            if time.monotonic() + pause > deadline:
                break
            await asyncio.sleep(pause)
            w = self.box.new_watch(self.name)
            try:
                await w.open()
            except (NetworkError, MailboxBusyError) as exc:
                await w.close()
                last = exc
                continue
            except VerifierError as exc:
                await w.close()
                self.box.folder_failed(self, exc)
                return False
            except BaseException:
                await w.close()
                raise
            async with self.lock:
                self.watch = w
            hub = self.box.hub
            hub.reconnects += 1
            if hub.on_reconnect is not None:
                hub.on_reconnect()
            return True
        message = (f"{str(lost).rstrip('.')}; no new connection within {max(RECONNECT_WINDOW, 3 * s.timeout):.0f} s "
                   f"({str(last).rstrip('.')}).")
        # Refused for the connection limit to the end: the waiting probes get that error's own
        # exit code (14) and hint, as a refusal at the first connection would.
        self.box.folder_failed(self, MailboxBusyError(message, hint=last.hint) if isinstance(last, MailboxBusyError)
                               else NetworkError(message))
        return False

    async def close(self) -> None:
        self.closing = True
        self.wake.set()
        if self.task is not None and not self.task.done():
            await self.watch.interrupt()
            try:
                await asyncio.wait_for(asyncio.shield(self.task), 2)
            except (TimeoutError, Exception):  # noqa: BLE001 - the watcher's own error was reported already
                self.task.cancel()
                try:
                    await self.task
                except BaseException:  # noqa: BLE001 - cancelled on purpose
                    pass
        await self.watch.close()


class _Mailbox:
    def __init__(self, hub: MailboxHub, key: MailboxKey, password: str, ssl_context: ssl.SSLContext, settings: _Settings) -> None:
        self.hub = hub
        self.key = key
        self._password = password
        self.ssl_context = ssl_context
        self.settings = settings
        self.folders: dict[str, _Folder] = {}
        self.marks: dict[str, tuple[int | None, int | None]] = {}  # folder -> (uidvalidity, next uid)
        self.waiters: dict[str, Subscription] = {}
        self.finished: OrderedDict[str, tuple[str, pm.TokenKey]] = OrderedDict()
        self.open_lock = asyncio.Lock()
        self.last_sweep: float | None = None

    def __repr__(self) -> str:
        return f"_Mailbox({self.key.username}@{self.key.server_hostname})"

    async def ensure(self, folders: Iterable[str], say: Callable[[str], None]) -> list[_Folder]:
        """The watchers of ``folders``, opened as needed; the first folder must open."""
        folders = list(dict.fromkeys(folders))
        out = []
        async with self.open_lock:
            for i, name in enumerate(folders):
                f = self.folders.get(name)
                if f is None:
                    if len(self.folders) >= self.hub.max_connections:
                        raise ConfigError(
                            f"Watching {name} on {self.key.server_hostname} would take more than the "
                            f"{self.hub.max_connections} IMAP connections allowed for this mailbox.")
                    try:
                        f = await self._open(name)
                    except VerifierError as exc:
                        if i == 0:
                            raise
                        say(f"folder {name} not watched: {exc}")
                        continue
                out.append(f)
        return out

    def new_watch(self, name: str) -> FolderWatch:
        """A connection for ``name`` that resumes at the folder's watermark, if it had one."""
        s = self.settings
        w = FolderWatch(address=self.key.address, port=self.key.port, server_hostname=self.key.server_hostname,
                        ssl_context=self.ssl_context, username=self.key.username, password=self._password,
                        folder=name, timeout=s.timeout, use_idle=s.idle)
        w.uidvalidity, w.next_uid = self.marks.get(name, (None, None))
        return w

    async def _open(self, name: str) -> _Folder:
        w = self.new_watch(name)
        try:
            await w.open()
        except BaseException:
            await w.close()
            raise
        f = _Folder(self, w)
        self.folders[name] = f
        f.task = asyncio.create_task(f.run(), name=f"verifier-imap-watch {name}")
        return f

    def folder_failed(self, folder: _Folder, exc: VerifierError) -> None:
        if self.folders.get(folder.name) is folder:
            del self.folders[folder.name]
        self.marks[folder.name] = (folder.watch.uidvalidity, folder.watch.next_uid)
        self.hub._retire(folder)
        for sub in set(self.waiters.values()):
            if folder.name in sub.folders:
                sub._fail(exc)

    async def dispatch(self, folder: _Folder, items: list[Fetched]) -> None:
        self.marks[folder.name] = (folder.watch.uidvalidity, folder.watch.next_uid)
        for f in items:
            for token in pm.tokens_in(f.raw):
                sub = self.waiters.get(token)
                if sub is not None:
                    sub._deliver(token, f)
                    break
                known = self.finished.get(token)
                if known is not None:
                    await self._late(folder, token, f, *known)
                    break

    async def _late(self, folder: _Folder, token: str, f: Fetched, sender: str, key: pm.TokenKey) -> None:
        self.hub.late_seen += 1
        cb = self.hub.on_late
        if cb is not None:
            try:
                maybe = cb(token, f)
                if inspect.isawaitable(maybe):
                    await maybe
            except Exception:  # noqa: BLE001 - a callback's failure must not stop the watch
                self.hub.late_callback_errors += 1
        if pm.is_bounce(f.raw) or pm.proven_own(f.raw, (sender,), key, token=token) is None:
            return
        async with folder.command() as w:
            await w.delete([f.uid])
        self.hub.late_deleted += 1

    def forget(self, token: str, sender: str, key: pm.TokenKey) -> None:
        self.waiters.pop(token, None)
        self.finished[token] = (sender, key)
        self.finished.move_to_end(token)
        while len(self.finished) > REMEMBER_TOKENS:
            self.finished.popitem(last=False)


class Subscription:
    """One probe's wait on a mailbox: its tokens, what arrived for them, and its cleanup."""

    def __init__(self, box: _Mailbox, tokens: Mapping[str, str], key: pm.TokenKey, folders: list[_Folder]) -> None:
        self._box = box
        self.tokens = dict(tokens)  # token -> the address that sends it
        self._key = key
        self._folders = folders
        self.folders = tuple(f.name for f in folders)
        self.found: dict[str, Fetched] = {}
        self.bounces: dict[str, Fetched] = {}
        self._changed = asyncio.Event()
        self._error: VerifierError | None = None
        self._closed = False

    @property
    def watch(self) -> str:
        """How the first folder is watched: "idle" or "poll"."""
        return "idle" if self._folders and self._folders[0].watch.idle else "poll"

    @property
    def pending(self) -> set[str]:
        return {t for t in self.tokens if t not in self.found and t not in self.bounces}

    def submitted(self) -> None:
        """A message is on its way: look quickly for a while (the profile's fast_window)."""
        for f in self._folders:
            f.hurry(self._box.settings.fast_window)

    def _deliver(self, token: str, f: Fetched) -> None:
        if pm.is_bounce(f.raw):
            self.bounces[token] = f
        else:
            self.found[token] = f
        self._box.forget(token, self.tokens[token], self._key)
        self._changed.set()

    def _fail(self, exc: VerifierError) -> None:
        self._error = exc
        self._changed.set()

    async def wait(self, timeout: float) -> None:
        """Until every token has its message (or bounce), or ``timeout`` seconds pass.
        Raises the watcher's error if its connection failed meanwhile."""
        end = time.monotonic() + max(0.0, timeout)
        while self.pending and self._error is None:
            remaining = end - time.monotonic()
            if remaining <= 0:
                break
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                break
        if self._error is not None:
            raise self._error

    async def delete_own(self) -> int:
        """Delete this probe's delivered messages, each only if provably the tool's own.
        Bounces are left alone: the tool did not send them."""
        by_folder: dict[str, list[int]] = {}
        for token, f in self.found.items():
            if pm.proven_own(f.raw, (self.tokens[token],), self._key, token=token) is not None:
                by_folder.setdefault(f.folder, []).append(f.uid)
        done = 0
        for folder in self._folders:
            uids = by_folder.get(folder.name)
            if uids:
                async with folder.command() as w:
                    await w.delete(uids)
                done += len(uids)
        return done

    async def sweep(self, older_than_epoch: float, own_senders: Iterable[str]) -> int:
        """Delete earlier probes' leftovers: provably the tool's own, from ``own_senders``, and
        older than ``older_than_epoch`` by the server's INTERNALDATE. Done at most once per
        ``sweep_interval`` per mailbox (the hub's)."""
        box = self._box
        now = time.monotonic()
        if box.last_sweep is not None and now - box.last_sweep < box.hub.sweep_interval:
            return 0
        box.last_sweep = now
        senders = tuple(own_senders)
        held = {(f.folder, f.uid) for s in set(box.waiters.values()) for f in [*s.found.values(), *s.bounces.values()]}
        total = 0
        for folder in self._folders:
            async with folder.command() as w:
                uids = [u for u in await w.find_leftovers(older_than_epoch, senders, self._key) if (folder.name, u) not in held]
                await w.delete(uids)
            total += len(uids)
        return total

    def close(self) -> None:
        """Stop waiting: a message for a token still pending is late from now on."""
        if self._closed:
            return
        self._closed = True
        for token, sender in self.tokens.items():
            if self._box.waiters.get(token) is self:
                self._box.forget(token, sender, self._key)


class MailboxHub:
    """One watcher per (mailbox, folder), shared by every probe waiting on that mailbox.

    ``max_connections``: IMAP connections per mailbox (one per watched folder), at most.
    ``on_late(token, fetched)``: called for a message carrying a token this hub registered
    whose probe is no longer waiting; the message is then deleted if provably the tool's own.
    ``sweep_interval``: a mailbox is swept for old leftovers at most this often (seconds).
    ``on_reconnect()``: called each time a dropped watcher connection is replaced.
    """

    def __init__(self, *, max_connections: int = DEFAULT_MAX_CONNECTIONS, on_late: OnLate | None = None,
                 sweep_interval: float = 300.0, on_reconnect: Callable[[], None] | None = None) -> None:
        if not 1 <= max_connections <= 64:
            raise ConfigError("max_connections must be between 1 and 64.")
        self.max_connections = max_connections
        self.on_late = on_late
        self.sweep_interval = sweep_interval
        self._boxes: dict[MailboxKey, _Mailbox] = {}
        self._retired: list[_Folder] = []
        self._lock = asyncio.Lock()
        self._closed = False
        self.late_seen = 0
        self.late_deleted = 0
        self.late_callback_errors = 0
        self.reconnects = 0  # dropped watcher connections replaced
        self.on_reconnect = on_reconnect

    def connections(self, key: MailboxKey | None = None) -> int:
        """Open watcher connections (for one mailbox, or all)."""
        return sum(len(b.folders) for k, b in self._boxes.items() if key is None or k == key)

    def _retire(self, folder: _Folder) -> None:
        self._retired.append(folder)

    async def subscribe(self, profile: Profile, tokens: Mapping[str, str], *, address: str,
                        ssl_context: ssl.SSLContext, key: pm.TokenKey,
                        progress: Callable[[str], None] | None = None) -> Subscription:
        """Wait for ``tokens`` (token -> sending address) in the profile's recipient mailbox.

        Call before sending: from here on every new message carrying one of the tokens is
        kept for this subscription. ``address`` is the IMAP server's address (the profile's
        ``imap_address`` or the resolved host)."""
        if self._closed:
            raise RuntimeError("the mailbox hub is closed")
        rec = profile.recipient
        mkey = MailboxKey(address, rec.port, rec.host, rec.username or rec.address)
        async with self._lock:
            box = self._boxes.get(mkey)
            if box is None:
                settings = _Settings(timeout=profile.connect_timeout, idle=rec.idle, idle_renew=profile.idle_renew,
                                     poll_interval=profile.poll_interval, fast_window=profile.fast_window,
                                     fast_poll=profile.fast_poll)
                password = rec.password.reveal(f"the mailbox {rec.address}") or ""
                box = _Mailbox(self, mkey, password, ssl_context, settings)
                self._boxes[mkey] = box
        folders = await box.ensure(rec.folders, progress or (lambda _m: None))
        sub = Subscription(box, tokens, key, folders)
        for token in sub.tokens:
            box.finished.pop(token, None)
            box.waiters[token] = sub
        return sub

    async def close(self) -> None:
        """Close every watcher connection (logging out politely)."""
        self._closed = True
        folders = [f for b in self._boxes.values() for f in b.folders.values()] + self._retired
        self._retired = []
        for b in self._boxes.values():
            b.folders.clear()
        await asyncio.gather(*(f.close() for f in folders), return_exceptions=True)

    async def __aenter__(self) -> MailboxHub:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()
