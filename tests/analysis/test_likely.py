"""The most likely route: stated with its confidence, never stronger than the chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verifier.analysis.engine import Options, analyze_bytes
from verifier.cli import main
from verifier.model import Verdict, Zone

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "headers"
SMARTHOST = Options(smarthosts=("smtp-relay.relay.example",))


def _read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _options(fixture: Path) -> Options:
    exp = fixture.with_name(fixture.stem + ".expected.json")
    spec = json.loads(exp.read_text(encoding="utf-8")) if exp.exists() else {}
    spec = spec[0] if isinstance(spec, list) else spec
    args = spec.get("args", [])
    sh = tuple(x for i, a in enumerate(args) if a == "--smarthost" for x in args[i + 1].split(","))
    return Options(smarthosts=sh)


def test_mailing_list_suggests_bypassed_at_the_platform_hand_off() -> None:
    a = analyze_bytes(_read("likely-mailing-list.txt"), SMARTHOST)
    assert a.verdict == Verdict.INCONCLUSIVE
    assert a.likely is not None
    assert (a.likely.route, a.likely.confidence, a.likely.hop_index) == ("bypassed", "unconfirmed", 1)
    assert a.likely.header_index == a.hops[1].received.header_index
    assert "4.mo552.mail-out.ovh.net" in a.likely.reason and "not proven" in a.likely.reason
    assert "lists.community.example" in a.likely.reason


def test_on_premises_recipient_without_authentication_headers() -> None:
    a = analyze_bytes(_read("likely-onprem-no-auth.txt"))
    assert a.verdict == Verdict.INCONCLUSIVE and a.border is None
    assert (a.likely.route, a.likely.confidence, a.likely.hop_index) == ("bypassed", "unconfirmed", 1)
    assert "no Authentication-Results or Received-SPF" in a.likely.reason


def test_a_platform_hop_above_the_border_is_never_the_route() -> None:
    a = analyze_bytes(_read("likely-forged-platform-above-border.txt"), SMARTHOST)
    assert a.border.index == 1
    assert a.verdict == Verdict.VIA_CONNECTOR
    assert (a.likely.route, a.likely.confidence, a.likely.hop_index) == ("via-connector", "confirmed", 1)


def test_without_smarthost_a_mailbox_server_hand_off_is_not_called_bypassed() -> None:
    """The platform's mailbox server handing the message to an unknown host may be handing
    it to the connector's smarthost: no guess."""
    a = analyze_bytes(_read("ovh-connector-gmail-no-smarthost.txt"))
    assert a.verdict == Verdict.INCONCLUSIVE
    assert a.likely is None


def test_likely_via_connector_from_a_smarthost_hand_off_without_border() -> None:
    a = analyze_bytes(_read("ovh-connector-no-border-evidence.txt"), SMARTHOST)
    assert a.verdict == Verdict.INCONCLUSIVE and a.border is None
    assert (a.likely.route, a.likely.confidence) == ("via-connector", "unconfirmed")
    assert a.hops[a.likely.hop_index].zone != Zone.SMARTHOST  # the outside host that received it
    assert "out-1.relay.example" in a.likely.reason


@pytest.mark.parametrize("name", ["likely-mailing-list.txt", "likely-onprem-no-auth.txt"])
def test_the_likely_route_never_changes_the_exit_code(name: str, capsys) -> None:
    args = ["--smarthost", "smtp-relay.relay.example"]
    rc = main(["analyze", *args, str(FIXTURES / name)])
    assert rc == 5  # inconclusive with a smarthost given, whatever is likely
    rc = main(["analyze", str(FIXTURES / name)])
    assert rc == 0  # no smarthost: no route was expected
    capsys.readouterr()


def _all_fixture_analyses():
    for f in sorted(FIXTURES.iterdir()):
        if f.suffix in (".txt", ".eml") and not f.name.startswith("mbox"):
            opts = _options(f)
            yield f.name, analyze_bytes(f.read_bytes(), opts), opts
            yield f.name + " (no smarthost)", analyze_bytes(f.read_bytes()), Options()


def test_likely_is_never_stronger_than_the_chain() -> None:
    seen = set()
    for name, a, opts in _all_fixture_analyses():
        lk = a.likely
        if a.verdict in (Verdict.VIA_CONNECTOR, Verdict.BYPASSED):
            assert lk is not None and lk.route == a.verdict and lk.confidence == "confirmed", name
            continue
        if lk is None:
            continue
        seen.add(lk.route)
        assert lk.confidence == "unconfirmed", name
        assert a.border is None or lk.hop_index > a.border.index, name  # never the recipient's own hops
        if lk.route == Verdict.VIA_CONNECTOR:
            assert opts.smarthosts, name
            smarthost_hop = any(h.zone == Zone.SMARTHOST for h in a.hops)
            assert smarthost_hop or "smarthost host" in lk.reason, name
    assert seen == {"bypassed", "via-connector"}


def test_likely_finding_only_when_unconfirmed() -> None:
    for name, a, _ in _all_fixture_analyses():
        codes = [f.code for f in a.findings]
        unconfirmed = a.likely is not None and a.likely.confidence == "unconfirmed"
        assert ("route.likely" in codes) == unconfirmed, name
