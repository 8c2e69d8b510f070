"""Citizen login with a one-time code, and logout."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request, session, url_for
from flask_login import current_user

from .. import htmx
from ..i18n import LANGUAGE_COOKIE
from ..permissions import public
from . import devices, jobs, services, sessions
from .models import Role, User
from .senders import CodeNotSent, configured_senders, sender_for

bp = Blueprint("auth", __name__)

PENDING_IDENTIFIER = "login_identifier"
PENDING_KEY = "login_key"  # binds the code to this browser session


def _device_cookie_name() -> str:
    return devices.COOKIE_NAME if current_app.config["IS_LOCAL"] else devices.SECURE_COOKIE_NAME


def _client_ip() -> str:
    # Behind a proxy, configure ProxyFix (see docs/operations.md) so this is the real client.
    return request.remote_addr or "unknown"


@bp.get("/login")
@public
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for(_landing(current_user)))
    return htmx.render("auth/login.html", "auth/_login_form.html", identifier="", error=None)


@bp.post("/login")
@public
def request_code():  # type: ignore[no-untyped-def]
    raw = request.form.get("identifier", "")[:300]
    key = services.new_session_key()
    try:
        sender_for(raw.strip().lower())  # by its form only: e.g. no SMS gateway yet
        identifier = services.request_code(
            raw, _client_ip(), key, current_app.secret_key,  # type: ignore[arg-type]
            device_cookie=request.cookies.get(_device_cookie_name()),
            max_sends_per_ip=int(current_app.config["LOGIN_MAX_SENDS_PER_IP"]))
    except (services.LoginError, CodeNotSent) as exc:
        return htmx.render("auth/login.html", "auth/_login_form.html", status=422,
                           identifier=raw, error=exc.message)
    if "log" in configured_senders(current_app.config["CODE_SENDER"]):
        # Development: the code appears in this server's log at once (the log sender makes
        # no network call, so there is no timing to hide). Real senders run in the worker.
        # The job commits each message it sends, and with it this request's code.
        jobs.send_pending_codes(current_app.secret_key, sender_for)  # type: ignore[arg-type]
    session[PENDING_IDENTIFIER] = identifier
    session[PENDING_KEY] = key
    return htmx.location(url_for("auth.enter_code"))


@bp.get("/login/code")
@public
def enter_code():  # type: ignore[no-untyped-def]
    identifier = session.get(PENDING_IDENTIFIER)
    if not identifier:
        return redirect(url_for("auth.login"))
    return htmx.render("auth/code.html", "auth/_code_form.html", identifier=identifier, error=None)


@bp.post("/login/code")
@public
def verify_code():  # type: ignore[no-untyped-def]
    identifier = session.get(PENDING_IDENTIFIER)
    if not identifier:
        return htmx.location(url_for("auth.login"))
    try:
        user = services.verify_code(identifier, request.form.get("code", "")[:20],
                                    session.get(PENDING_KEY), _client_ip(),
                                    current_app.secret_key)  # type: ignore[arg-type]
    except services.LoginError as exc:
        # The 422 answer commits (core/database.py): the wrong guess counts.
        current_app.logger.warning("login code refused ip=%s", _client_ip())
        return htmx.render("auth/code.html", "auth/_code_form.html", status=422,
                           identifier=identifier, error=exc.message)
    current_app.logger.info("login ok user=%s", user.id)
    cookie_name = _device_cookie_name()
    device = services.device_cookie(identifier, current_app.secret_key,  # type: ignore[arg-type]
                                    request.cookies.get(cookie_name))
    after = sessions.take_next()  # begin() clears the session
    sessions.begin(user)
    # The user's own language now applies: load the whole page so <html lang dir> follows.
    resp = htmx.redirect_page(after if after and user.role == Role.CITIZEN
                              else url_for(_landing(user)))
    resp.set_cookie(cookie_name, device, max_age=devices.MAX_AGE_SECONDS, samesite="Lax",
                    secure=not current_app.config["IS_LOCAL"], httponly=True)
    return resp


def _landing(user: User) -> str:
    """Citizens land on their home; staff go on to their second factor (second_factor.py)."""
    return "home.home" if user.role == Role.CITIZEN else "second_factor.start"


@bp.post("/logout")
@public
def logout():  # type: ignore[no-untyped-def]
    language = current_user.language if current_user.is_authenticated else None
    provider_logout = sessions.end()
    # Logged in through an identity provider (MitID): its session ends too.
    resp = redirect(provider_logout or url_for("auth.login"), 303)
    if language:
        resp.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="Lax",
                        secure=not current_app.config["IS_LOCAL"], httponly=True)
    return resp
