"""Exemptions from registering job searches (LAS § 75, stk. 5; integrationsloven § 26 a,
stk. 4): granted and ended early by a caseworker, always with an end date.

An exemption frees the citizen from *registering*, not from searching. Only the legal
basis and the dates are kept: the reason may be health data and is never stored. Plain
functions: they flush, the request commits; every staff change goes through
``permissions.citizen_for(..., "change")``, which writes the audit row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..activities.forms import clean_text  # the same text cleaning as entries
from ..auth.models import User
from ..core.sqldates import overlap_days
from ..extensions import db
from ..models_base import utcnow
from ..permissions import Actor, citizen_for
from .models import Exemption, LegalBasis

# An exemption is renewed at least once a year; it may start a month back (granted late)
# and up to a year ahead.
MAX_LENGTH_DAYS = 366
MAX_DAYS_BACK = 31
MAX_DAYS_AHEAD = 365
NOTE_MAX = 300

LEGAL_BASIS_LABELS = {
    LegalBasis.LAS_75_5: _l("LAS § 75, stk. 5 (job-ready, exempt from registering)"),
    LegalBasis.INTEGRATION_26A_4: _l("Integration Act § 26 a, stk. 4"),
}


class ExemptionError(Exception):
    """Refused input: ``errors`` maps a field to a localized message."""

    def __init__(self, errors: Mapping[str, object]) -> None:
        super().__init__("exemption refused: " + ", ".join(errors))
        self.errors = dict(errors)


@dataclass(frozen=True)
class ExemptionInput:
    legal_basis: LegalBasis
    starts_on: date
    ends_on: date
    note: str | None


def _last_day() -> sa.ColumnElement[date]:
    return sa.func.coalesce(Exemption.ended_on, Exemption.ends_on)


def parse(form: Mapping[str, str], today: date) -> ExemptionInput:
    """Check a grant form; raises ``ExemptionError`` with every wrong field."""
    errors: dict[str, object] = {}
    try:
        basis = LegalBasis(form.get("legal_basis", ""))
    except ValueError:
        basis = None
        errors["legal_basis"] = _l("Choose the legal basis.")
    days: dict[str, date | None] = {}
    for name in ("starts_on", "ends_on"):
        raw = (form.get(name) or "").strip()
        if not raw:
            errors[name] = _l("Write a date. An exemption always has an end date.") \
                if name == "ends_on" else _l("Write a date.")
            days[name] = None
            continue
        try:
            days[name] = date.fromisoformat(raw)
        except ValueError:
            errors[name] = _l("Write the date like this: 2026-01-31.")
            days[name] = None
    start, end = days["starts_on"], days["ends_on"]
    if start and not errors.get("starts_on"):
        if start < today - timedelta(days=MAX_DAYS_BACK):
            errors["starts_on"] = _l("The start is more than a month ago. Check the date.")
        elif start > today + timedelta(days=MAX_DAYS_AHEAD):
            errors["starts_on"] = _l("The start is more than a year ahead. Check the year.")
    if start and end and "ends_on" not in errors:
        if end < start:
            errors["ends_on"] = _l("The end date must be on or after the start date.")
        elif (end - start).days + 1 > MAX_LENGTH_DAYS:
            errors["ends_on"] = _l("An exemption lasts at most a year. Renew it when it ends.")
        elif end < today:
            errors["ends_on"] = _l("The end date has passed. Check the date.")
    note = clean_text(str(form.get("note") or ""), multiline=True) or None
    if note and len(note) > NOTE_MAX:
        errors["note"] = _l("This is too long. Use at most %(max)s characters.", max=NOTE_MAX)
    if errors:
        raise ExemptionError(errors)
    assert basis is not None and start is not None and end is not None
    return ExemptionInput(basis, start, end, note)


def grant(actor: Actor, citizen_id: int, data: ExemptionInput) -> Exemption:
    """Grant an exemption (audited as a change of the citizen; 404 outside the actor's
    municipality). Raises ``ExemptionError`` when it overlaps one the citizen has. Flushes."""
    citizen = citizen_for(actor, citizen_id, "change")
    overlapping = db.session.scalar(sa.select(sa.func.count()).select_from(Exemption).where(
        Exemption.citizen_id == citizen.id, Exemption.starts_on <= data.ends_on,
        _last_day() >= data.starts_on))
    if overlapping:
        raise ExemptionError({"starts_on": _l(
            "The citizen already has an exemption in this period. End it first, or choose "
            "other dates.")})
    exemption = Exemption(citizen_id=citizen.id, municipality_id=citizen.municipality_id,
                          legal_basis=data.legal_basis, starts_on=data.starts_on,
                          ends_on=data.ends_on, note=data.note, granted_by_id=actor.user_id,
                          granted_at=utcnow())
    db.session.add(exemption)
    db.session.flush()
    return exemption


def end_early(actor: Actor, citizen_id: int, exemption_id: int, today: date) -> Exemption:
    """End an exemption: from today the citizen registers again (an exemption that has not
    begun never takes effect). Raises ``LookupError`` for an exemption that is not this
    citizen's, ``ExemptionError`` for one already over. Flushes."""
    citizen = citizen_for(actor, citizen_id, "change")
    exemption = db.session.get(Exemption, exemption_id)
    if exemption is None or exemption.citizen_id != citizen.id:
        raise LookupError("no such exemption for this citizen")
    if exemption.last_day < today:
        raise ExemptionError({"exemption": _l("This exemption has already ended.")})
    exemption.ended_on = max(today, exemption.starts_on) - timedelta(days=1)
    exemption.ended_early_at = utcnow()
    exemption.ended_early_by_id = actor.user_id
    db.session.flush()
    return exemption


def exempt_days(citizen_id: int, start: date, end: date) -> int:
    """How many days of [start, end] the citizen is exempt."""
    return int(db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(
            overlap_days(Exemption.starts_on, _last_day(), start, end)), 0))
        .where(Exemption.citizen_id == citizen_id)) or 0)


def current(citizen_id: int, day: date) -> Exemption | None:
    """The exemption that covers ``day``, if any."""
    return db.session.scalar(sa.select(Exemption).where(
        Exemption.citizen_id == citizen_id, Exemption.starts_on <= day, _last_day() >= day))


def is_exempt(citizen_id: int, day: date) -> bool:
    return current(citizen_id, day) is not None


def exempt_until_column(citizen_id: sa.ColumnElement[int], day: sa.ColumnElement[date] | date
                        ) -> sa.ScalarSelect[date]:
    """For statements that read a citizen: the last day of the exemption covering ``day``
    (NULL when none). The home screen's figures use it, so the smiley knows."""
    return sa.select(_last_day()).where(
        Exemption.citizen_id == citizen_id, Exemption.starts_on <= day, _last_day() >= day
    ).limit(1).scalar_subquery()


def of_citizen(citizen_id: int) -> list[Exemption]:
    """The citizen's exemptions, newest first."""
    return list(db.session.scalars(sa.select(Exemption).where(Exemption.citizen_id == citizen_id)
                                   .order_by(Exemption.starts_on.desc(), Exemption.id.desc())))


@dataclass(frozen=True)
class EndingSoon:
    exemption_id: int
    citizen_id: int
    citizen_name: str
    last_day: date
    legal_basis: LegalBasis


def ending_soon(municipality_id: int, today: date, days: int = 14) -> list[EndingSoon]:
    """Running exemptions of the municipality whose last day is within ``days`` days, the
    soonest first, so none lapses unnoticed."""
    last = _last_day()
    rows = db.session.execute(
        sa.select(Exemption.id, Exemption.citizen_id, User.name, last, Exemption.legal_basis)
        .join(User, User.id == Exemption.citizen_id)
        .where(Exemption.municipality_id == municipality_id, User.is_active.is_(True),
               Exemption.starts_on <= today, last >= today,
               last <= today + timedelta(days=days))
        .order_by(last, User.name))
    return [EndingSoon(*row) for row in rows]
