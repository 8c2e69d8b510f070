"""Assisted registration: staff find a citizen, record a request, register entries for them
with the citizen's fast forms (one screen, two languages); the citizen sees and withdraws
their requests. Every staff read or change of a citizen goes through
``permissions.citizen_for`` (the audit point, 404 outside the staff user's municipality)."""

from __future__ import annotations

import uuid

from flask import Blueprint, Response, abort, after_this_request, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import htmx
from ..activities import queries as activity_queries
from ..activities import services as activities
from ..activities.forms import KIND_LABELS, SCHEMAS, STATUS_LABELS, defaults_for, validate
from ..activities.models import ActivityKind
from ..audit import services as audit
from ..audit.models import AuditAction
from ..auth.models import User
from ..cafes import services as cafes
from ..core.clock import today
from ..i18n import bilingual, current_language
from ..permissions import Actor, Channel, Permission, citizen_for, current_actor, requires
from . import presenter, services
from .models import Basis

bp = Blueprint("assisted", __name__)

NO_REQUEST = _l("Nothing was saved: there is no active request from this citizen. "
                "Record their request first.")
# The kinds a helper registers, in the order of the citizen's home screen.
KINDS = (ActivityKind.APPLICATION, ActivityKind.COFFEE_MEETING, ActivityKind.NETWORK_LEAD,
         ActivityKind.PLANNED_JOB, ActivityKind.OTHER)


def _actor(purpose: str = services.PURPOSE_ASSIST) -> Actor:
    return Actor.of(current_user, Channel.ASSISTED, purpose=purpose)


def _unit(citizen_id: int) -> str | None:
    """The job café where the citizen is checked in today (if any): the audit row's unit."""
    return cafes.cafe_today(citizen_id, current_user.municipality_id, today())


def _citizen(citizen_id: int, action: str) -> User:
    """The citizen (404 outside the helper's municipality), the look-up audited."""
    return citizen_for(_actor(), citizen_id, action, unit=_unit(citizen_id))


def _citizen_to_change(citizen_id: int) -> User:
    """The citizen for a request that may change their data: one audit row when the answer
    is made, a change if something was saved (``_changed``), otherwise a read, so the
    citizen's log never says their information changed when nothing was saved."""
    unit = _unit(citizen_id)
    citizen = citizen_for(_actor(), citizen_id, "change", unit=unit, audit_allowed=False)
    g.assisted_changed = False

    @after_this_request
    def log(response: Response) -> Response:
        audit.record(_actor(), AuditAction.CHANGE if g.assisted_changed else AuditAction.READ,
                     citizen_id=citizen.id, unit=unit)
        return response

    return citizen


def _changed() -> None:
    g.assisted_changed = True


def _second(citizen: User) -> str | None:
    """The citizen's language when it is not the helper's: the form shows both."""
    return citizen.language if citizen.language != current_language() else None


def _kind(value: str) -> ActivityKind:
    try:
        return ActivityKind(value)
    except ValueError:
        abort(404)


# --- Staff: find a citizen ----------------------------------------------------------------
@bp.get("/staff/citizens")
@requires(Permission.CITIZEN_ASSIST)
def find():  # type: ignore[no-untyped-def]
    term = services.search_term(request.args.get("q", ""))
    found = None
    if term:
        audit.record(_actor(services.PURPOSE_FIND), AuditAction.SEARCH, search_term=term)
        found = services.find_citizens(current_user.municipality_id, term)
    return htmx.render("assisted/find.html", term=term, found=found)


# --- Staff: the citizen's assist page, and their request -----------------------------------
def _assist_page(citizen: User, status: int = 200, errors: dict | None = None,
                 form: dict | None = None) -> Response:
    day = today()
    active = services.active_request(citizen.id, day)
    return htmx.render(
        "assisted/assist.html", status=status, person=citizen, active=active,
        kinds=KINDS, kind_labels=KIND_LABELS, status_labels=STATUS_LABELS,
        basis_labels=presenter.BASIS_LABELS, bases=list(Basis),
        latest=activity_queries.home_lists(citizen.id, day).latest if active else [],
        latest_day=services.last_day(day), errors=errors or {}, form=form or {})


@bp.get("/staff/citizens/<int:citizen_id>/assist")
@requires(Permission.CITIZEN_ASSIST)
def start(citizen_id: int):  # type: ignore[no-untyped-def]
    return _assist_page(_citizen(citizen_id, "read"))


def _request_form() -> dict[str, str]:
    return {k: request.form.get(k, "")[:300] for k in ("basis", "representative", "until")}


def _asked() -> bool:
    return request.form.get("asked", "") in ("1", "on")


@bp.post("/staff/citizens/<int:citizen_id>/assist/request")
@requires(Permission.CITIZEN_ASSIST)
def record_request(citizen_id: int):  # type: ignore[no-untyped-def]
    citizen = _citizen_to_change(citizen_id)
    form = _request_form()
    try:
        services.record_request(_actor(), citizen, basis=form["basis"],
                                representative=form["representative"], until=form["until"],
                                asked=_asked(), today=today())
    except services.RequestError as exc:
        return _assist_page(citizen, 422, {exc.field: exc.message}, form)
    _changed()
    flash(_("The request is recorded. You can now register for the citizen."), "success")
    return redirect(url_for(".start", citizen_id=citizen.id), 303)


@bp.post("/staff/citizens/<int:citizen_id>/assist/renew")
@requires(Permission.CITIZEN_ASSIST)
def renew_request(citizen_id: int):  # type: ignore[no-untyped-def]
    citizen = _citizen_to_change(citizen_id)
    form = _request_form()
    try:
        services.renew_request(_actor(), citizen, until=form["until"], asked=_asked(),
                               today=today())
    except services.NoActiveRequest:
        flash(str(NO_REQUEST), "error")
        return redirect(url_for(".start", citizen_id=citizen.id), 303)
    except services.RequestError as exc:
        return _assist_page(citizen, 422, {"renew_" + exc.field: exc.message}, form)
    _changed()
    flash(_("The request is renewed."), "success")
    return redirect(url_for(".start", citizen_id=citizen.id), 303)


@bp.post("/staff/citizens/<int:citizen_id>/assist/end")
@requires(Permission.CITIZEN_ASSIST)
def end_request(citizen_id: int):  # type: ignore[no-untyped-def]
    citizen = _citizen_to_change(citizen_id)
    if services.withdraw(_actor(), citizen.id, today()):
        _changed()
        flash(_("The request is ended. You can no longer register for the citizen."),
              "success")
    return redirect(url_for(".start", citizen_id=citizen.id), 303)


# --- Staff: register an entry for the citizen ----------------------------------------------
def _form(citizen: User, kind: ActivityKind, values: dict, *, errors: dict | None = None,
          status: int = 200, client_uuid: str, fresh: bool = False) -> Response:
    return htmx.render(
        "assisted/form.html", "activities/_form.html", status=status, person=citizen,
        kind=kind, kind_label=KIND_LABELS[kind], fields=SCHEMAS[kind], values=values,
        errors=errors or {}, client_uuid=client_uuid, fresh=fresh, assisted=True,
        second=_second(citizen),
        action=url_for(".create_entry", citizen_id=citizen.id, kind=kind.value),
        recent_employers=activities.recent_employers(citizen.id)
        if kind in (ActivityKind.APPLICATION, ActivityKind.PLANNED_JOB) else [])


@bp.get("/staff/citizens/<int:citizen_id>/new/<kind>")
@requires(Permission.CITIZEN_ASSIST)
def new_entry(citizen_id: int, kind: str):  # type: ignore[no-untyped-def]
    citizen = _citizen(citizen_id, "read")
    k = _kind(kind)
    if services.active_request(citizen.id, today()) is None:
        flash(str(NO_REQUEST), "error")
        return redirect(url_for(".start", citizen_id=citizen.id), 303)
    return _form(citizen, k, defaults_for(k, today()), client_uuid=str(uuid.uuid4()),
                 fresh=True)


@bp.post("/staff/citizens/<int:citizen_id>/new/<kind>")
@requires(Permission.CITIZEN_ASSIST)
def create_entry(citizen_id: int, kind: str):  # type: ignore[no-untyped-def]
    citizen = _citizen_to_change(citizen_id)
    k = _kind(kind)
    try:
        client_uuid = uuid.UUID(request.form.get("client_uuid", "")[:100])
    except ValueError:
        client_uuid = uuid.uuid4()
    day = today()
    result = validate(k, request.form, day)
    if services.active_request(citizen.id, day) is None:
        return _form(citizen, k, result.data, status=409, client_uuid=str(client_uuid),
                     errors={"_form": NO_REQUEST})
    if not result.ok:
        return _form(citizen, k, result.data, errors=result.errors, status=422,
                     client_uuid=str(client_uuid))
    try:
        services.save_entry(_actor(), citizen, k, result.data, client_uuid=client_uuid,
                            today=day)
    except services.NoActiveRequest:  # ended while the helper typed
        return _form(citizen, k, result.data, status=409, client_uuid=str(client_uuid),
                     errors={"_form": NO_REQUEST})
    except activities.ConflictError:
        return _form(citizen, k, result.data, status=409, client_uuid=str(uuid.uuid4()),
                     errors={"_form": _l("This entry was already saved with other details. "
                                         "Check your list, then save again if you want a "
                                         "new entry.")})
    _changed()
    flash(bilingual(_l("Saved: %(kind)s", kind=KIND_LABELS[k]), _second(citizen)), "success")
    return htmx.location(url_for(".start", citizen_id=citizen.id))


# --- The citizen: their requests ------------------------------------------------------------
@bp.get("/assistance")
@requires(Permission.OWN_JOB_LOG)
def mine():  # type: ignore[no-untyped-def]
    day = today()
    lines = presenter.citizen_lines(services.requests_of(current_user.id), current_user.id, day)
    return htmx.render("assisted/mine.html", lines=lines,
                       active=any(line.state == "active" for line in lines))


@bp.post("/assistance/withdraw")
@requires(Permission.OWN_JOB_LOG)
def withdraw():  # type: ignore[no-untyped-def]
    if services.withdraw(current_actor(), current_user.id, today()):
        flash(_("Your request is withdrawn. Staff can no longer register for you."), "success")
    return redirect(url_for(".mine"), 303)
