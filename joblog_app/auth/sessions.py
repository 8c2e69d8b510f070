"""Binds Flask-Login to the server-side ``LoginSession`` rows (route rules: permissions.py).

Citizens keep long sessions on their own phone. Staff sessions end after
``STAFF_SESSION_IDLE_MINUTES`` idle and ``STAFF_SESSION_HOURS`` at most, and grant staff
permissions only once the session's second factor passed (auth/second_factor.py).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from ..extensions import login
from . import services
from .models import LoginSession, Role, User

SESSION_KEY = "sid"
NEXT_KEY = "after_login"  # a local path to return to once logged in
# After a login through an identity provider: its logout URL (RP-initiated logout), where
# logging out here sends the browser next, so the provider's session ends too.
PROVIDER_LOGOUT_KEY = "provider_logout"


def init_login(app: Flask) -> None:
    login.session_protection = None  # our own server-side session does the job

    @login.user_loader
    def load_user(user_id: str) -> User | None:
        token = session.get(SESSION_KEY)
        if not token:
            return None
        cfg = current_app.config
        found = services.session_for_token(
            token, timedelta(days=cfg["SESSION_IDLE_DAYS"]),
            staff_idle_limit=timedelta(minutes=cfg["STAFF_SESSION_IDLE_MINUTES"]))
        if found is None or str(found[0].id) != user_id:
            session.clear()
            return None
        g.login_session = found[1]
        return found[0]

    @login.unauthorized_handler
    def unauthorized():  # type: ignore[no-untyped-def]
        target = url_for("auth.login")
        if request.headers.get("HX-Request") == "true":
            return "", 401, {"HX-Redirect": target}
        return redirect(target)


def begin(user: User) -> None:
    """A fresh session at login (ASVS 7.2.4): nothing from before survives.

    This is also the seam for a production identity provider: call it once the provider
    has vouched for the user (docs/operations.md); for staff, then
    ``second_factor.vouched_by_provider`` when the provider's ``amr`` names a second factor.
    """
    session.clear()
    if user.role == Role.CITIZEN:
        lifetime = current_app.permanent_session_lifetime
    else:
        lifetime = timedelta(hours=current_app.config["STAFF_SESSION_HOURS"])
    token = services.start_session(user, lifetime)
    session.permanent = True
    session[SESSION_KEY] = token
    login_user(user)
    g.login_session = services.session_for_token(token, lifetime)[1]  # type: ignore[index]


def remember_next(path: str) -> None:
    """Come back to ``path`` (a path on this site) after the login, e.g. a job café's
    check-in opened before logging in. ``begin`` clears the session: the login takes it
    first (``take_next``)."""
    if path.startswith("/") and not path.startswith("//") and "\\" not in path:
        session[NEXT_KEY] = path[:300]


def take_next() -> str | None:
    return session.pop(NEXT_KEY, None)


def current_login_session() -> LoginSession | None:
    """The live session row of this request's user (None when nobody is logged in)."""
    if not current_user.is_authenticated:
        return None
    return g.get("login_session")


def second_factor_passed() -> bool:
    """Citizens need none; a staff session only once its second factor passed."""
    if not current_user.is_authenticated:
        return False
    if current_user.role == Role.CITIZEN:
        return True
    row = current_login_session()
    return row is not None and row.second_factor_at is not None and row.revoked_at is None


def end() -> str | None:
    """End this session; returns the identity provider's logout URL when the login came
    from one (the caller sends the browser there)."""
    provider_logout = session.get(PROVIDER_LOGOUT_KEY)
    token = session.get(SESSION_KEY)
    if token:
        services.end_session(token)
    logout_user()
    session.clear()
    return provider_logout if isinstance(provider_logout, str) else None
