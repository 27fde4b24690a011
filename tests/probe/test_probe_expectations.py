"""The probe asks the API first, and sends nothing while the connector is not ready.

Runs against the OVH API emulator in-process (real python-ovh client over HTTP);
no mail server is needed because the probe stops before opening any.
"""

from __future__ import annotations

import asyncio

import pytest

from verifier.errors import CheckFailedError, ExitCode
from verifier.lab.api.server import ApiEmulator
from verifier.platform.api import ExchangeApi
from verifier.platform.client import ClientSettings, make_client
from verifier.probe.profile import profile_from_dict
from verifier.probe.run import run_probe

ORG = SVC = "private-zz111111-1"


@pytest.fixture
def emulator(tmp_path, monkeypatch):
    emu = ApiEmulator(tmp_path / "api", task_delay=0.2).start_in_thread()
    for k, v in emu.environment().items():
        monkeypatch.setenv(k, v)
    try:
        yield emu
    finally:
        emu.stop_thread()


def _profile(emu):
    return profile_from_dict({
        "platform": {"endpoint": emu.base_url, "organization": ORG, "service": SVC},
        "sender": {"address": "newsletter@mydomain.test", "smtp_host": "mail.platform.test", "password_env": "UNUSED"},
        "recipient": {"address": "john.smith@guides.test", "imap_host": "imap.guides.test", "password_env": "UNUSED"},
    })


def test_nothing_is_sent_while_the_connector_has_a_task_pending(emulator):
    client, _ = make_client(ClientSettings(endpoint=emulator.base_url))
    api = ExchangeApi(client, ORG, SVC)
    api.wait_task(api.create_connector(display_name="r", smart_host="smtp.relay.test", port=587).id, timeout=30)
    cid = api.connectors()[0].id
    api.attach("newsletter@mydomain.test", cid)
    emulator.task_delay = 60.0  # the next task stays pending for the whole test
    api.change_authentication(cid, auth_mechanism="none")
    steps: list[str] = []
    with pytest.raises(CheckFailedError) as exc:
        asyncio.run(run_probe(_profile(emulator), steps.append))
    assert "Nothing was sent" in str(exc.value) and "pending" in str(exc.value)
    assert exc.value.exit_code == ExitCode.CHECK_FAILED
    assert not any(s.startswith(("opening", "submitting")) for s in steps)
