"""The job log: applications, planned jobs, coffee meetings, network contacts, other."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The job log's routes, and ``follow_on_actions`` for templates."""
    from .presenter import follow_on_actions
    from .views import bp

    app.register_blueprint(bp)
    app.jinja_env.globals["follow_on_actions"] = follow_on_actions
