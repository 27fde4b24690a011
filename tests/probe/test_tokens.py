"""Provable tokens: the per-installation secret, the MAC, and what counts as proof a message is ours."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime

import pytest

from verifier.errors import ConfigError
from verifier.probe import message as pm


def _raw(msg) -> bytes:
    return bytes(msg)


def test_the_secret_is_created_on_first_use_with_mode_0600_in_the_state_dir(tmp_path):
    key = pm.key_for()
    path = tmp_path / "state" / "verifier" / pm.SECRET_NAME
    assert key.path == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # the same secret next time (another process reading the file)
    again = pm.load_key(str(path))
    token = key.new_token(1_700_000_000)
    assert again.is_own_token(token)
    assert path.read_text().strip() not in repr(key)


def test_a_token_made_under_another_secret_or_altered_does_not_verify(tmp_path):
    ours = pm.key_for()
    theirs = pm.load_key(str(tmp_path / "other.key"))
    token = ours.new_token(1_700_000_000)
    assert pm.is_own_token(token)
    assert not theirs.is_own_token(token)
    body, mac = token.rsplit("-", 1)
    forged = f"{body}-{'0' * 24 if mac != '0' * 24 else '1' * 24}"
    assert not pm.is_own_token(forged)
    old_shape = "vprobe-" + "00000001" + "ab" * 8  # the old unsigned shape, with a time long past
    assert not pm.is_own_token(old_shape)
    assert not pm.is_own_token(token + "0")


def test_a_secret_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "k"
    pm.load_key(str(path))
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError) as exc:
        pm.load_key(str(path))
    assert "0600" in str(exc.value)
    assert path.read_text().strip() not in str(exc.value)


def test_proof_needs_the_header_token_the_mac_and_an_own_sender():
    key = pm.key_for()
    token = key.new_token(1_700_000_000)
    now = datetime.now(UTC)
    ours = pm.build("newsletter@mydomain.test", "john@guides.test", token, "sender", now)
    own = ("newsletter@mydomain.test", "contact@mydomain.test")
    assert pm.proven_own(_raw(ours), own, key) == token
    assert pm.proven_own(_raw(ours), ("NEWSLETTER@mydomain.test",), key) == token  # addresses compare case-insensitively
    assert pm.proven_own(_raw(ours), own, key, token=key.new_token(1)) is None  # another of our tokens
    # a foreign sender, even with a valid token
    foreign = pm.build("mallory@evil.test", "john@guides.test", token, "sender", now)
    assert pm.proven_own(_raw(foreign), own, key) is None
    # the token in the Subject only
    subj_only = pm.build("newsletter@mydomain.test", "john@guides.test", token, "sender", now)
    del subj_only[pm.PROBE_HEADER]
    assert pm.proven_own(_raw(subj_only), own, key) is None
    # a wrong MAC in the header
    bad = pm.build("newsletter@mydomain.test", "john@guides.test", token[:-1] + ("0" if token[-1] != "0" else "1"), "sender", now)
    assert pm.proven_own(_raw(bad), own, key) is None
    # two From addresses, or two probe headers
    two = pm.build("newsletter@mydomain.test, mallory@evil.test", "john@guides.test", token, "sender", now)
    assert pm.proven_own(_raw(two), own, key) is None
    dup = pm.build("newsletter@mydomain.test", "john@guides.test", token, "sender", now)
    dup[pm.PROBE_HEADER] = f"{token}; role=sender"
    assert pm.proven_own(_raw(dup), own, key) is None


def test_tokens_in_a_message_are_bounded():
    key = pm.key_for()
    many = b" ".join(key.new_token(i).encode() for i in range(100))
    assert len(pm.tokens_in(many)) == 16
