"""The monitor's history: every run and every leg, and route-change events, in SQLite.

stdlib ``sqlite3`` in WAL mode; the schema version is SQLite's ``user_version``
and :data:`MIGRATIONS` brings any older file up to date, in one transaction
per step. A leg is written when its message is submitted (state ``sent``), so a
monitor killed mid-run leaves on disk the tokens it must clean up.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass

from verifier.errors import ConfigError

MIGRATIONS: tuple[str, ...] = (
    # 1: runs, legs, events
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        target TEXT NOT NULL,
        started REAL NOT NULL,
        finished REAL,
        status TEXT NOT NULL,            -- running | done | error | interrupted
        ok INTEGER,
        error TEXT,
        seconds REAL,
        trigger TEXT NOT NULL DEFAULT 'schedule',
        result_json TEXT,
        result_text TEXT
    );
    CREATE INDEX runs_target_started ON runs(target, started);
    CREATE TABLE legs (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        address TEXT NOT NULL,
        token TEXT,
        state TEXT NOT NULL,             -- sent | delivered | late | lost | bounced | wrong-route | not-sent
        verdict TEXT,
        expected TEXT,
        expected_from TEXT,
        connector_id INTEGER,
        smart_host TEXT,
        sent_at REAL,
        arrived_at REAL,
        delivery_seconds REAL,
        timings_json TEXT,
        findings_json TEXT,
        border_hop TEXT,
        smarthost_hop TEXT,
        error TEXT,
        UNIQUE(run_id, role)
    );
    CREATE INDEX legs_token ON legs(token);
    CREATE INDEX legs_state ON legs(state);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        target TEXT NOT NULL,
        role TEXT NOT NULL,
        at REAL NOT NULL,
        kind TEXT NOT NULL,              -- route-change | connector-change
        before TEXT,
        after TEXT,
        run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
        previous_run_id INTEGER,
        evidence_json TEXT
    );
    CREATE INDEX events_target_at ON events(target, at);
    """,
    # 2: alert state, so a restart neither repeats nor forgets a notification
    """
    CREATE TABLE alerts (
        key TEXT PRIMARY KEY,
        status TEXT NOT NULL,            -- firing | resolved
        notified_status TEXT,
        since REAL NOT NULL,
        last_sent REAL,
        labels_json TEXT NOT NULL,
        annotations_json TEXT NOT NULL
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
ROUTED = ("via-connector", "bypassed")


@dataclass
class Event:
    target: str
    role: str
    kind: str
    before: str | None
    after: str | None
    run_id: int
    previous_run_id: int | None
    evidence: dict


class History:
    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
            self.db.row_factory = sqlite3.Row
            if path != ":memory:":
                self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.migrate()
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"The monitor history {path} cannot be used: {exc}.") from None

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ schema
    def version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        current = self.version()
        if current > SCHEMA_VERSION:
            raise ConfigError(
                f"The monitor history {self.path} has schema version {current}, newer than this verifier ({SCHEMA_VERSION}).")
        for version in range(current, SCHEMA_VERSION):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for stmt in MIGRATIONS[version].split(";"):
                    if stmt.strip():
                        self.db.execute(stmt)
                self.db.execute(f"PRAGMA user_version = {version + 1}")
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def integrity(self) -> str:
        return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])

    # ------------------------------------------------------------------ writing
    def start_run(self, target: str, trigger: str = "schedule", now: float | None = None) -> int:
        cur = self.db.execute("INSERT INTO runs(target, started, status, trigger) VALUES (?, ?, 'running', ?)",
                              (target, now or time.time(), trigger))
        return int(cur.lastrowid)

    def leg_sent(self, run_id: int, role: str, address: str, token: str, sent_at: float) -> None:
        self.db.execute(
            "INSERT INTO legs(run_id, role, address, token, state, sent_at) VALUES (?, ?, ?, ?, 'sent', ?) "
            "ON CONFLICT(run_id, role) DO UPDATE SET token=excluded.token, state='sent', sent_at=excluded.sent_at",
            (run_id, role, address, token, sent_at))

    def finish_leg(self, run_id: int, leg: dict) -> None:
        cols = ("address", "token", "state", "verdict", "expected", "expected_from", "connector_id", "smart_host",
                "sent_at", "arrived_at", "delivery_seconds", "timings_json", "findings_json", "border_hop",
                "smarthost_hop", "error")
        values = [leg.get(c) for c in cols]
        self.db.execute(
            f"INSERT INTO legs(run_id, role, {', '.join(cols)}) VALUES (?, ?, {', '.join('?' * len(cols))}) "
            f"ON CONFLICT(run_id, role) DO UPDATE SET {', '.join(f'{c}=excluded.{c}' for c in cols)}",
            (run_id, leg["role"], *values))

    def finish_run(self, run_id: int, *, status: str, ok: bool | None, error: str | None, seconds: float,
                   result_json: dict | None = None, result_text: str | None = None, now: float | None = None) -> None:
        self.db.execute(
            "UPDATE runs SET finished=?, status=?, ok=?, error=?, seconds=?, result_json=?, result_text=? WHERE id=?",
            (now or time.time(), status, None if ok is None else int(ok), error, seconds,
             json.dumps(result_json, separators=(",", ":")) if result_json is not None else None, result_text, run_id))

    def add_event(self, ev: Event, now: float | None = None) -> int:
        cur = self.db.execute(
            "INSERT INTO events(target, role, at, kind, before, after, run_id, previous_run_id, evidence_json) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (ev.target, ev.role, now or time.time(), ev.kind, ev.before, ev.after, ev.run_id, ev.previous_run_id,
             json.dumps(ev.evidence, separators=(",", ":"))))
        return int(cur.lastrowid)

    def mark_late(self, token: str, arrived_at: float, folder: str) -> dict | None:
        """A message of an earlier run arrived after its run gave up: record it against that run."""
        row = self.db.execute("SELECT legs.*, runs.target FROM legs JOIN runs ON runs.id = legs.run_id WHERE token=?",
                              (token,)).fetchone()
        if row is None or row["state"] not in ("sent", "lost"):
            return None
        delivery = round(arrived_at - row["sent_at"], 3) if row["sent_at"] else None
        timings = json.loads(row["timings_json"] or "{}")
        timings["late_folder"] = folder
        self.db.execute("UPDATE legs SET state='late', arrived_at=?, delivery_seconds=?, timings_json=? WHERE id=?",
                        (arrived_at, delivery, json.dumps(timings), row["id"]))
        return {"run_id": row["run_id"], "target": row["target"], "role": row["role"], "delivery_seconds": delivery}

    def interrupt_running(self, now: float | None = None) -> list[int]:
        """Runs left 'running' by a monitor that died: mark them interrupted, their sent legs lost."""
        ids = [r[0] for r in self.db.execute("SELECT id FROM runs WHERE status='running'")]
        for rid in ids:
            self.db.execute("UPDATE runs SET status='interrupted', finished=?, ok=0, "
                            "error='the monitor stopped during this run' WHERE id=?", (now or time.time(), rid))
            self.db.execute("UPDATE legs SET state='lost', error='the monitor stopped before this message arrived' "
                            "WHERE run_id=? AND state='sent'", (rid,))
        return ids

    def prune(self, retention_days: float, now: float | None = None) -> int:
        cutoff = (now or time.time()) - retention_days * 86400
        cur = self.db.execute("DELETE FROM runs WHERE started < ? AND status != 'running'", (cutoff,))
        self.db.execute("DELETE FROM events WHERE at < ?", (cutoff,))
        return cur.rowcount

    # ------------------------------------------------------------------ reading
    def unresolved_tokens(self, since: float) -> list[sqlite3.Row]:
        """Legs whose message may still be in a mailbox: sent or lost, made after ``since``."""
        return list(self.db.execute(
            "SELECT legs.token, legs.role, legs.state, legs.sent_at, legs.run_id, runs.target FROM legs "
            "JOIN runs ON runs.id = legs.run_id WHERE legs.state IN ('sent', 'lost') AND legs.token IS NOT NULL "
            "AND legs.sent_at >= ? AND runs.status != 'running' ORDER BY legs.sent_at", (since,)))

    def previous_legs(self, target: str, before_run: int) -> dict[str, sqlite3.Row]:
        """For each role, the latest earlier leg with a routed verdict, and the latest with API facts."""
        out: dict[str, sqlite3.Row] = {}
        for row in self.db.execute(
                "SELECT legs.*, runs.started FROM legs JOIN runs ON runs.id = legs.run_id "
                "WHERE runs.target=? AND runs.id < ? AND legs.verdict IN ('via-connector', 'bypassed') "
                "ORDER BY runs.id DESC LIMIT 50", (target, before_run)):
            out.setdefault(row["role"], row)
        return out

    def previous_expectation(self, target: str, role: str, before_run: int) -> sqlite3.Row | None:
        return self.db.execute(
            "SELECT legs.* FROM legs JOIN runs ON runs.id = legs.run_id WHERE runs.target=? AND legs.role=? "
            "AND runs.id < ? AND legs.expected_from='api' ORDER BY runs.id DESC LIMIT 1",
            (target, role, before_run)).fetchone()

    def runs(self, target: str | None = None, since: float | None = None, limit: int = 1000) -> list[dict]:
        q = "SELECT id, target, started, finished, status, ok, error, seconds, trigger FROM runs WHERE 1=1"
        args: list = []
        if target:
            q += " AND target=?"
            args.append(target)
        if since is not None:
            q += " AND started >= ?"
            args.append(since)
        q += " ORDER BY started DESC, id DESC LIMIT ?"
        args.append(max(1, min(limit, 100_000)))
        out = []
        for r in self.db.execute(q, args):
            d = dict(r)
            d["legs"] = [self._leg_dict(x) for x in self.db.execute(
                "SELECT * FROM legs WHERE run_id=? ORDER BY role DESC", (r["id"],))]
            out.append(d)
        return out

    @staticmethod
    def _leg_dict(row: sqlite3.Row) -> dict:
        d = dict(row)
        for k in ("timings_json", "findings_json"):
            d[k[:-5]] = json.loads(d.pop(k) or "null")
        d.pop("run_id", None)
        d.pop("id", None)
        return d

    def events(self, target: str | None = None, since: float | None = None, limit: int = 1000) -> list[dict]:
        q = "SELECT * FROM events WHERE 1=1"
        args: list = []
        if target:
            q += " AND target=?"
            args.append(target)
        if since is not None:
            q += " AND at >= ?"
            args.append(since)
        q += " ORDER BY at DESC, id DESC LIMIT ?"
        args.append(max(1, min(limit, 100_000)))
        out = []
        for r in self.db.execute(q, args):
            d = dict(r)
            d["evidence"] = json.loads(d.pop("evidence_json") or "{}")
            out.append(d)
        return out

    def run_result(self, run_id: int) -> tuple[str | None, str | None] | None:
        row = self.db.execute("SELECT result_json, result_text FROM runs WHERE id=?", (run_id,)).fetchone()
        return None if row is None else (row[0], row[1])

    def last_success(self) -> dict[tuple[str, str], float]:
        return {(r[0], r[1]): r[2] for r in self.db.execute(
            "SELECT runs.target, legs.role, MAX(runs.started) FROM legs JOIN runs ON runs.id = legs.run_id "
            "WHERE legs.state='delivered' AND legs.verdict = legs.expected GROUP BY runs.target, legs.role")}

    def consecutive_failures(self, target: str, limit: int = 1000) -> int:
        n = 0
        for r in self.db.execute("SELECT ok FROM runs WHERE target=? AND status IN ('done', 'error', 'interrupted') "
                                 "ORDER BY id DESC LIMIT ?", (target, limit)):
            if r[0]:
                break
            n += 1
        return n

    # ------------------------------------------------------------------ alert state
    def alert_states(self) -> dict[str, dict]:
        out = {}
        for r in self.db.execute("SELECT * FROM alerts"):
            d = dict(r)
            d["labels"] = json.loads(d.pop("labels_json"))
            d["annotations"] = json.loads(d.pop("annotations_json"))
            out[d["key"]] = d
        return out

    def save_alert(self, a: dict) -> None:
        self.db.execute(
            "INSERT INTO alerts(key, status, notified_status, since, last_sent, labels_json, annotations_json) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET status=excluded.status, "
            "notified_status=excluded.notified_status, since=excluded.since, last_sent=excluded.last_sent, "
            "labels_json=excluded.labels_json, annotations_json=excluded.annotations_json",
            (a["key"], a["status"], a.get("notified_status"), a["since"], a.get("last_sent"),
             json.dumps(a["labels"]), json.dumps(a["annotations"])))
