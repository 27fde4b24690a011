from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from verifier.errors import ConfigError
from verifier.monitor.history import SCHEMA_VERSION, Event, History

from .support import leg


def test_schema_is_versioned_and_wal(tmp_path: Path) -> None:
    h = History(str(tmp_path / "h.sqlite"))
    assert h.version() == SCHEMA_VERSION
    assert h.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert h.integrity() == "ok"
    h.close()
    h2 = History(str(tmp_path / "h.sqlite"))  # reopening runs no migration twice
    assert h2.version() == SCHEMA_VERSION


def test_an_old_file_is_migrated_and_a_newer_one_refused(tmp_path: Path) -> None:
    from verifier.monitor.history import MIGRATIONS

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute("INSERT INTO runs(target, started, status) VALUES ('t', 1, 'done')")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    h = History(str(path))
    assert h.version() == SCHEMA_VERSION and h.runs("t")[0]["target"] == "t"
    assert h.alert_states() == {}
    h.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    h.close()
    with pytest.raises(ConfigError, match="newer than this verifier"):
        History(str(path))


def test_not_a_database_is_a_config_error(tmp_path: Path) -> None:
    p = tmp_path / "junk.sqlite"
    p.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ConfigError, match="cannot be used"):
        History(str(p))


def test_run_legs_events_and_reading_back(tmp_path: Path) -> None:
    h = History(str(tmp_path / "h.sqlite"))
    rid = h.start_run("t", now=1000)
    h.leg_sent(rid, "sender", "s@x", "vprobe-1", 1000.5)
    assert h.runs("t")[0]["legs"][0]["state"] == "sent"
    h.finish_leg(rid, leg())
    h.finish_run(rid, status="done", ok=True, error=None, seconds=2.0, result_json={"a": 1}, result_text="txt", now=1002)
    h.add_event(Event("t", "sender", "route-change", "via-connector", "bypassed", rid, None, {"border_hop": "b"}), now=1003)
    r = h.runs("t")[0]
    assert r["ok"] == 1 and r["legs"][0]["state"] == "delivered" and r["legs"][0]["findings"] == ["border.from-smarthost"]
    assert h.events("t")[0]["evidence"] == {"border_hop": "b"}
    assert h.run_result(rid) == ('{"a":1}', "txt")
    assert h.runs("t", since=1001) == [] and h.runs("other") == []
    assert h.last_success() == {("t", "sender"): 1000}


def test_a_late_arrival_is_recorded_against_its_own_run(tmp_path: Path) -> None:
    h = History(str(tmp_path / "h.sqlite"))
    r1 = h.start_run("t", now=1000)
    h.finish_leg(r1, leg(state="lost", verdict="not-delivered", token="vprobe-late", delivery=None))
    h.finish_run(r1, status="done", ok=False, error="lost", seconds=60, now=1060)
    r2 = h.start_run("t", now=1100)
    h.finish_leg(r2, leg(token="vprobe-new"))
    h.finish_run(r2, status="done", ok=True, error=None, seconds=2, now=1102)
    assert [row["token"] for row in h.unresolved_tokens(0)] == ["vprobe-late"]
    info = h.mark_late("vprobe-late", 1090.0, "INBOX")
    assert info == {"run_id": r1, "target": "t", "role": "sender", "delivery_seconds": 90.0}
    legs = {r["id"]: r["legs"][0] for r in h.runs("t")}
    assert legs[r1]["state"] == "late" and legs[r2]["state"] == "delivered"
    assert h.mark_late("vprobe-new", 1200.0, "INBOX") is None  # a delivered message is never made late
    assert h.mark_late("vprobe-unknown", 1200.0, "INBOX") is None
    assert h.unresolved_tokens(0) == []


def test_interrupted_runs_and_consecutive_failures_and_retention(tmp_path: Path) -> None:
    h = History(str(tmp_path / "h.sqlite"))
    for i, ok in enumerate((True, False, False)):
        rid = h.start_run("t", now=1000 + i)
        h.finish_run(rid, status="done", ok=ok, error=None, seconds=1, now=1000 + i)
    assert h.consecutive_failures("t") == 2
    rid = h.start_run("t", now=2000)
    h.leg_sent(rid, "sender", "s@x", "vprobe-crash", 2000)
    assert h.interrupt_running() == [rid]
    assert h.runs("t")[0]["status"] == "interrupted" and h.runs("t")[0]["legs"][0]["state"] == "lost"
    assert h.consecutive_failures("t") == 3
    assert h.prune(1, now=1000 + 86400 + 10) == 3  # the three old runs; the 2000 one stays
    assert [r["id"] for r in h.runs("t")] == [rid]
