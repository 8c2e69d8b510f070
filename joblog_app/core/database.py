"""Engine settings: SQLite in WAL mode with foreign keys; nothing happens at import time."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

from ..extensions import db


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def configure_engine() -> None:
    engine: Engine = db.engine
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _sqlite_pragmas):
        event.listen(engine, "connect", _sqlite_pragmas)
