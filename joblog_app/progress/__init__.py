"""This period's job searches against the citizen's requirement, and STAR's smiley."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """``progress_words`` for templates (presenter.py)."""
    from .presenter import progress_words

    app.jinja_env.globals["progress_words"] = progress_words
