"""Home screen, language switch, accessibility statement and health check."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, request, url_for
from flask_login import current_user

from .. import htmx
from ..activities import queries as activity_queries
from ..activities.forms import KIND_LABELS, STATUS_LABELS
from ..auth import services as auth
from ..auth.sessions import citizen_required
from ..config import LANGUAGES
from ..i18n import LANGUAGE_COOKIE
from ..progress import services as progress
from ..record import services as record
from ..reminders import services as reminders
from ..reminders.vapid import public_key_from_config
from .clock import today

bp = Blueprint("core", __name__)


@bp.get("/")
@citizen_required
def home():  # type: ignore[no-untyped-def]
    day = today()
    citizen_id = current_user.id
    # The most requested page: two statements, plain rows, no ORM entities or lazy loads.
    progress_now, sync = progress.overview(citizen_id, day)
    lists = activity_queries.home_lists(citizen_id, day, limit=5)
    return htmx.render(
        "core/home.html",
        progress=progress_now,
        planned=lists.planned,
        follow_ups=lists.follow_ups,
        latest=lists.latest,
        sync=sync,
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        today=day,
        push_key=public_key_from_config(current_app.config),
    )


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not target:
        return url_for("core.home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("core.home")
    return target


@bp.post("/language")
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
def accessibility():  # type: ignore[no-untyped-def]
    return htmx.render("core/accessibility.html")


@bp.get("/healthz")
def health():  # type: ignore[no-untyped-def]
    """Liveness plus the record queue: depth, the age of the oldest pending entry, and how
    many entries wait for staff (no CPR number or no gateway); the push outbox's depth and
    how many push services refuse our messages (a configuration fault: flask push status)."""
    queue = record.queue_health()
    push = reminders.push_health()
    return jsonify(status="ok", record_queue_depth=queue.depth,
                   record_oldest_pending_seconds=queue.oldest_pending_seconds,
                   record_waiting=queue.waiting, record_failed=queue.failed,
                   push_queue_depth=push.queue_depth, push_config_alerts=push.alerts)
