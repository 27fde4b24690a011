"""The route hook against hostile routes: each bad entry is refused on its own and logged
without secrets; every other sender's route is written as usual (no lab needed)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from verifier.lab.layout import Layout
from verifier.lab.postfix_maps import apply_routes, clean_address, clean_hostname, render_tables
from verifier.lab.routes import Route

SECRET = "S3cret-relay-pw-41d0"
GOOD = Route("newsletter@mydomain.test", 1, "smtp.relay.test", 587, True, "basicAuthRequireTLS",
             "u@relay.test", SECRET)
# What an injected line would try: send contact@ (no connector) through a relay it never chose.
INJECTED = "contact@mydomain.test [evil.test]:25"


def _bad(**changes) -> Route:
    base = {"address": "evil@mydomain.test", "connector_id": 66, "smart_host": "relay.test", "port": 25,
            "require_tls": False, "auth_mechanism": "basicAuth", "user": "evil", "password": SECRET}
    base.update(changes)
    return Route(**base)


HOSTILE = {
    "newline in smartHost": _bad(smart_host=f"relay.test]:25\n{INJECTED}\n#"),
    "CR in smartHost": _bad(smart_host=f"relay.test\r{INJECTED}"),
    "space in smartHost": _bad(smart_host=f"relay.test {INJECTED}"),
    "bracket in smartHost": _bad(smart_host="relay.test]:25 [evil.test"),
    "IPv6 zone in smartHost": _bad(smart_host=f"fe80::1%eth0\n{INJECTED}"),
    "NUL in smartHost": _bad(smart_host="relay.test\x00evil"),
    "label too long": _bad(smart_host="a" * 64 + ".test"),
    "name too long": _bad(smart_host=("a" * 62 + ".") * 4 + "test"),
    "empty smartHost": _bad(smart_host=""),
    "non-ASCII smartHost": _bad(smart_host="rélay.test"),
    "port out of range": _bad(port=0),
    "newline in user": _bad(user=f"evil\n{INJECTED}"),
    "colon in user": _bad(user="evil:x"),
    "space in user": _bad(user="evil user"),
    "newline in password": _bad(password=f"{SECRET}\n{INJECTED}"),
    "DEL in password": _bad(password=f"{SECRET}\x7f"),
    "NEL in password": _bad(password=f"{SECRET}\x85x"),
    "password with trailing space": _bad(password=f"{SECRET} "),
    "newline in address": _bad(address=f"evil@mydomain.test\n{INJECTED}"),
    "space in address": _bad(address="evil @mydomain.test"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_entry_is_refused_and_the_rest_written(name: str, caplog: pytest.LogCaptureFixture) -> None:
    bad = HOSTILE[name]
    caplog.set_level(logging.WARNING, logger="verifier.lab.postfix_maps")
    tables = render_tables([bad, GOOD])
    everything = "".join(tables.values())
    # The good sender is routed as before.
    assert "newsletter@mydomain.test [smtp.relay.test]:587\n" in tables["sender_relay"]
    assert f"newsletter@mydomain.test u@relay.test:{SECRET}\n" in tables["sasl_passwd"]
    assert "[smtp.relay.test]:587 secure match=hostname\n" in tables["tls_policy"]
    # Nothing of the hostile entry: no line for its sender, no injected line, one line per entry.
    assert "evil" not in everything
    assert "contact@" not in everything
    for name, text in tables.items():
        lines = [line for line in text.splitlines() if not line.startswith("#")]
        assert len(lines) == 1, text
        assert name == "tls_policy" or len(lines[0].split()) == 2, text
    # Logged: which connector and which field, never the value or a secret.
    refused = [r.getMessage() for r in caplog.records if "route refused" in r.getMessage()]
    assert len(refused) == 1 and "send connector 66" in refused[0]
    assert SECRET not in refused[0] and "\n" not in refused[0] and "evil" not in refused[0]


def test_a_refused_entry_does_not_stop_later_changes(tmp_path: Path) -> None:
    """The table is rewritten after a bad entry: detaching the good sender takes effect."""
    lay = Layout(tmp_path)
    bad = HOSTILE["newline in user"]
    apply_routes([bad, GOOD], lay)
    relay = lay.platform_maps / "sender_relay"
    assert "newsletter@mydomain.test" in relay.read_text()
    apply_routes([bad], lay)  # the good sender detached; the bad connector still there
    assert "newsletter@mydomain.test" not in relay.read_text()
    assert SECRET not in (lay.platform_maps / "sasl_passwd").read_text()
    assert os.stat(lay.platform_maps / "sasl_passwd").st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("smtp.relay.test", "smtp.relay.test"),
        ("SMTP.Relay.Test.", "smtp.relay.test"),
        ("192.0.2.1", "192.0.2.1"),
        ("2001:DB8::1", "2001:db8::1"),
        ("a" * 63 + ".test", "a" * 63 + ".test"),
        (("a" * 63 + ".") * 3 + "b" * 61, ("a" * 63 + ".") * 3 + "b" * 61),
        ("-a.test", None),
        ("a-.test", None),
        ("a..test", None),
        ("a_b.test", None),
        (".", None),
    ],
)
def test_clean_hostname(value: str, expected: str | None) -> None:
    assert clean_hostname(value) == expected


def test_clean_address() -> None:
    assert clean_address(" News.Letter+x@MyDomain.test ") == "news.letter+x@mydomain.test"
    assert clean_address("no-at-sign") is None
    assert clean_address("a@b@c.test") is None
    assert clean_address("a:b@c.test") is None
    assert clean_address("a@c.test\n") == "a@c.test"  # outer whitespace is trimmed, never kept
    assert clean_address("a\n@c.test") is None
