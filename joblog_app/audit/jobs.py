"""The audit log's worker job: rows past their retention are deleted, batch by batch."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from ..extensions import db
from ..worker import Stopping
from . import services


def delete_expired_job(stopping: Stopping) -> int:
    """A worker job (a commit boundary): one commit per batch of deleted rows."""
    retention = timedelta(days=int(current_app.config["AUDIT_RETENTION_DAYS"]))
    deleted = 0
    while not stopping():
        n = services.delete_expired(retention)
        db.session.commit()
        deleted += n
        if n == 0:
            break
    return deleted
