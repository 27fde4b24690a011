"""Durations as the chain findings write them, at each unit's boundary."""

from __future__ import annotations

import pytest

from verifier.analysis.chain import dur


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0.00 s"), (0.25, "0.25 s"), (0.999, "1.00 s"), (1, "1 s"), (1.5, "2 s"), (42, "42 s"), (119, "119 s"),
        (120, "2.0 min"), (120.5, "2.0 min"), (450, "7.5 min"), (7199, "120.0 min"), (7200, "2.0 h"), (11520, "3.2 h"),
        (99908, "27.8 h"), (172799, "48.0 h"), (172800, "2.0 days"), (181440, "2.1 days"), (10000887, "115.8 days"), (-42, "42 s"), (-0.5, "0.50 s"),
    ],
)
def test_durations(seconds: float, text: str) -> None:
    assert dur(seconds) == text
