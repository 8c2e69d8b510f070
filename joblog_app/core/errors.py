"""Friendly, localized error pages: no stack trace ever reaches a user."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..extensions import db


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Something in the request was wrong"), _("Go back and try again.")),
        403: (_("That did not work"), _("The page may be old. Go back, reload it and try again.")),
        404: (_("We cannot find this page"), _("It may have been deleted, or the link is wrong.")),
        405: (_("This does not work here"), _("Go back to the front page and try again.")),
        413: (_("This is too large"), _("Send less text and try again.")),
        429: (_("Too many tries"), _("Wait a few minutes, then try again.")),
        500: (_("Something went wrong on our side"),
              _("Nothing you typed is lost. Try again in a moment.")),
    }


# The phone's queue talks JSON: its errors are JSON too, never an HTML page.
JSON_PREFIXES = ("/sync/",)


def _render(code: int):  # type: ignore[no-untyped-def]
    title, advice = _messages().get(code, _messages()[500 if code >= 500 else 400])
    if request.path.startswith(JSON_PREFIXES):
        return jsonify(status="error", code=code, message=f"{title}. {advice}"), code
    template = "core/_error.html" if request.headers.get("HX-Request") == "true" else "core/error.html"
    return render_template(template, code=code, title=title, advice=advice), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(e: CSRFError):  # type: ignore[no-untyped-def]
        app.logger.warning("csrf rejected path=%s reason=%s", request.path, e.description)
        if not current_user.is_authenticated and not request.path.startswith(JSON_PREFIXES):
            # No session any more (cookies cleared, logged out in another tab): the way on
            # is to log in again, not "try again" (nothing was saved).
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        return _render(403)

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):  # type: ignore[no-untyped-def]
        if e.code in (401, 403):
            app.logger.warning("access denied code=%s path=%s", e.code, request.path)
        return _render(e.code or 500)

    @app.errorhandler(Exception)
    def unexpected(e: Exception):  # type: ignore[no-untyped-def]
        if isinstance(e, HTTPException):
            return http_error(e)
        db.session.rollback()
        app.logger.exception("unhandled error path=%s", request.path)
        return _render(InternalServerError.code)
