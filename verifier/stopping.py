"""Serving until stopped: Ctrl-C (SIGINT) or SIGTERM, for the commands that run until told.

``until_stopped`` is for asyncio servers; ``stop_requested`` for the synchronous loops of the
lab's helper processes (the OpenDKIM keeper, the syslog sink).

The handlers are installed on the running event loop, so a command started where SIGINT
is ignored (in the background of a script without job control, whose children inherit the
ignored signal) still stops on it, and SIGTERM (a service manager's stop) gets the same
clean shutdown as Ctrl-C instead of killing the process mid-way.
"""

from __future__ import annotations

import asyncio
import signal
import threading


async def until_stopped() -> str:
    """Wait for SIGINT or SIGTERM; returns the signal's name. Where signal handlers cannot be
    installed (not the main thread), waits forever: the caller is stopped by cancellation."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    got: list[str] = []

    def on_signal(sig: signal.Signals) -> None:
        got.append(sig.name)
        stop.set()

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no such support
            continue
        installed.append(sig)
    try:
        await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
    return got[0]


def stop_requested() -> threading.Event:
    """An event set by SIGINT or SIGTERM, installing the handlers (the main thread only)."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


__all__ = ["stop_requested", "until_stopped"]
