"""Caseworkers: the work list of citizens who need help, exemptions from registering, and
the municipality's figures by STAR's groups (issue 12)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from ..worker import Job, register_job
    from .jobs import remind_exemptions_job
    from .views import bp, exemptions_ending_count

    app.register_blueprint(bp)
    app.jinja_env.globals["exemptions_ending_count"] = exemptions_ending_count
    register_job(app, Job("exemption-reminders", remind_exemptions_job))
