"""Shortcuts of the analysis step against the plain code they replace, on every header
fixture and every corpus file (when the shared corpus is present): each shortcut must give
the same result, object for object."""

from __future__ import annotations

from pathlib import Path

import pytest

from verifier.analysis import chain
from verifier.model import HeaderBlock, HeaderField
from verifier.parsers import parse_headers

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted(p for p in (ROOT / "fixtures" / "headers").iterdir() if p.suffix in (".txt", ".eml"))
_CORPUS_DIRS = [ROOT.parent / "shared" / "corpus" / "headers", ROOT.parent.parent / "shared" / "corpus" / "headers"]
CORPUS = next((sorted(d.glob("*.hdr")) for d in _CORPUS_DIRS if d.is_dir()), [])


@pytest.fixture(scope="module")
def all_headers():
    out = [parse_headers(p.read_bytes()) for p in FIXTURES + CORPUS]
    assert len(out) >= len(FIXTURES) > 50
    return out


def test_first_field_index_is_block_get(all_headers) -> None:
    names = ("date", "from", "received", "subject", "x-mclm-sbr-processed", "dkim-signature", "x-absent")
    found = 0
    for h in all_headers:
        for name in names:
            plain = h.block.get(name)
            assert chain.first_field_index(h.block, name) == (plain.index if plain else None)
            found += plain is not None
    assert found > len(all_headers)  # most blocks have several of these


def test_first_field_index_takes_the_first_in_any_case() -> None:
    fields = (HeaderField(0, "Dates", "x", 1), HeaderField(1, "DATE", "a", 2), HeaderField(2, "date", "b", 3))
    block = HeaderBlock(fields)
    assert chain.first_field_index(block, "date") == 1 == block.get("date").index
    assert chain.first_field_index(HeaderBlock(()), "date") is None


def test_hop_constructor_is_the_dataclass(all_headers) -> None:
    r = next(h.received[0] for h in all_headers if h.received)
    made = chain._new_hop(3, r, "unknown", 1.5, None)
    plain = chain.Hop(3, r, "unknown", 1.5, None)
    assert made == plain and repr(made) == repr(plain) and hash(made) == hash(plain)
