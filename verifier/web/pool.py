"""A small pool of analysis processes the paste server hands its work to.

The event loop only reads requests and writes answers; every analysis runs in
one of ``size`` worker processes. A request waits for a free worker; when
``size + queue`` requests are already admitted, the next one is refused at
once (``PoolFull``, a 503). An analysis that runs longer than ``timeout``
seconds is cut: its worker process is killed and replaced (``Timeout``).

Workers are started with the ``spawn`` method: a fresh interpreter that
inherits neither the server's event loop nor its threads.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
from concurrent.futures import ThreadPoolExecutor

from verifier.web.work import Job, Outcome

START_TIMEOUT = 120.0  # seconds for a new worker to import and warm up


class PoolFull(Exception):
    pass


class Timeout(Exception):
    pass


class WorkerDied(Exception):
    pass


def _worker_main(conn) -> None:
    from verifier.web.work import run, warm_up

    warm_up()  # imports and template compilation happen before the first timed job
    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            out = run(job)
        except Exception as exc:  # a bug: one sentence, the server stays up
            out = Outcome(500, f"verifier: internal error ({type(exc).__name__}); the analysis could not be completed.", "text/plain")
        try:
            conn.send(out)
        except (EOFError, OSError):
            return


class _Worker:
    def __init__(self, ctx) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child,), daemon=True, name="verifier-analysis")
        self.proc.start()
        child.close()
        if not self.conn.poll(START_TIMEOUT) or self.conn.recv() != "ready":
            self.kill()
            raise WorkerDied("an analysis worker did not start")

    def call(self, job: Job, timeout: float) -> Outcome:
        try:
            self.conn.send(job)
            if not self.conn.poll(timeout):
                raise Timeout
            return self.conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            raise WorkerDied from exc

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.join(5)
        finally:
            self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, EOFError):
            pass
        self.proc.join(2)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(2)
        self.conn.close()


class AnalysisPool:
    def __init__(self, size: int = 2, queue: int = 16, timeout: float = 60.0) -> None:
        if size < 1 or queue < 0 or timeout <= 0:
            raise ValueError("pool size must be at least 1, queue at least 0, timeout positive")
        self.size, self.queue, self.timeout = size, queue, timeout
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_Worker] | None = None
        self._all: list[_Worker] = []
        self._threads = ThreadPoolExecutor(max_workers=size, thread_name_prefix="verifier-pool")
        self.admitted = 0  # requests running or waiting for a worker

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._idle = asyncio.Queue()
        workers = await asyncio.gather(*(loop.run_in_executor(self._threads, _Worker, self._ctx) for _ in range(self.size)))
        for w in workers:
            self._all.append(w)
            self._idle.put_nowait(w)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(None, w.stop) for w in self._all), return_exceptions=True)
        self._all.clear()
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def run(self, job: Job) -> Outcome:
        if self._idle is None:
            raise RuntimeError("the pool is not started")
        if self.admitted >= self.size + self.queue:
            raise PoolFull
        self.admitted += 1
        loop = asyncio.get_running_loop()
        try:
            w = await self._idle.get()
            fut = loop.run_in_executor(self._threads, w.call, job, self.timeout)
            try:
                out = await asyncio.shield(fut)
            except (Timeout, WorkerDied):
                await self._replace(w)
                raise
            except asyncio.CancelledError:
                # The request went away: the worker is handed back only once its job is done.
                fut.add_done_callback(lambda f: loop.create_task(self._after_cancel(w, f)))
                raise
            self._idle.put_nowait(w)
            return out
        finally:
            self.admitted -= 1

    async def _replace(self, w: _Worker) -> None:
        loop = asyncio.get_running_loop()
        if w in self._all:
            self._all.remove(w)
        await loop.run_in_executor(None, w.kill)
        nw = await loop.run_in_executor(None, _Worker, self._ctx)
        self._all.append(nw)
        self._idle.put_nowait(nw)

    async def _after_cancel(self, w: _Worker, fut) -> None:
        if fut.cancelled() or fut.exception() is not None:
            await self._replace(w)
        else:
            self._idle.put_nowait(w)
