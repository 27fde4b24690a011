"""Property tests: schema validation never fails in another way, signing holds for any address."""

from __future__ import annotations

import ovh
import ovh.client
import ovh.exceptions as ovhx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verifier.lab.api import schema
from verifier.lab.api.server import ApiEmulator

BASE = "/email/exchange/private-zz111111-1/service/private-zz111111-1"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(sorted(set(schema.ACCOUNT) | set(schema.SEND_CONNECTOR_CREATE))) | st.text(max_size=12)


@given(st.dictionaries(field_names, json_values, max_size=6) | json_values)
@settings(max_examples=300, deadline=None)
def test_validate_only_raises_schema_errors(body):
    for props, current in (
        (schema.SEND_CONNECTOR_CREATE, None),
        (schema.SEND_CONNECTOR, {"state": "ok", "id": 1}),
        (schema.ACCOUNT, {"primaryEmailAddress": "a@b.test"}),
        (schema.CHANGE_DEFAULT_SBR, None),
    ):
        try:
            out = schema.validate(body, props, current=current)
        except schema.SchemaError as exc:
            assert str(exc)
        else:
            assert isinstance(out, dict)
            assert set(out) <= set(props)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10))
@settings(max_examples=100, deadline=None)
def test_enum_membership_is_exact(value):
    body = {"displayName": "x", "smartHost": "h", "smartHostAuthMechanism": value}
    if value in ("none",):
        assert schema.validate(body, schema.SEND_CONNECTOR_CREATE) == body
    else:
        with pytest.raises(schema.SchemaError):
            schema.validate(body, schema.SEND_CONNECTOR_CREATE)


@pytest.fixture(scope="module")
def shared_emulator(tmp_path_factory):
    emu = ApiEmulator(tmp_path_factory.mktemp("prop-api"), task_delay=0).start_in_thread()
    ovh.client.ENDPOINTS["prop-lab"] = emu.base_url
    c = emu.credentials
    client = ovh.Client(
        endpoint="prop-lab",
        application_key=c.application_key,
        application_secret=c.application_secret,
        consumer_key=c.consumer_key,
    )
    yield emu, client
    emu.stop_thread()


@given(login=st.from_regex(r"[a-z0-9][a-z0-9.+_-]{0,15}", fullmatch=True))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_signed_paths_with_any_mailbox_name(shared_emulator, login):
    """python-ovh signs the path as written; the emulator checks the URL as sent: they agree."""
    _emu, client = shared_emulator
    address = f"{login}@mydomain.test"
    try:
        client.post(f"{BASE}/account", domain="mydomain.test", login=login, license="basic",
                    password="Prop-Mailbox-Pw-1")
    except ovhx.ResourceConflictError:
        pass  # hypothesis may try the same name twice
    assert client.get(f"{BASE}/account/{address}")["primaryEmailAddress"] == address
    assert address in client.get(f"{BASE}/account", primaryEmailAddress=address)
    assert isinstance(client.get(f"{BASE}/account/{address}/tasks"), list)
