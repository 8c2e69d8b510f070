"""The SQLite store: records, the request ids that changed them, and the CPR hash key.

CPR numbers are never stored: a keyed hash (the key is random per database file) scopes
records to the citizen, and the masked ``DDMMYY-XXXX`` is what a record shows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from .answers import Answer, Reply, Stopped

API = "/joblog/v1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL UNIQUE,
    request_id TEXT NOT NULL,          -- the request id of the POST that created it
    cpr_hash TEXT NOT NULL,            -- keyed hash; the number itself is never stored
    cpr_masked TEXT NOT NULL,          -- DDMMYY-XXXX
    body TEXT NOT NULL,                -- the entry, canonical JSON
    registered_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    cancelled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS records_cpr_hash ON records (cpr_hash);
CREATE TABLE IF NOT EXISTS request_ids (   -- every request id that changed something
    request_id TEXT PRIMARY KEY,
    record_id TEXT NOT NULL,
    method TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
"""

NOT_FOUND = {"errorCode": "NOT_FOUND"}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _record(row: sqlite3.Row, with_hash: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(row["body"])
    record.update(recordId=row["record_id"], requestId=row["request_id"], cpr=row["cpr_masked"],
                  registeredAt=row["registered_at"], updatedAt=row["updated_at"],
                  version=row["version"], cancelled=bool(row["cancelled"]))
    if with_hash:
        record["cprHash"] = row["cpr_hash"]
    return record


class Store:
    """SQLite (WAL) behind one lock: every change is one committed transaction, so ten
    concurrent POSTs with one request id make one record and nine 412s."""

    def __init__(self, path: str) -> None:
        self._lock = threading.Lock()
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        self._conn: sqlite3.Connection | None = conn
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: safe against process crashes
        conn.executescript(_SCHEMA)
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('cpr_key', ?)",
                     (secrets.token_hex(32),))
        row = conn.execute("SELECT value FROM meta WHERE key = 'cpr_key'").fetchone()
        self._cpr_key = bytes.fromhex(row["value"])

    def cpr_hash(self, cpr: str) -> str:
        return hmac.new(self._cpr_key, cpr.encode(), hashlib.sha256).hexdigest()[:32]

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise Stopped
            yield self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise Stopped
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- the contract (the entry is validated inside the transaction, after the 412 check:
    #    a refused entry does not use up its request id) -----------------------------------
    def create(self, request_id: str, cpr: str, entry: Callable[[], dict[str, Any]]) -> Answer:
        with self._write() as conn:
            self._refuse_seen(conn, request_id)
            body = entry()
            record_id, now = str(uuid.uuid4()), _now()
            conn.execute(
                "INSERT INTO records (record_id, request_id, cpr_hash, cpr_masked, body,"
                " registered_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                (record_id, request_id, self.cpr_hash(cpr), f"{cpr[:6]}-XXXX",
                 _canonical(body), now, now))
            self._remember(conn, request_id, record_id, "POST", now)
        return Answer(201, {"recordId": record_id, "requestId": request_id, "registeredAt": now,
                            "version": 1}, {"Location": f"{API}/entries/{record_id}"})

    def update(self, request_id: str, cpr: str, record_id: str,
               entry: Callable[[], dict[str, Any]]) -> Answer:
        with self._write() as conn:
            self._refuse_seen(conn, request_id)
            row = self._own_live_record(conn, cpr, record_id)
            body = entry()
            now, version = _now(), row["version"] + 1
            conn.execute("UPDATE records SET body = ?, updated_at = ?, version = ?"
                         " WHERE record_id = ?", (_canonical(body), now, version, record_id))
            self._remember(conn, request_id, record_id, "PUT", now)
        return Answer(200, {"recordId": record_id, "version": version})

    def cancel(self, request_id: str, cpr: str, record_id: str) -> Answer:
        with self._write() as conn:
            self._refuse_seen(conn, request_id)
            row = self._own_live_record(conn, cpr, record_id)
            now = _now()
            conn.execute("UPDATE records SET cancelled = 1, updated_at = ?, version = ?"
                         " WHERE record_id = ?", (now, row["version"] + 1, record_id))
            self._remember(conn, request_id, record_id, "DELETE", now)
        return Answer(204)

    def get(self, cpr: str, record_id: str) -> Answer:
        with self._read() as conn:
            return Answer(200, _record(self._own_record(conn, cpr, record_id)))

    def get_by_request(self, cpr: str, request_id: str) -> Answer:
        with self._read() as conn:
            seen = conn.execute("SELECT record_id FROM request_ids WHERE request_id = ?",
                                (request_id,)).fetchone()
            if seen is None:
                raise Reply(404, NOT_FOUND)
            return Answer(200, _record(self._own_record(conn, cpr, seen["record_id"])))

    @staticmethod
    def _refuse_seen(conn: sqlite3.Connection, request_id: str) -> None:
        row = conn.execute("SELECT record_id FROM request_ids WHERE request_id = ?",
                           (request_id,)).fetchone()
        if row is not None:
            raise Reply(412, {"errorCode": "DUPLICATE_REQUEST_ID", "recordId": row["record_id"],
                              "message": "this x-requestId was already used"})

    def _own_record(self, conn: sqlite3.Connection, cpr: str, record_id: str) -> sqlite3.Row:
        """The record, if it belongs to this citizen; 404 otherwise (no hint either way)."""
        row = conn.execute("SELECT * FROM records WHERE record_id = ?", (record_id,)).fetchone()
        if row is None or not hmac.compare_digest(row["cpr_hash"], self.cpr_hash(cpr)):
            raise Reply(404, NOT_FOUND)
        return row

    def _own_live_record(self, conn: sqlite3.Connection, cpr: str, record_id: str) -> sqlite3.Row:
        row = self._own_record(conn, cpr, record_id)
        if row["cancelled"]:
            raise Reply(410, {"errorCode": "CANCELLED", "recordId": record_id})
        return row

    @staticmethod
    def _remember(conn: sqlite3.Connection, request_id: str, record_id: str, method: str,
                  now: str) -> None:
        conn.execute("INSERT INTO request_ids (request_id, record_id, method, seen_at)"
                     " VALUES (?, ?, ?, ?)", (request_id, record_id, method, now))

    # -- inspection ---------------------------------------------------------------------
    def records(self, cpr_hash: str | None = None) -> list[dict[str, Any]]:
        with self._read() as conn:
            if cpr_hash is None:
                rows = conn.execute("SELECT * FROM records ORDER BY seq").fetchall()
            else:
                rows = conn.execute("SELECT * FROM records WHERE cpr_hash = ? ORDER BY seq",
                                    (cpr_hash,)).fetchall()
        return [_record(row, with_hash=True) for row in rows]

    def counts(self) -> dict[str, Any]:
        """``duplicates``: records beyond the first with the same citizen and the same
        content (all entry fields) - a second delivery of one entry shows up here."""
        with self._read() as conn:
            total, cancelled, distinct = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(cancelled), 0),"
                " COUNT(DISTINCT cpr_hash || ':' || body) FROM records").fetchone()
            request_ids = conn.execute("SELECT COUNT(*) FROM request_ids").fetchone()[0]
            by_kind = conn.execute("SELECT json_extract(body, '$.kind') AS k, COUNT(*)"
                                   " FROM records GROUP BY k ORDER BY k").fetchall()
            by_status = conn.execute("SELECT COALESCE(json_extract(body, '$.status'), 'NONE')"
                                     " AS s, COUNT(*) FROM records GROUP BY s ORDER BY s"
                                     ).fetchall()
        return {"records": total, "active": total - cancelled, "cancelled": cancelled,
                "requestIds": request_ids, "duplicates": total - distinct,
                "byKind": {row[0]: row[1] for row in by_kind},
                "byStatus": {row[0]: row[1] for row in by_status}}

    def wipe(self) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM records")
            conn.execute("DELETE FROM request_ids")
