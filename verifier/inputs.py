"""Turn the `analyze` arguments (files, folders, mbox files, `-`) into messages.

Each message comes with the name it is reported under (``path`` or
``path#3`` for the third message of an mbox). An input that cannot be read
yields an error entry instead of stopping the others: a folder of pasted
headers is triaged whole even when one file is broken.

Every input, whatever it is (a regular file, standard input, a pipe, a FIFO, a
device such as /dev/zero, a process substitution such as ``<(cmd)``), is read by
one bounded reader, :func:`read_bounded`: it reads in chunks and stops one byte
past ``MAX_INPUT_BYTES``, so an endless or oversized input is refused with one
sentence and never held whole. The size a file claims is never trusted (a FIFO
or a device says 0).

A FIFO is opened without blocking; when no writer has opened it within
``FIFO_WAIT_SECONDS``, it is refused ("no program is writing to it"). Once a
writer is there, it is read like a pipe, until the writer closes it.
"""

from __future__ import annotations

import os
import select
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

MAX_INPUT_BYTES = 64 * 1024 * 1024  # per input; a larger one is refused with a sentence
FIFO_WAIT_SECONDS = 10.0  # how long a FIFO may stay without a writer
CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Message:
    name: str
    data: bytes | None
    error: str | None = None  # one sentence when the input could not be read


class InputError(OSError):
    """An input refused by the reader, with the reason as its message."""


def _limit_text(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"


def read_bounded(fd: int, limit: int | None = None) -> bytes:
    """Read ``fd`` to its end, refusing (InputError) anything over ``limit`` bytes.

    Reads at most ``limit + 1`` bytes, in chunks, whatever the descriptor is; the
    caller owns and closes ``fd``."""
    limit = MAX_INPUT_BYTES if limit is None else limit
    buf = bytearray()
    while True:
        try:
            chunk = os.read(fd, min(CHUNK, limit + 1 - len(buf)))
        except BlockingIOError:  # a descriptor in non-blocking mode: wait for data
            select.select([fd], [], [])
            continue
        if not chunk:
            return bytes(buf)
        buf += chunk
        if len(buf) > limit:
            raise InputError(f"it is over the {_limit_text(limit)} limit")


def _wait_for_writer(fd: int, wait: float) -> bytes:
    """``fd`` is a FIFO opened with O_NONBLOCK. Return once a program has opened it for
    writing (with the byte read to find out, if any); InputError after ``wait`` seconds
    without one.

    Linux's poll() reports nothing on a FIFO while no writer has opened it, and nothing
    either while a writer is there but silent; a one-byte read tells them apart (no
    writer: end of file; a silent writer: EAGAIN)."""
    deadline = time.monotonic() + wait
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    while True:
        if poller.poll(100):
            return b""  # data, or a writer that has come and gone
        try:
            first = os.read(fd, 1)
        except BlockingIOError:
            return b""  # a writer is there, silent for now: wait for it like a pipe
        if first:
            return first
        if time.monotonic() >= deadline:
            raise InputError(f"it is a FIFO that no program opened for writing within {wait:g} seconds")


def read_path(path: str, limit: int | None = None, fifo_wait: float | None = None) -> bytes:
    """Open and read one input path through :func:`read_bounded`, whatever it is."""
    limit = MAX_INPUT_BYTES if limit is None else limit
    wait = FIFO_WAIT_SECONDS if fifo_wait is None else fifo_wait
    st = os.stat(path)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(21, "Is a directory", path)
    if stat.S_ISFIFO(st.st_mode):
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            first = _wait_for_writer(fd, wait)
            os.set_blocking(fd, True)
            return first + read_bounded(fd, limit - len(first))
        finally:
            os.close(fd)
    if stat.S_ISREG(st.st_mode) and st.st_size > limit:
        # refused before reading; the size a file claims is never trusted the other way
        raise InputError(f"it is {_limit_text(st.st_size)}, over the {_limit_text(limit)} limit")
    fd = os.open(path, os.O_RDONLY)
    try:
        return read_bounded(fd, limit)
    finally:
        os.close(fd)


def _looks_like_mbox(data: bytes) -> bool:
    return data.startswith(b"From ") and data.count(b"\nFrom ") >= 1


def _split(name: str, data: bytes) -> Iterator[Message]:
    if _looks_like_mbox(data):
        from verifier.parsers.paste import split_messages

        parts = split_messages(data)
        if len(parts) > 1:
            del data
            for i in range(len(parts)):
                part, parts[i] = parts[i], b""  # each message is dropped once it is reported
                yield Message(f"{name}#{i + 1}", part)
            return
    yield Message(name, data)


def _reason(exc: OSError) -> str:
    if isinstance(exc, InputError):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "it is a directory"
    return exc.strerror or str(exc)


def _read_stdin(stdin) -> bytes:
    buffer = getattr(stdin, "buffer", None)
    if buffer is None:  # a text stream given by a caller (tests): bounded all the same
        text = stdin.read(MAX_INPUT_BYTES + 1)
        data = text.encode("utf-8", "surrogateescape")
        if len(text) > MAX_INPUT_BYTES or len(data) > MAX_INPUT_BYTES:
            raise InputError(f"it is over the {_limit_text(MAX_INPUT_BYTES)} limit")
        return data
    try:
        fd = buffer.fileno()
    except (AttributeError, OSError, ValueError):  # an in-memory stream
        data = buffer.read(MAX_INPUT_BYTES + 1)
        if len(data) > MAX_INPUT_BYTES:
            raise InputError(f"it is over the {_limit_text(MAX_INPUT_BYTES)} limit") from None
        return data
    return read_bounded(fd)


def iter_messages(args: list[str], *, stdin=None) -> Iterator[Message]:
    stdin = stdin if stdin is not None else sys.stdin
    if not args:
        args = ["-"]
    for arg in args:
        if arg == "-":
            try:
                data = _read_stdin(stdin)
            except OSError as exc:
                yield Message("<stdin>", None, f"cannot read standard input: {_reason(exc)}")
                continue
            yield from _split("<stdin>", data)
            del data
            continue
        if os.path.isdir(arg):
            try:
                names = sorted(os.listdir(arg))
            except OSError as exc:
                yield Message(arg, None, f"cannot list the folder {arg}: {_reason(exc)}")
                continue
            files = [os.path.join(arg, n) for n in names if not n.startswith(".") and os.path.isfile(os.path.join(arg, n))]
            files = [f for f in files if not f.endswith(".json")]  # expectation/sidecar files
            if not files:
                yield Message(arg, None, f"the folder {arg} holds no file to analyse")
            for f in files:
                try:
                    data = read_path(f)
                except OSError as exc:
                    yield Message(f, None, f"cannot read {f}: {_reason(exc)}")
                    continue
                yield from _split(f, data)
                del data
            continue
        try:
            data = read_path(arg)
        except OSError as exc:
            yield Message(arg, None, f"cannot read {arg}: {_reason(exc)}")
            continue
        yield from _split(arg, data)
        del data
