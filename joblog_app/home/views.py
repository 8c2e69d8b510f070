"""The home screen and the printable monthly overview (thin: home/services.py reads)."""

from __future__ import annotations

from flask import Blueprint, current_app
from flask_login import current_user

from .. import htmx
from ..activities.forms import KIND_LABELS, METHOD_LABELS, STATUS_LABELS
from ..audit import services as audit
from ..audit.presenter import ACTION_LABELS, PURPOSE_LABELS, ROLE_LABELS
from ..cafes import services as cafes
from ..cafes.presenter import item_words
from ..core.clock import today
from ..core.inputs import requested_month
from ..permissions import Permission, requires
from ..reminders.vapid import public_key_from_config
from . import services

bp = Blueprint("home", __name__)


@bp.get("/")
@requires(Permission.OWN_JOB_LOG)
def home():  # type: ignore[no-untyped-def]
    day = today()
    screen = services.home_screen(current_user.id, day)
    return htmx.render(
        "core/home.html", progress=screen.progress, planned=screen.planned,
        follow_ups=screen.follow_ups, latest=screen.latest, sync=screen.sync,
        kind_labels=KIND_LABELS, status_labels=STATUS_LABELS, today=day,
        push_key=public_key_from_config(current_app.config),
        visit=cafes.todays_visit(current_user.id, day), visit_item_words=item_words,
    )


@bp.get("/activities/history/print")
@requires(Permission.OWN_JOB_LOG)
def print_month():  # type: ignore[no-untyped-def]
    overview = services.month_overview(current_user.id, requested_month(today()), today())
    return htmx.render(
        "activities/print.html", entries=overview.entries, month=overview.month,
        kind_labels=KIND_LABELS, method_labels=METHOD_LABELS, status_labels=STATUS_LABELS,
        progress=overview.progress,
    )


@bp.get("/access-log")
@requires(Permission.OWN_JOB_LOG)
def access_log():  # type: ignore[no-untyped-def]
    """Who at the job centre has looked at the citizen's information, when and why (never
    the staff member's name)."""
    return htmx.render("home/access_log.html", look_ups=audit.citizen_log(current_user.id),
                       action_labels=ACTION_LABELS, role_labels=ROLE_LABELS,
                       purpose_labels=PURPOSE_LABELS)
