"""Turn the `analyze` arguments (files, folders, mbox files, `-`) into messages.

Each message comes with the name it is reported under (``path`` or
``path#3`` for the third message of an mbox). An input that cannot be read
yields an error entry instead of stopping the others: a folder of pasted
headers is triaged whole even when one file is broken.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

MAX_INPUT_BYTES = 256 * 1024 * 1024  # a larger file is refused with a sentence, not read


@dataclass(frozen=True, slots=True)
class Message:
    name: str
    data: bytes | None
    error: str | None = None  # one sentence when the input could not be read


def _read_file(path: str) -> bytes:
    size = os.path.getsize(path)
    if size > MAX_INPUT_BYTES:
        raise OSError(f"it is {size // (1024 * 1024)} MiB, over the {MAX_INPUT_BYTES // (1024 * 1024)} MiB limit")
    with open(path, "rb") as fh:
        return fh.read()


def _looks_like_mbox(data: bytes) -> bool:
    return data.startswith(b"From ") and data.count(b"\nFrom ") >= 1


def _split(name: str, data: bytes) -> Iterator[Message]:
    if _looks_like_mbox(data):
        from verifier.parsers.paste import split_messages

        parts = split_messages(data)
        if len(parts) > 1:
            for i, part in enumerate(parts, 1):
                yield Message(f"{name}#{i}", part)
            return
    yield Message(name, data)


def _reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "it is a directory"
    return exc.strerror or str(exc)


def iter_messages(args: list[str], *, stdin=None) -> Iterator[Message]:
    stdin = stdin if stdin is not None else sys.stdin
    if not args:
        args = ["-"]
    for arg in args:
        if arg == "-":
            data = stdin.buffer.read(MAX_INPUT_BYTES + 1) if hasattr(stdin, "buffer") else stdin.read().encode()
            if len(data) > MAX_INPUT_BYTES:
                yield Message("<stdin>", None, "standard input is over the 256 MiB limit")
                continue
            yield from _split("<stdin>", data)
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
                    yield from _split(f, _read_file(f))
                except OSError as exc:
                    yield Message(f, None, f"cannot read {f}: {_reason(exc)}")
            continue
        try:
            yield from _split(arg, _read_file(arg))
        except OSError as exc:
            yield Message(arg, None, f"cannot read {arg}: {_reason(exc)}")
