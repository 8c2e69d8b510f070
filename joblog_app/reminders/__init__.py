"""Reminders as web push notifications in the citizen's own language."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The settings pages, ``flask push`` and the worker jobs ``reminders-plan`` and
    ``push-deliver`` (planned first, so a round delivers what it planned)."""
    from ..worker import Job, register_job
    from .cli import push
    from .jobs import DeliverJob, PlanJob
    from .views import bp

    app.register_blueprint(bp)
    app.cli.add_command(push)
    register_job(app, Job("reminders-plan", PlanJob()))
    register_job(app, Job("push-deliver", DeliverJob()))
