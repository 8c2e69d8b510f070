"""Language switch, accessibility statement and health check."""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from .. import htmx
from ..auth import services as auth
from ..config import LANGUAGES
from ..extensions import db
from ..i18n import LANGUAGE_COOKIE
from ..permissions import public
from .health import collect as health_figures

bp = Blueprint("core", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not target or len(target) > 2000:
        return url_for("home.home")
    # Control characters (CR/LF: header splitting) and backslashes (browsers read "/\\x" as
    # "//x") never belong in our own paths.
    if any(ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in target):
        return url_for("home.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("home.home")
    return target


@bp.post("/language")
@public
def set_language():  # type: ignore[no-untyped-def]
    lang = request.form.get("lang", "")
    next_url = _safe_next(request.form.get("next"))
    if lang not in LANGUAGES:
        return redirect(next_url, 303)
    if current_user.is_authenticated:
        auth.set_language(current_user, lang)
    resp = redirect(next_url, 303)
    resp.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86400, samesite="Lax",
                    secure=not current_app.config["IS_LOCAL"], httponly=True)
    return resp


@bp.get("/accessibility")
@public
def accessibility():  # type: ignore[no-untyped-def]
    return htmx.render("core/accessibility.html")


@bp.get("/healthz")
@public
def health():  # type: ignore[no-untyped-def]
    """Liveness for anyone. Each feature's figures (core/health.py: the record queue's
    depth, oldest pending entry, entries waiting for staff, failed entries) only for a
    caller presenting the monitoring token (``Authorization: Bearer
    <JOBLOG_MONITORING_TOKEN>``). Staff login does not exist yet; when it does, staff may
    see them too."""
    try:
        if not _monitoring_caller():
            db.session.execute(sa.select(1))
            return jsonify(status="ok")
        figures = health_figures()
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok", **figures)


def _monitoring_caller() -> bool:
    token = current_app.config["MONITORING_TOKEN"]
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), str(token).encode())
