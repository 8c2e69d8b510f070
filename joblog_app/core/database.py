"""Engine settings (SQLite in WAL mode with foreign keys) and the request's commit point;
nothing happens at import time."""

from __future__ import annotations

from flask import Response
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


def commit_request(response: Response) -> Response:
    """The one commit point of a request (services change and flush, never commit).

    Whatever the request's services wrote is committed here, once, after the view has
    answered — also on a 4xx answer, so that e.g. a wrong login code still counts and a
    denied look-up is still logged. A 5xx answer rolls everything back: the error handler
    has already done so for an unexpected exception (core/errors.py), and nothing of a
    failed request is ever half-written. A failing commit becomes that 5xx itself.
    """
    if response.status_code >= 500:
        db.session.rollback()
    else:
        db.session.commit()
    return response
