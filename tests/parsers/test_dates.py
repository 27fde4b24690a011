"""Date parsing: every form MTAs write, and refusal (utc None) where a date is not sure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from verifier.parsers.dates import parse_date


@pytest.mark.parametrize(
    ("text", "utc", "offset"),
    [
        ("Tue, 28 Feb 2023 07:51:02 +0000 (UTC)", datetime(2023, 2, 28, 7, 51, 2), 0),
        ("28 Feb 2023 09:51:02 +0200", datetime(2023, 2, 28, 7, 51, 2), 120),
        ("Mon,  1 Mar 2004 01:09:44 -0500 (EST)", datetime(2004, 3, 1, 6, 9, 44), -300),
        ("Tue Feb 28 2023 07:51:00 GMT+0000", datetime(2023, 2, 28, 7, 51), 0),
        (
            "Tue Feb 28 2023 09:51:00 GMT+0200 (Central European Summer Time)",
            datetime(2023, 2, 28, 7, 51),
            120,
        ),
        ("Sun Nov 13 14:50:12 2005", datetime(2005, 11, 13, 14, 50, 12), None),
        ("8 Mar 04 12:23:56 -0000", datetime(2004, 3, 8, 12, 23, 56), 0),
        ("1 Jan 99 00:00:00 +0000", datetime(1999, 1, 1), 0),
        ("1 Jan 103 00:00:00 +0000", datetime(2003, 1, 1), 0),
        ("Thu, 6 May 2004 17:40:44-0500", datetime(2004, 5, 6, 22, 40, 44), -300),
        ("Wed, 17 Mar 2004 02:12:31 GMT", datetime(2004, 3, 17, 2, 12, 31), 0),
        ("Fri, 30 Jun 2006 08:02:00 EST", datetime(2006, 6, 30, 13, 2), -300),
        ("Fri, 30 Jun 2006 08:02:00 CEST", datetime(2006, 6, 30, 6, 2), 120),
        ("Fri, 30 Jun 2006 08:02:00 UTC", datetime(2006, 6, 30, 8, 2), 0),
        ("Fri, 30 Jun 2006 08:02 +0100", datetime(2006, 6, 30, 7, 2), 60),
        ("Fri, 30 Jun 2006 08:02:00.123 +0000", datetime(2006, 6, 30, 8, 2, 0, 123000), 0),
        ("Fri, 30 Jun 2006 08:02:00 +05:30", datetime(2006, 6, 30, 2, 32), 330),
        ("2023-02-28T07:51:00.5Z", datetime(2023, 2, 28, 7, 51, 0, 500000), 0),
        ("2023-02-28T09:51:00+02:00", datetime(2023, 2, 28, 7, 51), 120),
        (
            "2023-02-28 07:51:00.123456789 +0000 UTC m=+555016.7",
            datetime(2023, 2, 28, 7, 51, 0, 123456),
            0,
        ),
        ("(comment first) Tue, 28 Feb 2023 07:51:02 +0000", datetime(2023, 2, 28, 7, 51, 2), 0),
        ("Tue, 028 Feb 2023 07:51:02 +0000", datetime(2023, 2, 28, 7, 51, 2), 0),
        ("Sat, 31 Dec 2016 23:59:60 +0000", datetime(2016, 12, 31, 23, 59, 59), 0),
        ("Tue, 28 February 2023 07:51:02 +0000", datetime(2023, 2, 28, 7, 51, 2), 0),
    ],
)
def test_readable_dates(text, utc, offset):
    d = parse_date(text)
    assert d.raw == text.strip()
    assert d.utc == utc.replace(tzinfo=UTC)
    assert d.utc.tzinfo is not None
    assert d.offset_minutes == offset


def test_missing_offset_is_read_as_utc_with_offset_none():
    d = parse_date("Tue, 28 Feb 2023 07:51:02")
    assert d.utc == datetime(2023, 2, 28, 7, 51, 2, tzinfo=UTC)
    assert d.offset_minutes is None


@pytest.mark.parametrize(
    "text",
    [
        "31 Sep 2023 10:00:00 +0000",  # no 31 September
        "Tue, 28 Feb 2023 24:43:00 +0000",  # no hour 24
        "29 Feb 2023 10:00:00 +0000",  # not a leap year
        "mer, 13 déc 2023 10:00:00 +0100",  # French names
        "Di, 12 Dez 2023 10:00:00 +0100",  # German names
        "mer., 27 sept. 2023 10:00:02 +0200",  # French names that look like English ones
        "Mon, 1 Jan 2024 10:00:00 XYZ",  # unknown zone, no offset
        "Tue, 28 Feb 2023",  # no time of day
        "uid 1001",
        "",
        "garbage text that is not a date",
        "Tue, 28 Feb 2023 07:51:02 +9999",
        "Tue, 28 Feb 2023 07:61:02 +0000",
    ],
)
def test_unreadable_dates_give_none(text):
    d = parse_date(text)
    assert d.utc is None
    assert d.raw == text.strip()


def test_never_raises_on_odd_input():
    for text in [
        "(" * 1000,
        ")" * 1000,
        "9" * 5000,
        "2023-99-99T99:99:99Z",
        "m=+1",
        "::::",
        "\x00\x01",
    ]:
        d = parse_date(text)
        assert d.utc is None or d.utc.tzinfo is not None


def test_fast_path_agrees_with_general_reader():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from verifier.parsers.dates import _parse

    days = ["", "Mon, ", "Sun,  "]
    months = ["Jan", "Feb", "Sep", "Dec", "Foo"]

    @settings(max_examples=300, deadline=None)
    @given(
        st.sampled_from(days),
        st.integers(0, 32),
        st.sampled_from(months),
        st.integers(1900, 2100),
        st.integers(0, 25),
        st.integers(0, 61),
        st.integers(0, 61),
        st.sampled_from(["+", "-"]),
        st.integers(0, 25),
        st.integers(0, 61),
        st.sampled_from(["", " (UTC)", " (CEST)"]),
    )
    def check(wd, d, mon, y, hh, mi, ss, sign, oh, om, tail):
        text = f"{wd}{d} {mon} {y} {hh:02d}:{mi:02d}:{ss:02d} {sign}{oh:02d}{om:02d}{tail}"
        assert parse_date(text) == _parse(text)

    check()
