"""Routes of the job log: new, edit, delete, convert, history and the printable month."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import htmx
from ..core.clock import month_bounds, today
from ..core.inputs import parse_id, requested_month
from ..permissions import Permission, current_actor, requires
from . import services
from .forms import KIND_LABELS, SCHEMAS, STATUS_LABELS, defaults_for, validate
from .models import Activity, ActivityKind, ApplicationStatus

bp = Blueprint("activities", __name__, url_prefix="/activities")

FORM_PAGE, FORM_FRAGMENT = "activities/form.html", "activities/_form.html"


def _kind(value: str) -> ActivityKind:
    try:
        return ActivityKind(value)
    except ValueError:
        abort(404)


def _own(activity_id: int) -> Activity:
    activity = services.get_for_citizen(current_user.id, activity_id)
    if activity is None:
        abort(404)  # also for another citizen's id: nothing revealed
    return activity


def _form(kind: ActivityKind, values: dict, *, errors: dict | None = None, status: int = 200,
          action: str, client_uuid: str | None = None, source: Activity | None = None,
          activity: Activity | None = None, fresh: bool = False):  # type: ignore[no-untyped-def]
    # ``fresh``: a form just opened; the page gives it a new UUID even from a cached copy.
    return htmx.render(
        FORM_PAGE, FORM_FRAGMENT, status=status, kind=kind, kind_label=KIND_LABELS[kind],
        fields=SCHEMAS[kind], values=values, errors=errors or {}, action=action,
        client_uuid=client_uuid, source=source, activity=activity, fresh=fresh,
        recent_employers=services.recent_employers(current_user.id)
        if kind in (ActivityKind.APPLICATION, ActivityKind.PLANNED_JOB) else [],
    )


@bp.get("/new/<kind>")
@requires(Permission.OWN_JOB_LOG)
def new(kind: str):  # type: ignore[no-untyped-def]
    k = _kind(kind)
    values = defaults_for(k, today())
    if k == ActivityKind.PLANNED_JOB:  # the manifest's share target lands here
        values |= services.shared_job(request.args.get("title", "")[:1000],
                                      request.args.get("text", "")[:2000],
                                      request.args.get("ad_url", "")[:1000])
    return _form(k, values, action=url_for(".create", kind=k.value),
                 client_uuid=str(uuid.uuid4()), fresh=True)


@bp.post("/new/<kind>")
@requires(Permission.OWN_JOB_LOG)
def create(kind: str):  # type: ignore[no-untyped-def]
    k = _kind(kind)
    source = None
    raw_source = request.form.get("source_id", "")
    if raw_source:
        source_id = parse_id(raw_source)
        if source_id is None:
            abort(400)
        source = _own(source_id)
        if not services.can_convert(source, k):
            abort(404)
    try:
        client_uuid = uuid.UUID(request.form.get("client_uuid", ""))
    except ValueError:
        client_uuid = uuid.uuid4()
    result = validate(k, request.form, today())
    action = url_for(".create", kind=k.value)
    if not result.ok:
        return _form(k, result.data, errors=result.errors, status=422, action=action,
                     client_uuid=str(client_uuid), source=source)
    try:
        services.create_activity(current_user.id, k, result.data, actor=current_actor(),
                                 client_uuid=client_uuid, source=source)
    except services.ConflictError:
        return _form(k, result.data, status=409, action=action, client_uuid=str(uuid.uuid4()),
                     source=source, errors={"_form": _(
                         "This entry was already saved with other details. "
                         "Check your list, then save again if you want a new entry.")})
    flash(_("Saved: %(kind)s", kind=KIND_LABELS[k]), "success")
    return htmx.location(url_for("home.home"))


@bp.get("/<int:activity_id>/edit")
@requires(Permission.OWN_JOB_LOG)
def edit(activity_id: int):  # type: ignore[no-untyped-def]
    activity = _own(activity_id)
    values = {spec.name: getattr(activity, spec.name) for spec in SCHEMAS[activity.kind]}
    return _form(activity.kind, values, action=url_for(".update", activity_id=activity.id),
                 activity=activity)


@bp.post("/<int:activity_id>/edit")
@requires(Permission.OWN_JOB_LOG)
def update(activity_id: int):  # type: ignore[no-untyped-def]
    activity = _own(activity_id)
    result = validate(activity.kind, request.form, today())
    if not result.ok:
        return _form(activity.kind, result.data, errors=result.errors, status=422,
                     action=url_for(".update", activity_id=activity.id), activity=activity)
    services.update_activity(current_actor(), activity, result.data)
    flash(_("Your changes are saved."), "success")
    return htmx.location(url_for(".history"))


@bp.get("/<int:activity_id>/delete")
@requires(Permission.OWN_JOB_LOG)
def confirm_delete(activity_id: int):  # type: ignore[no-untyped-def]
    return htmx.render("activities/delete.html", activity=_own(activity_id),
                       kind_labels=KIND_LABELS)


@bp.post("/<int:activity_id>/delete")
@requires(Permission.OWN_JOB_LOG)
def delete(activity_id: int):  # type: ignore[no-untyped-def]
    services.delete_activity(current_actor(), _own(activity_id))
    flash(_("The entry is deleted."), "success")
    return htmx.location(url_for(".history"))


@bp.post("/<int:activity_id>/applied")
@requires(Permission.OWN_JOB_LOG)
def applied(activity_id: int):  # type: ignore[no-untyped-def]
    planned = _own(activity_id)
    if planned.kind != ActivityKind.PLANNED_JOB:
        abort(404)
    services.apply_for_planned(current_actor(), planned, today())
    flash(_("Saved: %(kind)s", kind=KIND_LABELS[ActivityKind.APPLICATION]), "success")
    return htmx.location(url_for("home.home"))


@bp.get("/<int:activity_id>/then/<kind>")
@requires(Permission.OWN_JOB_LOG)
def follow_on(activity_id: int, kind: str):  # type: ignore[no-untyped-def]
    """A follow-up meeting, or a network lead turned into a meeting or an application."""
    source = _own(activity_id)
    k = _kind(kind)
    if not services.can_convert(source, k):
        abort(404)
    values = defaults_for(k, today()) | services.prefill_from(source, k, today())
    return _form(k, values, action=url_for(".create", kind=k.value),
                 client_uuid=str(uuid.uuid4()), source=source, fresh=True)


@bp.get("/history")
@requires(Permission.OWN_JOB_LOG)
def history():  # type: ignore[no-untyped-def]
    start, end = month_bounds(requested_month(today()))
    kind = request.args.get("kind") or None
    status = request.args.get("status") or None
    kind_filter = ActivityKind(kind) if kind in ActivityKind._value2member_map_ else None
    status_filter = status if status in ApplicationStatus._value2member_map_ else None
    entries = services.month_entries(current_user.id, start, end, kind_filter, status_filter)
    prev_month = (start.replace(day=1) - timedelta(days=1)).replace(day=1)
    next_month = (end + timedelta(days=1))
    return htmx.render(
        "activities/history.html", "activities/_history_list.html",
        entries=entries, month=start, kind=kind_filter, status=status_filter,
        kind_labels=KIND_LABELS, status_labels=STATUS_LABELS,
        prev_month=prev_month, next_month=next_month if next_month <= today() else None,
    )
