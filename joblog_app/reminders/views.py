"""Reminder settings, the device's subscription, pause and "send me a test"."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, make_response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import htmx
from ..core.clock import today
from ..permissions import Permission, requires, requires_for_api
from . import services
from .forms import KIND_LABELS, wanted_kinds
from .vapid import public_key_from_config

bp = Blueprint("reminders", __name__, url_prefix="/reminders")


@bp.get("")
@requires(Permission.OWN_JOB_LOG)
def settings():  # type: ignore[no-untyped-def]
    s = services.settings_for(current_user.id)
    return htmx.render("reminders/settings.html", kind_labels=KIND_LABELS,
                       on=services.kinds_on(s), paused_until=s.paused_until,
                       paused=s.paused_until is not None and s.paused_until >= today(),
                       devices=services.subscriptions_of(current_user.id),
                       push_key=public_key_from_config(current_app.config))


@bp.post("/settings")
@requires(Permission.OWN_JOB_LOG)
def save_settings():  # type: ignore[no-untyped-def]
    services.set_kinds(current_user.id, wanted_kinds(request.form))
    flash(_("Your reminder choices are saved."), "success")
    return htmx.location(url_for(".settings"))


@bp.post("/pause")
@requires(Permission.OWN_JOB_LOG)
def pause():  # type: ignore[no-untyped-def]
    services.pause(current_user.id, today())
    flash(_("Reminders are paused for a week."), "success")
    return htmx.location(url_for(".settings"))


@bp.post("/resume")
@requires(Permission.OWN_JOB_LOG)
def resume():  # type: ignore[no-untyped-def]
    services.resume(current_user.id)
    flash(_("Reminders are on again."), "success")
    return htmx.location(url_for(".settings"))


@bp.post("/test")
@requires(Permission.OWN_JOB_LOG)
def send_test():  # type: ignore[no-untyped-def]
    if services.send_test(current_user, services.now()) is None:
        flash(_("Turn on reminders on this phone first, then try again."), "error")
    else:
        flash(_("A test reminder is on its way. It can take a minute."), "success")
    return htmx.location(url_for(".settings"))


@bp.post("/subscriptions")
@requires_for_api(Permission.OWN_JOB_LOG)
def subscribe():  # type: ignore[no-untyped-def]
    """The device's PushSubscription as JSON: added, or confirmed each time the app opens."""
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON parser goes: not a subscription
        payload = None
    try:
        sub = services.save_subscription(current_user.id, payload,
                                         services.device_name(request.user_agent.string),
                                         services.now(),
                                         allow_http=bool(current_app.config["IS_LOCAL"]))
    except services.InvalidSubscription:
        return make_response(jsonify(error=_("This phone's reminder details could not be "
                                             "read. Please try again.")), 422)
    return jsonify(id=sub.id)


@bp.post("/subscriptions/<int:subscription_id>/delete")
@requires(Permission.OWN_JOB_LOG)
def delete_device(subscription_id: int):  # type: ignore[no-untyped-def]
    sub = services.own_subscription(current_user.id, subscription_id)
    if sub is None:
        abort(404)  # also another citizen's device: nothing revealed
    services.delete_subscription(sub)
    flash(_("That device gets no more reminders."), "success")
    return htmx.location(url_for(".settings"))
