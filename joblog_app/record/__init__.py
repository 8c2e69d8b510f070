"""Delivery of job-log entries to the municipal record (Joblog's data in DFDG)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The ``flask record`` commands and the relay job of ``flask worker``."""
    from ..worker import Job, register_job
    from .cli import record
    from .worker import RelayJob

    app.cli.add_command(record)
    register_job(app, Job("record-relay", RelayJob()))
