"""Figures for ``/healthz``: each feature registers a function that returns its own (the
record queue, later push delivery), so the health check imports no feature."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

EXTENSION_KEY = "joblog_health"
Figures = Callable[[], dict[str, Any]]


def register_figures(app: Flask, figures: Figures) -> None:
    app.extensions.setdefault(EXTENSION_KEY, []).append(figures)


def collect() -> dict[str, Any]:
    """Every registered feature's figures, merged (names are prefixed by their feature)."""
    merged: dict[str, Any] = {}
    for figures in current_app.extensions.get(EXTENSION_KEY, []):
        merged.update(figures())
    return merged
