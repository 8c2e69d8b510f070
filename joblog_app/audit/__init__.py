"""The audit log: every staff read, search, change, export and pairing of citizen data,
written in the same transaction as what it records, kept for a configurable period.

Part of the base (like auth): permissions.citizen_for writes to it, and every staff feature
does, so it imports no feature."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Deleting rows past their retention is a worker job (housekeeping)."""
    from ..worker import Job, register_job
    from .jobs import delete_expired_job

    register_job(app, Job("audit-retention", delete_expired_job))
