"""Positional constructors build the same objects as the dataclasses' own __init__."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from verifier.model import Defect, HeaderField, ParsedDate, Received
from verifier.parsers import paste, received
from verifier.parsers._construct import positional_constructor


def test_header_field():
    made = paste._new_field(3, "Received", "from a by b", 7)
    assert made == HeaderField(3, "Received", "from a by b", 7)
    assert type(made) is HeaderField
    assert hash(made) == hash(HeaderField(3, "Received", "from a by b", 7))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.value = "x"  # type: ignore[misc]


def test_received_every_field():
    values = {f.name: f"v{i}" for i, f in enumerate(dataclasses.fields(Received))}
    values["date"] = ParsedDate("d", datetime(2024, 1, 1, tzinfo=UTC), 0)
    values["defects"] = (Defect("x", "y", 1),)
    made = received.fast._new_received(*values.values())
    assert made == Received(**values)
    assert repr(made) == repr(Received(**values))


def test_refuses_post_init():
    @dataclasses.dataclass(frozen=True, slots=True)
    class WithPostInit:
        a: int

        def __post_init__(self) -> None:  # pragma: no cover - never called
            pass

    with pytest.raises(TypeError):
        positional_constructor(WithPostInit)
