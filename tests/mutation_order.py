"""A pytest plugin for mutation runs only: run each mutant's tests fastest first.

mutmut (``process_isolation = "forkserver"``) hands each mutant's tests to pytest in
no particular order and stops at the first failure (``-x``). A killed mutant therefore
costs the tests that happen to run before the one that notices it; run fastest first,
as mutmut's own fork mode does, most mutants die after a few cheap tests instead of
after a slow one. The durations are those mutmut measured when it mapped tests to
functions (``mutmut-stats.json`` in the folder the tests run from); a test it has
not timed runs last. The plugin is loaded by ``[tool.mutmut] pytest_add_cli_args``
and does nothing outside a mutant's run (no ``MUTANT_UNDER_TEST`` naming a mutant),
so the order of an ordinary test run is unchanged.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

STATS = "mutmut-stats.json"
# Values mutmut gives MUTANT_UNDER_TEST outside a mutant's run.
NOT_A_MUTANT = {"", "stats", "fail", "list_all_tests", "mutant_generation"}


def durations(folder: Path) -> dict[str, float]:
    """Each test's duration as mutmut measured it, or nothing without its stats."""
    try:
        data = json.loads((folder / STATS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    timed = data.get("duration_by_test") if isinstance(data, dict) else None
    return {k: float(v) for k, v in timed.items()} if isinstance(timed, dict) else {}


def fastest_first(items: list, timed: dict[str, float]) -> list:
    """The items sorted by duration (stable: equal times keep their order), untimed last."""
    untimed = max(timed.values(), default=0.0) + 1.0
    return sorted(items, key=lambda item: timed.get(item.nodeid, untimed))


def pytest_collection_modifyitems(session, config, items) -> None:
    if os.environ.get("MUTANT_UNDER_TEST", "") in NOT_A_MUTANT:
        return
    timed = durations(Path(str(config.rootpath)))
    if timed:
        items[:] = fastest_first(items, timed)
