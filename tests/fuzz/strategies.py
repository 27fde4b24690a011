"""Input strategies for the fuzz harness: random bytes, header-shaped text built from the
tokens the parsers look for, and byte-level mutations of the project's own fixtures."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted((ROOT / "fixtures" / "headers").glob("*.txt"))
SEEDS: list[bytes] = [p.read_bytes() for p in FIXTURES]

HEADER_NAMES = [
    "Received",
    "Authentication-Results",
    "ARC-Authentication-Results",
    "Received-SPF",
    "DKIM-Signature",
    "ARC-Seal",
    "ARC-Message-Signature",
    "Return-Path",
    "From",
    "Message-ID",
    "Subject",
    "Date",
    "To",
    "X-Mailer",
    "X-Verifier-Probe",
    "Delivered-To",
]

TOKENS = [
    "from", "by", "with", "id", "for", "via", "ESMTP", "ESMTPS", "ESMTPSA", "SMTP", "LMTP",
    "HTTP", "Postfix", "Microsoft SMTP Server", "version=TLS1_3", "cipher=", "helo=", "HELO",
    "EHLO", "envelope-from", "unknown", ";", "(", ")", "[", "]", "<", ">", "@", "=", ".", ":",
    ",", "\"", "\\", "/", "spf=pass", "spf=fail", "spf=softfail", "dkim=pass", "dkim=fail",
    "dmarc=pass", "dmarc=fail", "arc=pass", "arc=fail", "compauth=pass", "reason=",
    "smtp.mailfrom=", "smtp.helo=", "header.d=", "header.from=", "header.i=", "header.b=",
    "policy.dmarc=", "i=", "cv=pass", "cv=none", "cv=fail", "v=1", "a=rsa-sha256",
    "a=ed25519-sha256", "c=relaxed/relaxed", "d=", "s=", "b=", "bh=", "h=", "t=", "x=", "l=",
    "q=dns/txt", "client-ip=", "receiver=", "identity=mailfrom", "Pass", "Fail", "none",
    "neutral", "temperror", "permerror", "mx.example.com", "smtp-relay.example.com",
    "ex1.mail.ovh.net", "out28.mail.ovh.net", "mo1.mail-out.ovh.net", "localhost",
    "host.local", "198.51.100.20", "10.0.0.1", "127.0.0.1", "2001:db8::1", "IPv6:2001:db8::1",
    "::ffff:192.0.2.1", "fe80::1%eth0", "999.1.1.1", "1.2.3", "Mon, 2 Jun 2025 10:00:00 +0000",
    "Thu, 01 Jan 1970 00:00:00 -0000", "31 Feb 2024 25:61:61", "+9999", "-1200", "GMT", "UT",
    "(CEST)", "(UTC)", "9999", "0000", "=?utf-8?B?w6k=?=", "=?utf-8?Q?a=20b?=",
    "=?x-unknown?B?AAAA?=", "=?utf-8?B?!!!?=", "&lt;", "&gt;", "&amp;", "&quot;", "&#0;",
    "&#x110000;", "&#55296;", "<pre>", "</pre>", "<br>", "<code>", "\x1b[31m", "\x1b]0;t\x07",
    "\x00", "\u202e", "\u00a0", "é", "\ufeff", "\ud800", "ñ", "\U0001f600", "\t", " ",
    "From ", "Internet headers:", ">", "> ",
]

_numbers = st.one_of(
    st.integers(min_value=-5, max_value=60),
    st.integers(min_value=0, max_value=10**30),
).map(str)
_token = st.one_of(st.sampled_from(TOKENS), _numbers, st.text(max_size=12))
_sep = st.sampled_from(["", " ", " ", "; ", "\n\t", "\r\n ", "\n", "  ", "\n    "])


@st.composite
def _value(draw) -> str:
    parts = draw(st.lists(st.tuples(_token, _sep), max_size=30))
    value = "".join(t + s for t, s in parts)
    repeat = draw(st.sampled_from([1] * 17 + [2, 50, 2000]))  # big values now and then
    return value * repeat


@st.composite
def header_text(draw) -> str:
    """A header block in any of the shapes a person may paste, with hostile values."""
    fields = draw(
        st.lists(
            st.tuples(st.one_of(st.sampled_from(HEADER_NAMES), st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,20}", fullmatch=True)), _value()),
            min_size=0,
            max_size=25,
        )
    )
    eol = draw(st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\r\r\n"]))
    lines = [f"{n}:{draw(st.sampled_from([' ', '', '  ', chr(9), chr(9) + chr(10) + ' ']))}{v}" for n, v in fields]
    text = eol.join(lines)
    prefix = draw(st.sampled_from(["", "", "Internet headers:\n", "From a@b.test Mon Jun  2 10:00:00 2025\n", "\n\n", "<pre>", "\ufeff"]))
    indent = draw(st.sampled_from(["", "", "    ", "> ", "\u00a0\u00a0"]))
    if indent:
        text = "\n".join(indent + line for line in text.split("\n"))
    if draw(st.booleans()):
        text = text.replace("<", "&lt;").replace(">", "&gt;")
    body = draw(st.sampled_from(["", "", "\n\nbody text\n", "\n\n" + "x" * 1000, "\n\nFrom x\nReceived: y\n"]))
    return prefix + text + body


@st.composite
def mutated_seed(draw) -> bytes:
    """A fixture with a few byte-level edits (insert, delete, replace, duplicate a slice)."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        if not data:
            break
        pos = draw(st.integers(min_value=0, max_value=len(data)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        chunk = draw(st.one_of(st.binary(min_size=1, max_size=16), st.sampled_from(TOKENS).map(lambda t: t.encode("utf-8", "surrogatepass"))))
        end = min(len(data), pos + draw(st.integers(min_value=1, max_value=400)))
        if op == "insert":
            data[pos:pos] = chunk
        elif op == "delete":
            del data[pos:end]
        elif op == "replace":
            data[pos:end] = chunk
        else:
            data[pos:pos] = data[pos:end] * draw(st.sampled_from([2, 10, 200]))
    return bytes(data)


def _encode(text: str, how: str) -> bytes:
    if how == "utf-16":
        return text.encode("utf-16", "surrogatepass")
    if how == "latin-1":
        return text.encode("latin-1", "replace")
    return text.encode("utf-8", "surrogatepass")


encoded_header_text = st.builds(_encode, header_text(), st.sampled_from(["utf-8", "utf-8", "utf-8", "latin-1", "utf-16"]))

inputs = st.one_of(
    st.binary(max_size=4096),
    encoded_header_text,
    mutated_seed(),
    st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass")),
)

# A single header value, for the per-header parsers.
values = st.one_of(_value(), st.text(max_size=500), st.sampled_from(SEEDS).map(lambda b: b.decode("utf-8", "replace")))
