"""Received headers captured from real MTAs, read against the truth from each MTA's log.

``fixtures/headers/mta/<mta>/<case>.hdr`` is the header section of a message as the
MTA relayed it; ``<case>.truth.json`` beside it says what the MTA's own log recorded
for that connection (client address, the reverse name it resolved, the HELO, TLS,
the authenticated user, the local user of a local submission), with the log lines
themselves. Both were written by ``scripts/capture-mta-headers.sh`` (see
docs/fixtures.md); nothing here was written by reading a header.

Each field the parser reads from the MTA's own Received header (the topmost, unless the
truth's ``received_index`` says otherwise) is compared
with the truth. A field the parser still gets wrong is listed in KNOWN_WRONG with the
reason; the test then asserts that it is *still* wrong, so fixing the parser makes the
test fail until the entry is removed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from verifier.model import Received
from verifier.parsers import parse_headers
from verifier.parsers.received import parse_received

MTA_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "headers" / "mta"
FIELDS = ("client_ip", "reverse_name", "helo", "ident", "tls", "tls_detail", "authenticated")
MTAS = ("exim", "dma", "opensmtpd", "sendmail")

# (mta, case, field) -> why the parser's reading differs from the MTA's log.
KNOWN_WRONG: dict[tuple[str, str, str], str] = {
    # Empty: the local submissions of Exim (-bs, sendmail), dma and Sendmail (MSP,
    # root) and OpenSMTPD's "<unknown>" reverse name were fixed by rule; the rules and
    # their authority are written per MTA family in verifier/parsers/received/from_clause.py.
}


def captures() -> list[tuple[str, str]]:
    if not MTA_DIR.is_dir():
        return []
    return sorted(
        (p.parent.name, p.stem) for p in MTA_DIR.glob("*/*.hdr") if p.with_suffix(".truth.json").is_file()
    )


def load(mta: str, case: str) -> tuple[str, dict]:
    base = MTA_DIR / mta / case
    return (base.with_suffix(".hdr").read_text(encoding="utf-8"), json.loads(base.with_suffix(".truth.json").read_text()))


def received_field(header: str, nth: int = 0) -> tuple[str, int]:
    """The ``nth`` Received field from the top (the truth's ``received_index``, 0 unless
    the MTA's hop is not the topmost one), unfolded (line breaks removed, whitespace
    kept), and its index among the header fields."""
    lines = header.split("\n")
    fields: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t") and fields:
            fields[-1] += line
        elif line:
            fields.append(line)
    seen = 0
    for i, f in enumerate(fields):
        name, _sep, value = f.partition(":")
        if name.strip().lower() == "received":
            if seen == nth:
                return value.strip(), i
            seen += 1
    raise AssertionError(f"the capture holds no Received header number {nth}")


def parsed(mta: str, case: str) -> tuple[Received, dict, str]:
    header, truth = load(mta, case)
    value, index = received_field(header, truth.get("received_index", 0))
    return parse_received(value, index), truth, value


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def expected_and_read(field: str, r: Received, truth: dict, raw: str) -> tuple[object, object]:
    """The value the log gives for ``field`` and the value the parser read."""
    if field == "client_ip":
        return truth["client_ip"], r.from_ip
    if field == "reverse_name":
        rev = truth["reverse_name"]
        return (rev.lower() if rev else None), (r.from_rdns.lower() if r.from_rdns else None)
    if field == "helo":
        return truth["helo"], r.from_host
    if field == "ident":
        return truth.get("ident"), r.ident
    if field == "tls":
        return truth["tls"], r.tls
    if field == "tls_detail":
        # every part of the TLS version/cipher the log gives that the header also
        # carries must reach tls_detail (compared without case and punctuation)
        detail = _squash(r.tls_detail or "")
        wanted = [v for v in (truth["tls_version"], truth["tls_cipher"]) if v and _squash(v) in _squash(raw)]
        return wanted, [v for v in wanted if _squash(v) in detail]
    if field == "authenticated":
        return truth["authenticated_user"] is not None, r.authenticated
    raise AssertionError(field)


def fields_for(mta: str, case: str) -> tuple[str, ...]:
    """SMTP AUTH belongs to a network session: for a local submission it is not compared
    (OpenSMTPD writes ``with ESMTPA`` for its local socket, which it trusts by the
    peer's credentials, while its log records no AUTH)."""
    if load(mta, case)[1]["network"]:
        return FIELDS
    return tuple(f for f in FIELDS if f != "authenticated")


PARAMS = [(m, c, f) for m, c in captures() for f in fields_for(m, c)]


def test_every_mta_has_captures() -> None:
    present = {m for m, _c in captures()}
    assert set(MTAS) <= present, f"captures only for {sorted(present)}"
    assert present <= set(MTAS), f"unexpected MTA directories: {present - set(MTAS)}"


@pytest.mark.parametrize(("mta", "case"), captures())
def test_truth_comes_from_the_log(mta: str, case: str) -> None:
    """Each truth names its MTA and case, and quotes the log lines it was read from."""
    _header, truth = load(mta, case)
    assert truth["mta"] == mta and truth["case"] == case
    assert truth["log_lines"] and all(isinstance(x, str) and x for x in truth["log_lines"])
    if truth["network"]:
        # as logged (Sendmail writes IPv6 as "IPv6:" and eight full groups; the truth
        # keeps the canonical form and the logged one)
        logged = truth.get("logged_client_addr", truth["client_ip"])
        assert truth["client_ip"] and any(logged in x for x in truth["log_lines"])
        assert truth["local_user"] is None
    else:
        assert truth["client_ip"] is None and truth["reverse_name"] is None
        assert truth["tls"] is False


def test_known_wrong_entries_name_real_captures() -> None:
    have = set(captures())
    stale = [k for k in KNOWN_WRONG if (k[0], k[1]) not in have or k[2] not in FIELDS]
    assert not stale, f"KNOWN_WRONG entries with no such capture or field: {stale}"


@pytest.mark.parametrize(("mta", "case", "field"), PARAMS)
def test_capture_field(mta: str, case: str, field: str) -> None:
    r, truth, value = parsed(mta, case)
    expected, read = expected_and_read(field, r, truth, value)
    reason = KNOWN_WRONG.get((mta, case, field))
    if reason is None:
        assert read == expected, f"{mta}/{case} {field}: parser read {read!r}, the log says {expected!r}"
    else:
        assert read != expected, (
            f"{mta}/{case} {field} is now read right ({read!r}); remove it from KNOWN_WRONG ({reason})"
        )


def local_captures() -> list[tuple[str, str]]:
    return [c for c in captures() if load(*c)[1]["network"] is False]


def test_local_submissions_were_captured() -> None:
    have = local_captures()
    assert {
        ("exim", "local-bs"),
        ("dma", "local-user"),
        ("opensmtpd", "local-user"),
        ("sendmail", "local-msp"),
    } <= set(have)


@pytest.mark.parametrize(("mta", "case"), local_captures())
def test_local_submission_invents_no_client_address(mta: str, case: str) -> None:
    """A hop with no network connection never gets a client address from a user name."""
    r, truth, _value = parsed(mta, case)
    assert truth["network"] is False
    assert r.from_ip is None
    assert r.ip_valid is None


@pytest.mark.parametrize(("mta", "case"), captures())
def test_whole_header_block_reads_the_same_hop(mta: str, case: str) -> None:
    """The tool's own path (``parse_headers`` on the whole block) reads the hop as
    ``parse_received`` does on the field unfolded here, and reports no defect."""
    header, truth = load(mta, case)
    r, _truth, _value = parsed(mta, case)
    headers = parse_headers(header)
    assert not headers.defects
    whole = headers.received[truth.get("received_index", 0)]
    assert (whole.from_ip, whole.from_rdns, whole.from_host, whole.ident, whole.tls, whole.tls_detail) == (
        r.from_ip,
        r.from_rdns,
        r.from_host,
        r.ident,
        r.tls,
        r.tls_detail,
    )
