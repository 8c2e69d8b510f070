"""Citizens: profile, benefit group, job-search requirement and CPR number (encrypted)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """The ``flask citizens`` commands."""
    from .cli import citizens

    app.cli.add_command(citizens)
