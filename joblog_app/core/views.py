"""Language switch, accessibility statement and health check."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, request, url_for
from flask_login import current_user

from .. import htmx
from ..auth import services as auth
from ..config import LANGUAGES
from ..i18n import LANGUAGE_COOKIE
from ..permissions import public
from .health import collect as health_figures

bp = Blueprint("core", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not target:
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
    """Liveness plus each feature's figures (core/health.py), e.g. the record queue."""
    return jsonify(status="ok", **health_figures())
