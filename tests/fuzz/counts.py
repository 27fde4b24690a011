"""How many inputs each fuzz target tried in this run (read by conftest.py)."""

from collections import Counter

TRIED: Counter[str] = Counter()
