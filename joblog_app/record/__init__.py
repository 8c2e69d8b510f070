"""Delivery of job-log entries to the municipal record (Joblog's data in DFDG)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The ``flask record`` commands, the relay job of ``flask worker`` and the words for
    where entries are (``record_status`` / ``sync_status`` in templates)."""
    from ..citizens.signals import cpr_on_file
    from ..worker import Job, register_job
    from .cli import record
    from .worker import RelayJob

    app.cli.add_command(record)
    register_job(app, Job("record-relay", RelayJob()))
    from ..core.health import register_figures
    from . import presenter

    register_figures(app, _queue_figures)

    app.jinja_env.globals.update(record_status=presenter.entry_status,
                                 sync_status=presenter.sync_summary)
    # Signals are process-wide; connecting the same function again (another app) is a no-op.
    cpr_on_file.connect(_release_waiting)


def _release_waiting(_sender: object, citizen_id: int) -> None:
    from . import services

    services.release_waiting(citizen_id)


def _queue_figures() -> dict[str, object]:
    """The queue depth, the age of the oldest pending entry, and how many entries wait for
    staff (no CPR number or no gateway) or were refused by the record."""
    from . import services

    queue = services.queue_health()
    return {"record_queue_depth": queue.depth,
            "record_oldest_pending_seconds": queue.oldest_pending_seconds,
            "record_waiting": queue.waiting, "record_failed": queue.failed}
