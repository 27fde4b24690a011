"""Delays along the chain: each hop's delay against the hop just below (the Date header
for the bottom hop), never stretched over an unreadable date and never negative; the
clock-skew and long-delay findings at their thresholds; the total trip time."""

from __future__ import annotations

from verifier.analysis.engine import Options, analyze_bytes


def hop(k: int, stamp: str) -> bytes:
    return f"Received: from h{k + 1}.example (h{k + 1}.example [198.51.100.{k + 1}]) by h{k}.example with ESMTP id {k}; {stamp}\n".encode()


def block(*stamps: str, date: str | None = "Fri, 01 Dec 2023 10:00:00 +0000") -> bytes:
    out = b"".join(hop(k, s) for k, s in enumerate(stamps))
    if date is not None:
        out += f"Date: {date}\n".encode()
    return out + b"From: a@mydomain.example\n"


def messages(a, code: str) -> list[str]:
    return [f.message for f in a.findings if f.code == code]


def test_each_delay_is_measured_against_the_timestamp_just_below() -> None:
    a = analyze_bytes(block("Fri, 01 Dec 2023 10:00:09 +0000", "Fri, 01 Dec 2023 10:00:04 +0000", "Fri, 01 Dec 2023 10:00:01 +0000"))
    assert [h.delay_seconds for h in a.hops] == [5.0, 3.0, 1.0]
    assert a.total_seconds == 9.0
    assert messages(a, "chain.total-delay") == ["The trip took 9 s from the Date header to the last hop."]


def test_a_delay_is_unknown_next_to_an_unreadable_date_and_never_stretched() -> None:
    a = analyze_bytes(block("Fri, 01 Dec 2023 10:00:09 +0000", "not a date", "Fri, 01 Dec 2023 10:00:01 +0000"))
    assert [h.delay_seconds for h in a.hops] == [None, None, 1.0]
    assert a.total_seconds == 9.0


def test_the_bottom_hop_without_a_date_header() -> None:
    a = analyze_bytes(block("Fri, 01 Dec 2023 10:00:09 +0000", "Fri, 01 Dec 2023 10:00:04 +0000", date=None))
    assert [h.delay_seconds for h in a.hops] == [5.0, None]
    assert a.total_seconds == 5.0
    assert messages(a, "chain.total-delay") == ["The trip took 5 s from the oldest hop to the last hop."]
    b = analyze_bytes(block("Fri, 01 Dec 2023 10:00:09 +0000", date="whenever"))
    assert [h.delay_seconds for h in b.hops] == [None]
    assert b.total_seconds == 0.0


def test_a_hop_stamped_before_the_one_below_has_no_delay_and_a_skew_finding() -> None:
    a = analyze_bytes(block("Fri, 01 Dec 2023 10:00:02 +0000", "Fri, 01 Dec 2023 10:00:05 +0000", "Fri, 01 Dec 2023 10:00:01 +0000"))
    assert [h.delay_seconds for h in a.hops] == [None, 4.0, 1.0]
    assert messages(a, "chain.clock-skew") == ["Received #0 (h0.example) is stamped 3 s earlier than Received #1: one of the two clocks is wrong, so this delay is not shown."]
    assert [f.headers for f in a.findings if f.code == "chain.clock-skew"] == [(0, 1)]
    b = analyze_bytes(block("Fri, 01 Dec 2023 09:59:58 +0000"))
    assert messages(b, "chain.clock-skew") == ["Received #0 (h0.example) is stamped 2 s earlier than the Date header: one of the two clocks is wrong, so this delay is not shown."]
    assert [f.headers for f in b.findings if f.code == "chain.clock-skew"] == [(0, 1)]
    assert b.total_seconds is None and "chain.total-delay" not in [f.code for f in b.findings]


def test_equal_timestamps_are_no_skew() -> None:
    a = analyze_bytes(block("Fri, 01 Dec 2023 10:00:00 +0000", "Fri, 01 Dec 2023 10:00:00 +0000"))
    assert [h.delay_seconds for h in a.hops] == [0.0, 0.0]
    assert "chain.clock-skew" not in [f.code for f in a.findings]
    assert messages(a, "chain.total-delay") == ["The trip took 0.00 s from the Date header to the last hop."]


def test_a_long_delay_is_one_longer_than_the_threshold() -> None:
    opts = Options(long_delay_seconds=60)
    at = analyze_bytes(block("Fri, 01 Dec 2023 10:01:00 +0000"), opts)
    assert "chain.long-delay" not in [f.code for f in at.findings]
    over = analyze_bytes(block("Fri, 01 Dec 2023 10:01:01 +0000", "Fri, 01 Dec 2023 10:00:00 +0000"), opts)
    assert messages(over, "chain.long-delay") == ["The message spent 61 s before Received #0 (h0.example) took it, more than the 60 s threshold."]
    assert [f.headers for f in over.findings if f.code == "chain.long-delay"] == [(0, 1)]
    default = analyze_bytes(block("Fri, 01 Dec 2023 10:05:01 +0000"))
    assert messages(default, "chain.long-delay") == ["The message spent 5.0 min before Received #0 (h0.example) took it, more than the 5.0 min threshold."]


def test_a_receiver_without_name_in_the_delay_sentences() -> None:
    data = b"Received: from h1.example ([198.51.100.1]) with ESMTP id 0; Fri, 01 Dec 2023 10:09:00 +0000\nDate: Fri, 01 Dec 2023 10:00:00 +0000\n"
    a = analyze_bytes(data)
    assert messages(a, "chain.long-delay") == ["The message spent 9.0 min before Received #0 (unknown host) took it, more than the 5.0 min threshold."]


def test_no_received_header() -> None:
    a = analyze_bytes(b"From: a@mydomain.example\nDate: Fri, 01 Dec 2023 10:00:00 +0000\n")
    assert messages(a, "chain.no-received") == ["The message carries no Received header, so its route cannot be traced."]
    assert a.total_seconds is None


def test_no_readable_hop_date() -> None:
    """Only the Date header is readable: no delay, no trip time."""
    undated = b"Received: from h1.example (h1.example [198.51.100.1]) by h0.example with ESMTP id 0\n"
    a = analyze_bytes(undated + b"Date: Fri, 01 Dec 2023 10:00:00 +0000\n")
    assert a.total_seconds is None and [h.delay_seconds for h in a.hops] == [None]
    assert "chain.total-delay" not in [f.code for f in a.findings]
    b = analyze_bytes(undated + b"From: a@mydomain.example\n")
    assert b.total_seconds is None
    assert "chain.total-delay" not in [f.code for f in b.findings]


def test_an_unparsed_hop_cites_its_header() -> None:
    a = analyze_bytes(b"X-Top: 1\nReceived: (qmail 1 invoked by uid 89); Fri, 01 Dec 2023 10:00:01 +0000\nDate: Fri, 01 Dec 2023 10:00:00 +0000\n")
    assert [(f.message, f.headers) for f in a.findings if f.code == "chain.unparsed-hop"] == [
        ("Received #0 names neither the sending nor the receiving host; it is kept as written.", (1,)),
    ]
