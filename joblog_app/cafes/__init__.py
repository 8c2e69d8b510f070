"""Job cafés: an administrator sets them up; a helper opens a session, citizens check in
(the café's QR code or a search), the session screen shows who is here with a visit
checklist, and a helper can pair a citizen's phone with a one-time code."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .cli import cafes
    from .views import bp

    app.register_blueprint(bp)
    app.cli.add_command(cafes)
