"""Caseworkers: the work list of citizens who need help, exemptions from registering, and
the municipality's figures by STAR's groups (issue 12)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .views import bp

    app.register_blueprint(bp)
