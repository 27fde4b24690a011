"""Agreement with SpamAssassin's Received parser on its own golden lines.

The data (145 Received values from apache/spamassassin t/rcvd_parser.t with the relay
fields SpamAssassin expects) lives in the shared corpus, not in this repository:
../shared/corpus/peer-golden/spamassassin-rcvd.jsonl, next to its README, licence and
notice. Run with ``-s`` to see the per-field agreement table.

SpamAssassin's conventions, mapped before comparing (see that README):
- helo: characters from ``[\\s\\0#[]()<>|]`` become ``!`` (``[10.1.1.1]`` -> ``!10.1.1.1!``);
- rdns: empty when unknown; ip: IPv6 bare, IPv4-mapped reduced; id/envfrom without ``<>``;
- auth: a label, not a flag; compared here as "authenticated: yes/no".
"""

from __future__ import annotations

import json

import pytest

from tests.parsers.corpus import SHARED  # noqa: E402
from verifier.parsers.received import parse_received

GOLDEN = SHARED / "peer-golden" / "spamassassin-rcvd.jsonl"

FIELDS = ("ip", "rdns", "helo", "by", "ident", "envfrom", "id", "auth")

# Deliberate disagreements: entry number (the "n" of the data) -> field -> reason.
DISAGREE: dict[int, dict[str, str]] = {
    46: {
        "helo": "SpamAssassin records no HELO, but the from-clause names the literal "
        "[127.0.0.1] before the TCP-info comment, which is what the client gave; we keep it.",
    },
    91: {
        "rdns": "the receiver (a qmail-style line) wrote the bare client IP where the reverse name goes; "
        "an address is not a reverse-DNS name, so we record none.",
    },
    141: {
        "helo": "a webmail (HTTP) hop has no SMTP greeting, so SpamAssassin records no HELO; "
        "we keep the from-clause name the receiver wrote as the client's name.",
    },
    144: {
        "helo": "a webmail (HTTP) hop has no SMTP greeting, so SpamAssassin records no HELO; "
        "we keep the address literal of the from-clause as the client's name.",
        "auth": "SpamAssassin labels '(via HTTP)' as authenticated; the header itself shows no login.",
    },
    53: {
        "auth": "SpamAssassin labels every 'with HTTP' hop as authenticated; the header itself shows no login."
    },
    125: {
        "auth": "SpamAssassin labels every 'with HTTP' hop as authenticated; the header itself shows no login."
    },
    124: {
        "auth": "SpamAssassin knows that GMX's mail.gmx.net only accepts logged-in clients; "
        "the header says nothing about it and we do not guess from host names.",
    },
}


def _load() -> list[dict]:
    if not GOLDEN.is_file():
        return []
    with GOLDEN.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


ROWS = _load()
PARSED = [r for r in ROWS if not r["skipped"]]
SKIPPED = [r for r in ROWS if r["skipped"]]


def _need_corpus() -> None:
    if not ROWS:
        pytest.skip(
            f"The shared corpus is not present ({GOLDEN} was not found), so there is nothing to compare."
        )


def sa_helo(host: str | None) -> str:
    if not host:
        return ""
    return "".join("!" if c in " \t\0#[]()<>|" else c for c in host)


def ours(value: str) -> dict[str, str]:
    r = parse_received(value, 0)
    return {
        "ip": r.from_ip or "",
        "rdns": r.from_rdns or "",
        "helo": sa_helo(r.from_host),
        "by": r.by_host or "",
        "ident": r.ident or "",
        "envfrom": r.envelope_from or "",
        "id": r.id or "",
        "auth": "yes" if r.authenticated else "no",
    }


def theirs(row: dict) -> dict[str, str]:
    out = {k: row[k] or "" for k in FIELDS}
    out["auth"] = "yes" if row["auth"] else "no"
    return out


def test_data_shape():
    _need_corpus()
    assert len(ROWS) == 145
    assert len(PARSED) == 111 and len(SKIPPED) == 34
    assert set(DISAGREE) <= {r["n"] for r in PARSED}


@pytest.mark.parametrize("n", [r["n"] for r in PARSED] or [0])
def test_line_agrees(n):
    _need_corpus()
    row = next(r for r in PARSED if r["n"] == n)
    got, want = ours(row["received"]), theirs(row)
    allowed = DISAGREE.get(n, {})
    for field in FIELDS:
        if field in allowed:
            # a documented disagreement must still be a disagreement, or the list is stale
            assert got[field] != want[field], (
                f"entry {n}: {field} now agrees; remove it from DISAGREE"
            )
            continue
        assert got[field] == want[field], (
            f"entry {n} {field}: ours {got[field]!r}, SpamAssassin {want[field]!r}"
        )


@pytest.mark.parametrize("n", [r["n"] for r in SKIPPED] or [0])
def test_skipped_line_does_not_break(n):
    # SpamAssassin skips these on purpose (local handoffs, fetchmail, qmail comments...).
    # We still read them; they only must not fail.
    _need_corpus()
    row = next(r for r in SKIPPED if r["n"] == n)
    r = parse_received(row["received"], 0)
    assert r.raw == row["received"]


def test_agreement_table(capsys):
    _need_corpus()
    agree = dict.fromkeys(FIELDS, 0)
    documented = dict.fromkeys(FIELDS, 0)
    for row in PARSED:
        got, want = ours(row["received"]), theirs(row)
        for f in FIELDS:
            if got[f] == want[f]:
                agree[f] += 1
            elif f in DISAGREE.get(row["n"], {}):
                documented[f] += 1
    total = len(PARSED)
    lines = [
        f"SpamAssassin golden Received lines: {total} parsed, {len(SKIPPED)} skipped by SpamAssassin",
        f"{'field':<8} {'agree':>6} {'of':>4} {'share':>7} {'documented':>11}",
    ]
    for f in FIELDS:
        lines.append(
            f"{f:<8} {agree[f]:>6} {total:>4} {agree[f] / total:>7.1%} {documented[f]:>11}"
        )
    lines.append(
        "Skipped by SpamAssassin on purpose (local handoffs, fetchmail, qmail comments...), "
        "read here without failure, not compared: " + ", ".join(f"#{r['n']}" for r in SKIPPED)
    )
    lines.append("Documented disagreements:")
    for n in sorted(DISAGREE):
        for f, why in DISAGREE[n].items():
            lines.append(f"  #{n} {f}: {why}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    for f in FIELDS:
        assert agree[f] + documented[f] == total, f"{f}: undocumented disagreements"
