"""Staff accounts: personal accounts of helpers, caseworkers and administrators, each in
one municipality, created and disabled by an administrator (page and ``flask staff``)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The staff pages and the ``flask staff`` commands."""
    from .cli import staff
    from .views import bp

    app.register_blueprint(bp)
    app.cli.add_command(staff)
