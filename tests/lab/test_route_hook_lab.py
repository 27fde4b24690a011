"""A hostile connector planted in the emulator's state cannot steer mail or freeze routing.

The connectors below are written straight into the state file while the emulator
is stopped (the API itself refuses them). Real Postfix then shows that (1) the
line a newline in ``smartHost`` tries to inject is not there, so the sender it
targets still leaves directly, and (2) a later detach of another account through
the API takes effect, although the hostile connectors are still in the state.
"""

from __future__ import annotations

import time
from typing import Any

import ovh
import pytest
from lab_support import find, new_tag, password, submit

from verifier.lab import topology as t
from verifier.lab.api.state import new_account
from verifier.lab.control import Lab
from verifier.lab.postfix_maps import TABLES

pytestmark = pytest.mark.lab

BASE = f"/email/exchange/{t.ORGANIZATION}/service/{t.SERVICE}"
EVIL_HOST = "evil.relay.test"
# Would give the unattached sender a route through the lab's relay, and a SASL login.
INJECT_HOST = f"{EVIL_HOST}]:25\n{t.CONTROL_SENDER} [{t.RELAY_NAME}]:{t.RELAY_PORT}\n#"
EVIL_SECRET = "Evil-Pa55word-c0ffee"
PLANTED = {  # connector id -> (sender, fields)
    "900": ("planted-host@mydomain.test", {"smartHost": INJECT_HOST, "smartHostAuthMechanism": "none"}),
    "901": ("planted-user@mydomain.test", {
        "smartHost": EVIL_HOST,
        "smartHostAuthMechanism": "basicAuth",
        "_user": f"evil\n{t.CONTROL_SENDER} {t.RELAY_USER}",
        "_password": EVIL_SECRET,
    }),
}


def ovh_client(lab: Lab) -> ovh.Client:
    state = lab.load()
    ovh.client.ENDPOINTS["verifier-lab-route-hook"] = state["ovh"]["endpoint"]
    return ovh.Client(
        endpoint="verifier-lab-route-hook",
        application_key=state["ovh"]["application_key"],
        application_secret=(lab.layout.secrets / "ovh-application-secret").read_text().strip(),
        consumer_key=(lab.layout.secrets / "ovh-consumer-key").read_text().strip(),
    )


def wait_for(what: str, check, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def relay_connector(client: ovh.Client, lab: Lab) -> int:
    for cid in client.get(f"{BASE}/sendConnector"):
        if client.get(f"{BASE}/sendConnector/{cid}")["smartHost"] == t.RELAY_NAME:
            return int(cid)
    task = client.post(f"{BASE}/sendConnector", displayName="lab relay (route hook test)", smartHost=t.RELAY_NAME,
                       port=t.RELAY_PORT, requireTLS=True, smartHostAuthMechanism="basicAuthRequireTLS",
                       user=t.RELAY_USER, password=password(lab, t.RELAY_USER))
    wait_for("connector task", lambda: client.get(f"{BASE}/task/{task['id']}")["status"] == "done")
    return relay_connector(client, lab)


def planter(ids: list[str]):
    def plant(data: dict[str, Any]) -> None:
        _plant(data, ids)
    return plant


def _plant(data: dict[str, Any], ids: list[str]) -> None:
    svc = data["organizations"][t.ORGANIZATION]["services"][t.SERVICE]
    for cid in ids:
        sender, fields = PLANTED[cid]
        svc["connectors"][cid] = {
            "id": int(cid), "displayName": f"planted {cid}", "port": 25, "maxSendSize": 100,
            "requireTLS": False, "state": "ok", "creationDate": "2026-01-01T00:00:00+00:00",
            "lastUpdateDate": None, "taskPendingId": 0, "_user": None, "_password": None, **fields,
        }
        svc["accounts"][sender] = new_account(sender, account_id=90000 + int(cid), display_name=sender,
                                              send_connector_id=int(cid))


def unplant(data: dict[str, Any]) -> None:
    svc = data["organizations"][t.ORGANIZATION]["services"][t.SERVICE]
    for cid, (sender, _fields) in PLANTED.items():
        svc["connectors"].pop(cid, None)
        svc["accounts"].pop(sender, None)


@pytest.mark.parametrize("planted", [["900"], ["901"], ["900", "901"]], ids=["smartHost", "user", "both"])
def test_hostile_connector_does_not_break_a_later_detach(lab: Lab, planted: list[str]) -> None:
    maps = lab.layout.platform_maps
    relay_map = maps / "sender_relay"
    api_log = lab.layout.log / "api.log"
    client = ovh_client(lab)
    cid = relay_connector(client, lab)
    before = client.get(f"{BASE}/account/{t.ATTACHED_SENDER}")
    spam = dict(before["spamAndVirusConfiguration"], deleteVirus=True)
    client.put(f"{BASE}/account/{t.ATTACHED_SENDER}", spamAndVirusConfiguration=spam, sendConnectorId=cid)
    wait_for("the attached sender in the relay map", lambda: t.ATTACHED_SENDER in relay_map.read_text())

    refusals = api_log.read_text(errors="replace").count("route refused")
    written = relay_map.stat().st_mtime_ns
    lab.restart_api(planter(planted))
    try:
        # The restarted emulator hands its routes to the hook at once: the tables are
        # written again, without the planted connectors, each refused on its own.
        wait_for("the route hook did not write the tables after the restart (a bad connector stopped it)",
                 lambda: relay_map.stat().st_mtime_ns != written)
        tables = "".join((maps / name).read_text() for name in TABLES)
        injected = t.CONTROL_SENDER in tables
        assert not injected, "a smartHost injected a route for another sender"
        planted_text = EVIL_HOST in tables or "planted" in tables or "evil" in tables
        assert not planted_text, "a planted connector's values reached the tables"
        kept = t.ATTACHED_SENDER in relay_map.read_text()
        assert kept, "the good sender's route was dropped with the bad ones"
        wait_for("one refusal per planted connector in the emulator's log",
                 lambda: api_log.read_text(errors="replace").count("route refused") >= refusals + len(planted))
        log_text = api_log.read_text(errors="replace")
        assert EVIL_SECRET not in log_text and "route hook failed" not in log_text[-4000:]

        # Detach the good sender through the API: the tables follow, and real mail goes direct.
        client = ovh_client(lab)  # the emulator came back on another port
        client.put(f"{BASE}/account/{t.ATTACHED_SENDER}", sendConnectorId=None)
        # The hook writes the tables one after the other: wait for all of them. The tables hold
        # the lab relay's password, so no assertion here prints their text.
        wait_for("the detached sender gone from every table",
                 lambda: all(t.ATTACHED_SENDER not in (maps / name).read_text() for name in TABLES))
        time.sleep(0.5)  # the reload that follows the map
        for sender in (t.ATTACHED_SENDER, t.CONTROL_SENDER):
            sent = submit(lab, sender, tag=new_tag("hostile-route"))
            found = find(lab, sent.tag)
            assert found is not None, f"the message from {sender} never arrived"
            received = found.all("Received")
            assert not any(t.RELAY_NAME in r for r in received), (sender, received)
            assert any(f"from {t.PLATFORM_NAME}" in r and f"by {t.MX_NAME}" in r for r in received), received
    finally:
        lab.restart_api(unplant)
        client = ovh_client(lab)
        client.put(f"{BASE}/account/{t.ATTACHED_SENDER}", sendConnectorId=before["sendConnectorId"])
        client.put(f"{BASE}/account/{t.ATTACHED_SENDER}",
                   spamAndVirusConfiguration=before["spamAndVirusConfiguration"])
