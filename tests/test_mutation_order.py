"""The mutation-run plugin (tests/mutation_order.py) orders a mutant's tests fastest first."""

from __future__ import annotations

import json
from types import SimpleNamespace

from tests import mutation_order


def _items(*ids: str) -> list:
    return [SimpleNamespace(nodeid=i) for i in ids]


def test_fastest_first_untimed_last_and_ties_keep_their_order(tmp_path) -> None:
    (tmp_path / mutation_order.STATS).write_text(
        json.dumps({"duration_by_test": {"t::slow": 2.5, "t::fast": 0.01, "t::mid": 0.4, "t::tie": 0.4}})
    )
    timed = mutation_order.durations(tmp_path)
    items = _items("t::new", "t::slow", "t::tie", "t::mid", "t::fast")
    assert [i.nodeid for i in mutation_order.fastest_first(items, timed)] == [
        "t::fast",
        "t::tie",
        "t::mid",
        "t::slow",
        "t::new",
    ]


def test_no_stats_or_unreadable_stats_give_no_durations(tmp_path) -> None:
    assert mutation_order.durations(tmp_path) == {}
    (tmp_path / mutation_order.STATS).write_text("{not json")
    assert mutation_order.durations(tmp_path) == {}
    (tmp_path / mutation_order.STATS).write_text("[1, 2]")
    assert mutation_order.durations(tmp_path) == {}


def _run_hook(tmp_path, monkeypatch, mutant: str | None) -> list[str]:
    (tmp_path / mutation_order.STATS).write_text(json.dumps({"duration_by_test": {"a": 3.0, "b": 1.0}}))
    if mutant is None:
        monkeypatch.delenv("MUTANT_UNDER_TEST", raising=False)
    else:
        monkeypatch.setenv("MUTANT_UNDER_TEST", mutant)
    items = _items("a", "b")
    mutation_order.pytest_collection_modifyitems(None, SimpleNamespace(rootpath=tmp_path), items)
    return [i.nodeid for i in items]


def test_the_hook_reorders_only_a_mutants_run(tmp_path, monkeypatch) -> None:
    assert _run_hook(tmp_path, monkeypatch, "verifier.analysis.zones.x_match_text__mutmut_3") == ["b", "a"]
    for outside in (None, "", "stats", "fail", "list_all_tests"):
        assert _run_hook(tmp_path, monkeypatch, outside) == ["a", "b"], outside
