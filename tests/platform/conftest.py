"""Fixtures: the OVH API emulator on 127.0.0.1 (free port) and a way to run the CLI.

The real python-ovh client talks HTTP to the emulator; nothing in the client is patched.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from vplatform_support import CONNECTOR_PASSWORD, TRANSCRIPT, Routes, run_cli

from verifier.lab.api.server import ApiEmulator


class _Collect(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            TRANSCRIPT.append(self.format(record))
        except Exception:  # noqa: BLE001
            TRANSCRIPT.append(repr(record.__dict__))
        if record.exc_info:
            TRANSCRIPT.append(logging.Formatter().formatException(record.exc_info))


@pytest.fixture(autouse=True, scope="session")
def _collect_logs() -> Iterator[None]:
    handler = _Collect(level=logging.DEBUG)
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(handler)
    root.setLevel(old)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No OVH_* or VERIFIER_OVH_* from the outside, and no ./ovh.conf or ~/.ovh.conf around."""
    for name in list(os.environ):
        if name.startswith(("OVH_", "VERIFIER_OVH_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


@pytest.fixture
def routes() -> Routes:
    return Routes()


@pytest.fixture
def emulator(tmp_path: Path, routes: Routes, clean_env: pytest.MonkeyPatch) -> Iterator[ApiEmulator]:
    emu = ApiEmulator(tmp_path / "api", task_delay=0.05, route_hook=routes).start_in_thread()
    for key, value in emu.environment().items():
        clean_env.setenv(key, value)
    try:
        yield emu
    finally:
        emu.stop_thread()


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "connector-password"
    path.write_text(CONNECTOR_PASSWORD + "\n")
    path.chmod(0o600)
    return path


