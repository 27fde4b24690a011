"""Dates as MTAs write them, read into an aware UTC datetime.

Written by hand because ``email.utils.parsedate_tz`` reads neither ISO 8601 nor the
JavaScript-style ``Tue Feb 28 2023 07:51:00 GMT+0000`` some senders (Brevo,
SendGrid) put in Received, and ``dateutil`` guesses where it should refuse (it
accepts ``31 Sep`` by other means and reads unrelated text as a date).

Accepted: RFC 5322 dates and their obsolete forms (two- and three-digit years,
alphabetic zones, missing weekday or seconds), asctime (``Sun Nov 13 14:50:12
2005``), ISO 8601 (``2023-02-28T07:51:00.5Z``, ``2023-02-28 07:51:00 +0000``),
the Go ``time.String()`` form with its monotonic ``m=+...`` suffix, offsets glued
to the time (``17:40:44-0500``), ``GMT+0000``/``UTC+01:00``, fractional seconds,
comments anywhere.

Never raises. ``utc`` is None when the text is not a date we can read for sure:
an invalid calendar date (31 Sep, 24:43), a word we do not know before the time
(non-English day or month names), an unknown zone name with no numeric offset,
no time of day. ``offset_minutes`` is the offset as written, None when absent; a date with
no offset is read as UTC and the caller reports it (``date.no-offset``).

Bounds: at most 512 characters and 24 tokens are examined; comments are removed
by the parsers' shared lexer (:func:`verifier.parsers.lexer.strip_comments`: an
explicit stack, no recursion; an unmatched ``(`` is kept as an ordinary character,
a stray ``)`` is dropped).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from verifier.model import ParsedDate
from verifier.parsers._construct import positional_constructor
from verifier.parsers.lexer import strip_comments

__all__ = ["parse_date", "MAX_DATE_CHARS"]

MAX_DATE_CHARS = 512
_MAX_TOKENS = 24

_new_date = positional_constructor(ParsedDate)

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip
_WEEKDAYS = {
    "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}  # fmt: skip
# Zone abbreviations seen in Received headers, in minutes east of UTC.
_ZONES = {
    "ut": 0, "utc": 0, "gmt": 0, "z": 0, "wet": 0, "bst": 60, "west": 60,
    "cet": 60, "met": 60, "mez": 60, "cest": 120, "mest": 120, "mesz": 120, "eet": 120,
    "eest": 180, "msk": 180, "ist": 330, "sgt": 480, "hkt": 480, "awst": 480,
    "jst": 540, "kst": 540, "aest": 600, "aedt": 660, "nzst": 720, "nzdt": 780,
    "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420, "mdt": -360,
    "pst": -480, "pdt": -420, "akst": -540, "akdt": -480, "hst": -600,
    "ast": -240, "adt": -180, "nst": -210, "ndt": -150,
}  # fmt: skip

_TIME_RE = re.compile(r"(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:[.,](\d{1,12}))?)?")
_OFFSET_RE = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?")
_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_TOKEN_SPLIT_RE = re.compile(r"[\s,]+")


def _parse_offset(tok: str) -> int | None:
    """'+0200' -> 120, '-05:30' -> -330, '+2' -> 120; None when not an offset."""
    m = _OFFSET_RE.fullmatch(tok)
    if not m:
        return None
    sign = -1 if m.group(1) == "-" else 1
    hh = m.group(2)
    mm = m.group(3)
    if mm is None and len(hh) == 2 and len(tok) == 3:
        h, mi = int(hh), 0
    elif mm is None:
        h, mi = int(hh), 0
    else:
        h, mi = int(hh), int(mm)
    if mi >= 60 or h > 23:
        return None
    return sign * (h * 60 + mi)


def _parse_zone(tok: str) -> int | None:
    """A zone token: numeric offset, a name, or a name with an offset (GMT+0000)."""
    low = tok.lower()
    if low in _ZONES:
        return _ZONES[low]
    off = _parse_offset(tok)
    if off is not None:
        return off
    for prefix in ("gmt", "utc", "ut"):
        if low.startswith(prefix) and len(low) > len(prefix) and low[len(prefix)] in "+-":
            return _parse_offset(tok[len(prefix) :])
    return None


def _bad(raw: str) -> ParsedDate:
    return _new_date(raw, None, None)


# The common RFC 5322 form, read without the general token walk.
_FAST_RE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s{1,4})?(\d{1,2})\s{1,4}([A-Z][a-z]{2})\s{1,4}(\d{4})\s{1,4}"
    r"(\d{2}):(\d{2}):(\d{2})\s{1,4}([+-])(\d{2})(\d{2})(?:\s{1,4}\([A-Za-z ]{1,40}\))?"
)


# timedelta per zone offset of the fast path (at most 2 * 24 * 60 entries)
_OFFSET_DELTAS: dict[int, timedelta] = {}


def parse_date(text: str) -> ParsedDate:
    """Read one date; never raises. See the module docstring for the accepted forms."""
    raw = (text or "").strip()
    m = _FAST_RE.fullmatch(raw)
    if m is not None:
        day, mon, year, hour, minute, sec, sign, oh, om = m.groups()
        month = _MONTHS.get(mon.lower())
        hh, mm = int(oh), int(om)
        if month is not None and hh <= 23 and mm < 60:
            offset = (hh * 60 + mm) * (-1 if sign == "-" else 1)
            second = int(sec)
            try:
                utc = datetime(
                    int(year), month, int(day), int(hour), int(minute),
                    59 if second == 60 else second, tzinfo=UTC,
                )  # fmt: skip
            except ValueError:
                return _bad(raw)
            if offset:
                delta = _OFFSET_DELTAS.get(offset)
                if delta is None:
                    delta = _OFFSET_DELTAS[offset] = timedelta(minutes=offset)
                utc = utc - delta
            return _new_date(raw, utc, offset)
    try:
        return _parse(raw)
    except (ValueError, OverflowError, TypeError):  # pragma: no cover - defensive
        return _bad(raw)


def _parse(raw: str) -> ParsedDate:
    work = strip_comments(raw[:MAX_DATE_CHARS])
    tokens = [t for t in _TOKEN_SPLIT_RE.split(work) if t][:_MAX_TOKENS]
    year = month = day = None
    hour = minute = second = None
    micro = 0
    offset: int | None = None
    unknown_word = False
    i = 0
    while i < len(tokens):
        tok = tokens[i].strip(".;")
        i += 1
        if not tok:
            continue
        low = tok.lower()
        if low.startswith("m=") or low.startswith("m=+"):
            continue  # Go monotonic clock reading
        iso = _ISO_DATE_RE.match(tok)
        if iso and year is None:
            year, month, day = int(iso.group(1)), int(iso.group(2)), int(iso.group(3))
            rest = tok[iso.end() :]
            if rest[:1] in ("T", "t", "_"):
                tokens.insert(i, rest[1:])
            elif rest:
                return _bad(raw)
            continue
        tm = _TIME_RE.match(tok)
        if tm and hour is None:
            hour, minute = int(tm.group(1)), int(tm.group(2))
            second = int(tm.group(3)) if tm.group(3) else 0
            if tm.group(4):
                frac = tm.group(4)[:6].ljust(6, "0")
                micro = int(frac)
            rest = tok[tm.end() :]
            if rest:
                z = _parse_zone(rest)
                if z is None:
                    return _bad(raw)
                offset = z
            continue
        if low in _WEEKDAYS:
            continue
        if low in _MONTHS and month is None:
            month = _MONTHS[low]
            continue
        if tok.isdigit():
            if len(tok) == 4 and year is None:
                year = int(tok)
            elif len(tok) <= 2 and day is None and (month is None or year is None):
                day = int(tok)
            elif len(tok) == 3 and tok[0] == "0" and day is None:
                day = int(tok)  # "029 Apr 2019": a zero-padded day
            elif len(tok) <= 3 and year is None:
                y = int(tok)
                year = y + 2000 if len(tok) <= 2 and y < 50 else y + 1900
            else:
                return _bad(raw)
            continue
        z = _parse_zone(tok)
        if z is not None:
            if offset is None or low in _ZONES:
                # "+0000 (UTC)"-style names after an offset do not override it
                offset = z if offset is None else offset
            continue
        if tok[0] in "+-" and tok[1:2].isdigit():
            return _bad(raw)  # an offset out of range ("+9999")
        if low in ("at", "on"):
            continue
        if hour is None and any(c.isalpha() for c in tok):
            # a word we do not know among the calendar part ("mer., 27 sept. 2023"):
            # another language, so the other words cannot be trusted either
            return _bad(raw)
        if offset is None and tok.isalpha() and len(tok) <= 5:
            unknown_word = True  # an unknown zone name: the offset is unknown
    if None in (year, month, day, hour, minute):
        return _bad(raw)
    if unknown_word and offset is None:
        return _bad(raw)
    assert year is not None and month is not None and day is not None
    assert hour is not None and minute is not None
    if second == 60:
        second = 59  # leap second
    try:
        local = datetime(year, month, day, hour, minute, second or 0, micro)
    except ValueError:
        return _bad(raw)
    if offset is None:
        utc = local.replace(tzinfo=UTC)
    else:
        utc = (local - timedelta(minutes=offset)).replace(tzinfo=UTC)
    return _new_date(raw, utc, offset)
