"""Every monitor test gets its own state directory, so no test reads or writes the user's token secret."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _state_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    from verifier.probe import message as pm

    monkeypatch.setattr(pm, "_DEFAULT_KEYS", {})
