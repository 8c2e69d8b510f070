"""Recorded requests (record, renew, end or withdraw, the one active today), finding a
citizen, and saving an entry for them. Plain functions: they flush, the request commits.

Assisted registration rests on law, not consent: a helper registers for a citizen only
while a recorded request is active (Integrationsloven § 26 a, stk. 6, or representation
under Forvaltningsloven § 8). The views reach the citizen through
``permissions.citizen_for``, which writes the audit row; these functions trust that."""

from __future__ import annotations

import calendar
import uuid
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..activities import services as activities
from ..activities.forms import clean_text
from ..activities.models import ActivityKind
from ..auth.models import Role, User
from ..extensions import db
from ..models_base import utcnow
from ..permissions import Actor, Channel
from .models import AssistanceRequest, Basis

MAX_MONTHS = 6
MAX_NAME = 120
MAX_TERM = 120
# The purposes written to the audit log (audit/presenter.py words them for the citizen).
PURPOSE_ASSIST = "assisted_registration"
PURPOSE_FIND = "find_citizen"


class RequestError(Exception):
    """A request that cannot be recorded as asked; ``field`` names the form field."""

    def __init__(self, field: str, message: object) -> None:
        super().__init__(f"assistance request refused: {field}")
        self.field, self.message = field, message


class NoActiveRequest(Exception):
    """No request is active today (never recorded, expired or withdrawn): nothing saved."""


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (31 August → 28 February)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return day.replace(year=year, month=month,
                       day=min(day.day, calendar.monthrange(year, month)[1]))


def last_day(start: date) -> date:
    """The last day a request starting on ``start`` may cover: six months, days included."""
    return add_months(start, MAX_MONTHS) - timedelta(days=1)


def _until(raw: str | date | None, start: date) -> date:
    latest = last_day(start)
    if raw is None or raw == "":
        return latest
    if isinstance(raw, date):
        day = raw
    else:
        try:
            day = date.fromisoformat(clean_text(str(raw)[:40], multiline=False))
        except ValueError:
            raise RequestError("until", _l("Write the date like this: 2026-01-31.")) from None
    if day < start:
        raise RequestError("until", _l("The end date is before today. Choose a later day."))
    if day > latest:
        raise RequestError("until", _l("A request lasts at most six months. Choose a day up to "
                                       "%(day)s.", day=latest.isoformat()))
    return day


def active_request(citizen_id: int, today: date) -> AssistanceRequest | None:
    """The request that lets staff register for the citizen today, or None. The last day
    is included; the day after it, the request has expired."""
    return db.session.scalar(
        sa.select(AssistanceRequest)
        .where(AssistanceRequest.citizen_id == citizen_id,
               AssistanceRequest.withdrawn_at.is_(None),
               AssistanceRequest.valid_from <= today, AssistanceRequest.valid_until >= today)
        .order_by(AssistanceRequest.valid_until.desc(), AssistanceRequest.id.desc()).limit(1))


def requests_of(citizen_id: int) -> list[AssistanceRequest]:
    """Every recorded request of the citizen, newest first (renewals keep the history)."""
    return list(db.session.scalars(
        sa.select(AssistanceRequest).where(AssistanceRequest.citizen_id == citizen_id)
        .order_by(AssistanceRequest.recorded_at.desc(), AssistanceRequest.id.desc())))


def record_request(actor: Actor, citizen: User, *, basis: str, representative: str = "",
                   until: str | date | None = None, asked: bool = False,
                   today: date) -> AssistanceRequest:
    """Record that the citizen asked for help (or is represented), from today until
    ``until`` (default and at most six months). ``asked``: the helper confirms the citizen
    asked in person. Refused while another request is active (renew that one). Flushes."""
    if not actor.is_staff or citizen.municipality_id != actor.municipality_id:
        raise PermissionError("only staff of the citizen's municipality record a request")
    try:
        chosen = Basis(basis)
    except ValueError:
        raise RequestError("basis", _l("Choose why you may help.")) from None
    name = " ".join(clean_text(representative or "", multiline=False).split())
    if chosen == Basis.FVL_8 and not name:
        raise RequestError("representative", _l("Write the name of the person who represents "
                                                "the citizen."))
    if len(name) > MAX_NAME:
        raise RequestError("representative", _l("This is too long. Use at most %(max)s "
                                                "characters.", max=MAX_NAME))
    end = _until(until, today)
    if not asked:
        raise RequestError("asked", _l("Tick the box when the citizen has asked you in "
                                       "person."))
    if active_request(citizen.id, today) is not None:
        raise RequestError("_form", _l("There is already a request. Renew it or end it."))
    return _add(actor, citizen, chosen, name if chosen == Basis.FVL_8 else None, today, end)


def renew_request(actor: Actor, citizen: User, *, until: str | date | None = None,
                  asked: bool = False, today: date) -> AssistanceRequest:
    """A new request from today on the same basis, pointing at the active one it renews
    (which stays, as history). Refused without an active request. Flushes."""
    if not actor.is_staff or citizen.municipality_id != actor.municipality_id:
        raise PermissionError("only staff of the citizen's municipality renew a request")
    current = active_request(citizen.id, today)
    if current is None:
        raise NoActiveRequest
    end = _until(until, today)
    if not asked:
        raise RequestError("asked", _l("Tick the box when the citizen has asked you in "
                                       "person."))
    return _add(actor, citizen, current.basis, current.representative, today, end,
                renews=current)


def _add(actor: Actor, citizen: User, basis: Basis, representative: str | None, start: date,
         end: date, renews: AssistanceRequest | None = None) -> AssistanceRequest:
    request = AssistanceRequest(
        citizen_id=citizen.id, municipality_id=citizen.municipality_id, basis=basis,
        representative=representative, recorded_by_id=actor.user_id,
        recorded_by_role=actor.role.value, recorded_at=utcnow(), valid_from=start,
        valid_until=end, renews_id=renews.id if renews else None)
    db.session.add(request)
    db.session.flush()
    return request


def withdraw(actor: Actor, citizen_id: int, today: date) -> int:
    """End every request active today: the citizen withdraws, or staff end it. From now on
    no one registers for the citizen until a new request is recorded. Returns how many
    ended (0 when none was active). Flushes."""
    if not actor.is_staff and actor.user_id != citizen_id:
        raise PermissionError("a citizen withdraws only their own request")
    ended = 0
    now = utcnow()
    for request in requests_of(citizen_id):
        if request.active_on(today):
            request.withdrawn_at, request.withdrawn_by_id = now, actor.user_id
            request.withdrawn_by_role = actor.role.value
            ended += 1
    db.session.flush()
    return ended


def save_entry(actor: Actor, citizen: User, kind: ActivityKind, data: dict[str, Any], *,
               client_uuid: uuid.UUID, today: date) -> activities.Saved:
    """Save an entry for the citizen through the assisted channel, only under a request
    active today (else ``NoActiveRequest``, nothing saved). Flushes."""
    if actor.channel != Channel.ASSISTED or not actor.is_staff:
        raise PermissionError("assisted entries are made by staff through the assisted channel")
    if active_request(citizen.id, today) is None:
        raise NoActiveRequest
    return activities.create_activity(citizen.id, kind, data, actor=actor,
                                      client_uuid=client_uuid)


def search_term(raw: str) -> str:
    """What was searched for, as it is matched and logged: no control characters, one space
    between words, at most ``MAX_TERM`` characters."""
    return " ".join(clean_text((raw or "")[:MAX_TERM * 4], multiline=False).split())[:MAX_TERM]


def find_citizens(municipality_id: int, term: str, limit: int = 20) -> list[User]:
    """Active citizens of the municipality whose name, e-mail or phone number contains
    ``term`` (at least two characters; a phone number by its digits)."""
    term = search_term(term)
    if len(term) < 2:
        return []
    like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    matches = [User.name.ilike(like, escape="\\"), User.email.ilike(like, escape="\\")]
    digits = "".join(ch for ch in term if ch in "0123456789")
    if len(digits) >= 4 and len(digits) == len(term.replace(" ", "").lstrip("+")):
        matches.append(User.phone.like(f"%{digits}%"))
    return list(db.session.scalars(
        sa.select(User).where(User.municipality_id == municipality_id,
                              User.role == Role.CITIZEN, User.is_active.is_(True),
                              sa.or_(*matches))
        .order_by(User.name, User.id).limit(limit)))
