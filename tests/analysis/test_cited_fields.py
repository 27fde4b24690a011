"""Every finding cites the header fields that prove it, over every fixture.

A report shows each finding with the fields it rests on (``Finding.headers``, the JSON
``headers`` list), so a reader can check it against the message. For each code that
rests on fields: which kind of field it cites, that it cites at least one, and for a
sentence about one hop ("Received #2 ...") or about the border, that it cites that
hop's or the border's Received header. Codes about the message as a
whole cite nothing. Every code listed here occurs in some fixture, so none of these
checks can pass by finding nothing to check.
"""

from __future__ import annotations

import json
import re

from tests.test_fixtures import expectation_files, fixture_for
from verifier.analysis.engine import analyze
from verifier.cli import build_parser
from verifier.commands.analyze import options_from_args
from verifier.inputs import iter_messages
from verifier.parsers import parse_headers

AR = "authentication-results"
SPF = "received-spf"
RCV = "received"

# code -> the kinds of field it may cite (it must cite at least one)
CITES: dict[str, set[str]] = {
    "arc.broken": {"arc-seal", "arc-message-signature", "arc-authentication-results"},
    "arc.chain": {"arc-seal", "arc-message-signature", "arc-authentication-results"},
    "auth.lenient-parse": {AR},
    "auth.untrusted-results": {AR, SPF},
    "border.found": {RCV, AR, SPF},
    "border.from-platform": {RCV},
    "border.from-smarthost": {RCV},
    "border.from-unknown": {RCV},
    "chain.clock-skew": {RCV, "date"},
    "chain.date-unparsed": {RCV},
    "chain.invalid-ip": {RCV},
    "chain.long-delay": {RCV, "date"},
    "chain.unparsed-hop": {RCV},
    "dkim.fail": {AR},
    "dkim.pass": {AR},
    "dkim.signed-by-provider": {"dkim-signature"},
    "dkim.signed-by-sender-domain": {"dkim-signature"},
    "dmarc.aligned": {"from"},
    "dmarc.not-aligned": {"from"},
    "dmarc.result": {AR},
    "route.likely": {RCV},
    "route.platform-after-smarthost": {RCV},
    "route.platform-hop": {RCV},
    "route.sbr-processed": {"x-mclm-sbr-processed"},
    "route.smarthost-hop": {RCV},
    "spf.not-pass": {AR, SPF},
    "spf.pass": {AR, SPF},
    "spf.pass-smarthost-ip": {AR, SPF},
    "verdict.bypassed": {RCV},
    "verdict.via-connector": {RCV},
}
# codes about the message as a whole
CITES_NOTHING = {"chain.total-delay", "dkim.not-signed", "input.repaired", "route.no-smarthost-given", "spf.none-found", "border.not-found"}
# codes whose sentence starts from one hop ("Received #N ..."): they cite that hop's Received header
ABOUT_A_HOP = {"chain.date-unparsed", "chain.invalid-ip", "chain.unparsed-hop", "route.platform-hop", "route.smarthost-hop",
               "chain.clock-skew", "chain.long-delay", "route.platform-after-smarthost"}
# codes about the border: they cite the border's Received header
ABOUT_THE_BORDER = {"border.from-platform", "border.from-smarthost", "border.from-unknown", "verdict.bypassed", "verdict.via-connector",
                    "border.found"}

_HOP_RE = re.compile(r"Received #(\d+)")


def _messages():
    """Every fixture message, parsed, with the options its expectation gives (parsing is
    done once, on import; each test runs the analysis itself)."""
    out = []
    for exp in expectation_files():
        fixture = fixture_for(exp)
        spec = json.loads(exp.read_text(encoding="utf-8"))
        first = spec[0] if isinstance(spec, list) and spec else spec
        args = build_parser().parse_args(["analyze", *(first or {}).get("args", []), str(fixture)])
        options = options_from_args(args)
        for msg in iter_messages([str(fixture)]):
            if msg.error is None:
                out.append((msg.name, parse_headers(msg.data), options))
    return out


MESSAGES = _messages()


def _analyses():
    return [(name, analyze(headers, options)) for name, headers, options in MESSAGES]


def test_every_cited_field_is_of_the_kind_that_proves_the_finding() -> None:
    problems = []
    for name, a in _analyses():
        kinds = {f.index: f.lname for f in a.headers.block.fields}
        for f in a.findings:
            if f.code in CITES:
                if not f.headers:
                    problems.append(f"{name}: {f.code} cites no field")
                wrong = [kinds.get(i) for i in f.headers if kinds.get(i) not in CITES[f.code]]
                if wrong:
                    problems.append(f"{name}: {f.code} cites {wrong}")
            elif f.code in CITES_NOTHING and f.headers:
                problems.append(f"{name}: {f.code} cites {list(f.headers)}")
    assert not problems, "\n".join(problems)


def test_a_sentence_about_one_hop_cites_that_hops_received_header_first() -> None:
    problems = []
    for name, a in _analyses():
        for f in a.findings:
            if f.code in ABOUT_A_HOP:
                hop = int(_HOP_RE.search(f.message).group(1))
                want = a.headers.received[hop].header_index
                if want not in f.headers:
                    problems.append(f"{name}: {f.code} about Received #{hop} cites {list(f.headers)}, not field {want}")
            if f.code in ABOUT_THE_BORDER and a.border is not None and a.border.header_index not in f.headers:
                problems.append(f"{name}: {f.code} does not cite the border's Received (field {a.border.header_index})")
    assert not problems, "\n".join(problems)


def test_every_listed_code_occurs_in_the_fixtures() -> None:
    given = {f.code for _, a in _analyses() for f in a.findings}
    missing = sorted((set(CITES) | CITES_NOTHING) - given)
    assert not missing, f"no fixture gives {missing}: the citation checks above never see them"
