"""Assisted registration (issue 11): recorded requests, the helper's pages to find a citizen
and register for them (one screen, two languages), and the citizen's page to see and
withdraw their requests."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The staff and citizen pages of assisted registration."""
    from .views import bp

    app.register_blueprint(bp)
