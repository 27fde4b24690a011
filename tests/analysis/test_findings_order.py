"""How the analysis hands its findings over: the verdict first, then errors, warnings
and information, each kind in the order the steps found them; the likely route only
when it is unconfirmed; and the small accessors reports use."""

from __future__ import annotations

from pathlib import Path

from verifier.analysis.engine import Options, analyze_bytes
from verifier.analysis.findings import SPECS
from verifier.model import Severity

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "headers"
RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def test_the_verdict_first_then_by_severity_in_discovery_order() -> None:
    a = analyze_bytes((FIXTURES / "ovh-bypassed-hosted.txt").read_bytes(), Options(smarthosts=("smtp-relay.relay.example",)))
    codes = [f.code for f in a.findings]
    assert codes[0] == "verdict.bypassed" and a.findings[0].severity == Severity.ERROR
    ranks = [RANK[f.severity] for f in a.findings[1:]]
    assert ranks == sorted(ranks)
    assert "border.from-platform" in codes and a.findings[1].code == "border.from-platform"  # the only warning
    infos = [c for c in codes if SPECS[c].severity == Severity.INFO]
    # the information in the order the steps found it: chain, route, border, SPF, DKIM, DMARC
    assert infos == ["chain.total-delay", "route.platform-hop", "route.platform-hop", "border.found", "spf.pass", "dkim.signed-by-sender-domain", "dkim.pass", "dmarc.result", "dmarc.aligned"]


def test_a_warning_verdict_still_comes_first() -> None:
    a = analyze_bytes(b"Received: from a.example (a.example [203.0.113.1]) by b.example with ESMTP id 1; Fri, 27 Nov 2026 20:00:01 +0000\nFrom: x@a.example\n")
    assert a.findings[0].code == "verdict.inconclusive"
    ranks = [RANK[f.severity] for f in a.findings[1:]]
    assert ranks == sorted(ranks) and ranks[0] == 1 and ranks[-1] == 2


def test_the_likely_route_finding_only_when_unconfirmed() -> None:
    listed = analyze_bytes((FIXTURES / "likely-mailing-list.txt").read_bytes(), Options(smarthosts=("smtp-relay.relay.example",)))
    f = [f for f in listed.findings if f.code == "route.likely"]
    assert len(f) == 1 and f[0].headers == (listed.likely.header_index,)
    assert f[0].message == "The most likely route is bypassed (unconfirmed): " + listed.likely.reason
    proven = analyze_bytes((FIXTURES / "ovh-bypassed-hosted.txt").read_bytes())
    assert proven.likely is not None and proven.likely.confidence == "confirmed"
    assert "route.likely" not in [f.code for f in proven.findings]


def test_authserv_ids_and_method_results() -> None:
    data = (
        b"Authentication-Results: mx.b.example; dkim=pass header.d=a.example; spf=pass smtp.mailfrom=a.example\n"
        b"ARC-Authentication-Results: i=1; relay.example; dkim=pass header.d=a.example\n"
        b"Authentication-Results: mx.b.example; dkim=fail header.d=c.example\n"
        b"Authentication-Results: filter.b.example; dmarc=pass\n"
        b"From: x@a.example\n"
    )
    a = analyze_bytes(data)
    assert a.authserv_ids == ("mx.b.example", "relay.example", "filter.b.example")
    assert [(ar.header_index, r.result) for ar, r in a.method_results("dkim")] == [(0, "pass"), (2, "fail")]
    assert a.method_results("iprev") == []

