"""Binds Flask-Login to the server-side ``LoginSession`` rows (route rules: permissions.py)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, redirect, request, session, url_for
from flask_login import login_user, logout_user

from ..extensions import login
from . import services
from .models import User

SESSION_KEY = "sid"


def init_login(app: Flask) -> None:
    login.session_protection = None  # our own server-side session does the job

    @login.user_loader
    def load_user(user_id: str) -> User | None:
        token = session.get(SESSION_KEY)
        if not token:
            return None
        idle = timedelta(days=current_app.config["SESSION_IDLE_DAYS"])
        user = services.user_for_session(token, idle)
        if user is None or str(user.id) != user_id:
            session.clear()
            return None
        return user

    @login.unauthorized_handler
    def unauthorized():  # type: ignore[no-untyped-def]
        target = url_for("auth.login")
        if request.headers.get("HX-Request") == "true":
            return "", 401, {"HX-Redirect": target}
        return redirect(target)


def begin(user: User) -> None:
    """A fresh session at login (ASVS 7.2.4): nothing from before survives."""
    session.clear()
    token = services.start_session(user, current_app.permanent_session_lifetime)
    session.permanent = True
    session[SESSION_KEY] = token
    login_user(user)


def end() -> None:
    token = session.get(SESSION_KEY)
    if token:
        services.end_session(token)
    logout_user()
    session.clear()
