"""The citizen's screens that bring the features together: the home screen ("am I OK this
month?") and the printable monthly overview. Nothing imports this package."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .views import bp

    app.register_blueprint(bp)
