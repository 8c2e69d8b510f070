"""Template filters and helpers: localized dates and content-hashed static URLs."""

from __future__ import annotations

import hashlib
from datetime import date
from functools import cache
from pathlib import Path

from flask import Flask, current_app, request, url_for
from flask_babel import format_date

from .static_files import VERSION_LENGTH


@cache
def _static_hash(folder: str, filename: str) -> str:
    digest = hashlib.sha256((Path(folder) / filename).read_bytes()).hexdigest()
    return digest[:VERSION_LENGTH]


def static_url(filename: str) -> str:
    """A URL that changes when the file does, so it can be cached for a long time.

    Every page asks for the same handful of files: the URL is built once per file and per
    mount point (``script_root``) and kept, as the file's hash already is."""
    key = (request.script_root, filename)
    urls: dict[tuple[str, str], str] = current_app.extensions.setdefault("joblog_static_urls", {})
    url = urls.get(key)
    if url is None:
        url = urls[key] = url_for("static", filename=filename,
                                  v=_static_hash(current_app.static_folder or "", filename))
    return url


def day(value: date | None, fmt: str = "medium") -> str:
    return format_date(value, fmt) if isinstance(value, date) else ""


def month_name(value: date) -> str:
    return format_date(value, "LLLL y")


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["day"] = day
    app.jinja_env.filters["month_name"] = month_name
    app.jinja_env.globals["static_url"] = static_url
