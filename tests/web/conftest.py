"""A real paste server on 127.0.0.1 (worker processes included), started per test."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path

import pytest

from verifier.analysis.engine import Options
from verifier.web.paste import build_app, start_server

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "headers"
SAMPLE = FIXTURES / "ovh-guide-sample.txt"
SAMPLE_SMARTHOST = "smtp-relay.example.com"


class RunningServer:
    """The server in its own thread and event loop, as `verifier analyze --serve` runs it."""

    def __init__(self, **kwargs) -> None:
        self.kwargs = kwargs
        self.loop = asyncio.new_event_loop()
        self.app = None
        self.port = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            listen = {k: self.kwargs.pop(k) for k in ("header_timeout", "max_connections") if k in self.kwargs}
            self.app = build_app(self.kwargs.pop("options", Options()), **self.kwargs)
            runner, srv, self.port = await start_server(self.app, "127.0.0.1", 0, **listen)
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            srv.close()
            await runner.cleanup()

    def start(self) -> RunningServer:
        self.thread.start()
        self._ready.wait(60)
        if self._error:
            raise self._error
        return self

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(60)


@pytest.fixture
def server_factory():
    started: list[RunningServer] = []

    def make(**kwargs) -> RunningServer:
        s = RunningServer(**kwargs).start()
        started.append(s)
        return s

    yield make
    for s in started:
        with contextlib.suppress(Exception):
            s.stop()


@pytest.fixture
def server(server_factory) -> RunningServer:
    return server_factory()
