"""``/login/mitid`` (citizens) and ``/login/sso`` (staff) send the browser to the provider;
``/login/oidc/callback`` takes its answer. Every route answers 404 while no provider is
configured. The session afterwards is the one a code login makes (``sessions.begin``)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request, session, url_for

from ..auth import second_factor, sessions
from ..auth.models import Role
from ..extensions import db
from ..htmx import render
from ..permissions import public
from . import presenter, services

bp = Blueprint("identity", __name__)

PENDING = "oidc_pending"  # state, nonce, PKCE verifier and purpose while the provider answers


def _settings() -> services.Settings:
    settings = services.Settings.from_config(current_app.config)
    if settings is None:
        abort(404)
    return settings


def _redirect_uri() -> str:
    return url_for("identity.callback", _external=True)


def _start(purpose: str):  # type: ignore[no-untyped-def]
    settings = _settings()
    if purpose == "staff" and not settings.staff:
        abort(404)
    try:
        url, pending = services.start(settings, _redirect_uri(), purpose)
    except services.Refused as exc:
        return _refused(exc, purpose)
    session[PENDING] = pending
    return redirect(url, 303)


@bp.get("/login/mitid")
@public
def start():  # type: ignore[no-untyped-def]
    return _start("citizen")


@bp.get("/login/sso")
@public
def start_staff():  # type: ignore[no-untyped-def]
    return _start("staff")


@bp.get("/login/oidc/callback")
@public
def callback():  # type: ignore[no-untyped-def]
    settings = _settings()
    pending = session.pop(PENDING, None)
    if not isinstance(pending, dict):
        pending = None
    purpose = (pending or {}).get("purpose", "citizen")
    answer = {k: request.args.get(k, "")[:4000] for k in ("state", "code", "error", "iss")}
    try:
        claims = services.finish(settings, _redirect_uri(), pending, answer)
        if purpose == "staff":
            user, vouched = services.staff_for(settings, claims)
        else:
            user, vouched = services.citizen_for(settings, claims), False
    except services.Refused as exc:
        return _refused(exc, purpose)
    after = sessions.take_next()
    sessions.begin(user)
    logout = services.logout_url(settings, url_for("auth.login", _external=True))
    if logout:
        session[sessions.PROVIDER_LOGOUT_KEY] = logout
    current_app.logger.info("login ok user=%s method=oidc second_factor=%s", user.id, vouched)
    if user.role == Role.CITIZEN:
        return redirect(after or url_for("home.home"), 303)
    if vouched:
        second_factor.vouched_by_provider(sessions.current_login_session())  # type: ignore[arg-type]
        db.session.flush()
        return redirect(url_for("staff.home"), 303)
    return redirect(url_for("second_factor.start"), 303)


def _refused(exc: services.Refused, purpose: str):  # type: ignore[no-untyped-def]
    # The reason and what failed, never a claim's value (a CPR number).
    current_app.logger.warning("oidc login refused reason=%s detail=%s purpose=%s ip=%s",
                               exc.reason, exc.detail, purpose, request.remote_addr)
    status = 400 if exc.reason == "state" else 503 if exc.reason == "unavailable" else 403
    return render("identity/refused.html", status=status, **presenter.refusal(exc, purpose))
