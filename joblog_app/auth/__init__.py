"""Users, municipalities, one-time login codes, server-side login sessions."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The login-code outbox is sent by a worker job, registered first: a citizen waiting
    for a code never waits behind a long relay backlog."""
    from ..worker import Job, register_job
    from .jobs import HousekeepingJob, send_codes_job

    register_job(app, Job("login-codes", send_codes_job))
    register_job(app, Job("login-housekeeping", HousekeepingJob()))
