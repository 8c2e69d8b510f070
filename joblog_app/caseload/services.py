"""The caseworker's records about a citizen (assignment, note and follow-up date, the
interpreter flag) and the caseworker's saved work-list filters. Plain functions: they
flush, the request commits; every change of a citizen's case goes through
``permissions.citizen_for(..., "change")``, which writes the audit row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..activities.forms import clean_text
from ..auth.models import Role, User
from ..extensions import db
from ..models_base import utcnow
from ..permissions import Actor, citizen_for
from . import worklist
from .models import FILTER_NAME_MAX, FILTER_QUERY_MAX, NOTE_MAX, CaseFile, SavedFilter

FOLLOW_UP_MAX_DAYS = 366
MAX_SAVED_FILTERS = 30


class CaseError(Exception):
    """Refused input: ``errors`` maps a field to a localized message."""

    def __init__(self, errors: Mapping[str, object]) -> None:
        super().__init__("refused: " + ", ".join(errors))
        self.errors = dict(errors)


@dataclass(frozen=True)
class CaseInput:
    assigned_to_id: int | None
    needs_interpreter: bool
    note: str | None
    follow_up_on: date | None


def caseworkers_of(municipality_id: int) -> list[User]:
    """The active caseworkers of a municipality: whom a citizen can be assigned to."""
    return list(db.session.scalars(sa.select(User).where(
        User.municipality_id == municipality_id, User.role == Role.CASEWORKER,
        User.is_active.is_(True)).order_by(User.name, User.id)))


def parse_case(form: Mapping[str, str], today: date, municipality_id: int) -> CaseInput:
    """Check the case form; raises ``CaseError`` with every wrong field."""
    errors: dict[str, object] = {}
    raw = (form.get("assigned_to") or "").strip()
    assigned: int | None = None
    if raw:
        ids = {u.id for u in caseworkers_of(municipality_id)}
        if raw.isascii() and raw.isdigit() and len(raw) < 12 and int(raw) in ids:
            assigned = int(raw)
        else:
            errors["assigned_to"] = _l("Choose a caseworker from the list.")
    follow_up: date | None = None
    raw_day = (form.get("follow_up_on") or "").strip()
    if raw_day:
        try:
            follow_up = date.fromisoformat(raw_day)
        except ValueError:
            errors["follow_up_on"] = _l("Write the date like this: 2026-01-31.")
        else:
            if follow_up < today - timedelta(days=31):
                errors["follow_up_on"] = _l("The date is more than a month ago. Check the date.")
            elif follow_up > today + timedelta(days=FOLLOW_UP_MAX_DAYS):
                errors["follow_up_on"] = _l("The date is more than a year ahead. Check the year.")
    note = clean_text(str(form.get("note") or ""), multiline=True) or None
    if note and len(note) > NOTE_MAX:
        errors["note"] = _l("This is too long. Use at most %(max)s characters.", max=NOTE_MAX)
    if errors:
        raise CaseError(errors)
    return CaseInput(assigned, form.get("needs_interpreter") in ("1", "on", "yes"), note,
                     follow_up)


def case_file(citizen_id: int) -> CaseFile | None:
    return db.session.get(CaseFile, citizen_id)


def update_case(actor: Actor, citizen_id: int, data: CaseInput) -> CaseFile:
    """Save the citizen's case (audited as a change; 404 outside the actor's
    municipality). Flushes."""
    citizen = citizen_for(actor, citizen_id, "change")
    row = db.session.get(CaseFile, citizen.id)
    if row is None:
        row = CaseFile(citizen_id=citizen.id, municipality_id=citizen.municipality_id)
        db.session.add(row)
    row.assigned_to_id = data.assigned_to_id
    row.needs_interpreter = data.needs_interpreter
    row.note = data.note
    row.follow_up_on = data.follow_up_on
    row.updated_at = utcnow()
    row.updated_by_id = actor.user_id
    db.session.flush()
    return row


def assign_to_me(actor: Actor, citizen_id: int) -> CaseFile:
    """Take the citizen: the actor becomes their caseworker (the rest unchanged)."""
    citizen = citizen_for(actor, citizen_id, "change")
    row = db.session.get(CaseFile, citizen.id)
    if row is None:
        row = CaseFile(citizen_id=citizen.id, municipality_id=citizen.municipality_id)
        db.session.add(row)
    row.assigned_to_id = actor.user_id
    row.updated_at = utcnow()
    row.updated_by_id = actor.user_id
    db.session.flush()
    return row


def normalise_query(raw: str) -> str:
    """A work-list query string made canonical (only known, valid filters; no page), or
    ``FilterError`` for a wrong one: what a saved filter stores."""
    args = dict(parse_qsl(raw.lstrip("?"), keep_blank_values=False)[:20])
    filters = worklist.parse_filters(args)
    return urlencode(filters.query(page=1))


def saved_filters(owner_id: int) -> list[SavedFilter]:
    return list(db.session.scalars(sa.select(SavedFilter).where(SavedFilter.owner_id == owner_id)
                                   .order_by(SavedFilter.name, SavedFilter.id)))


def save_filter(owner_id: int, name: str, query: str) -> SavedFilter:
    """Save (or replace, by name) a caseworker's filter. Raises ``CaseError``. Flushes."""
    errors: dict[str, object] = {}
    clean = clean_text(name or "", multiline=False)
    if not clean:
        errors["name"] = _l("Give the filter a name.")
    elif len(clean) > FILTER_NAME_MAX:
        errors["name"] = _l("This is too long. Use at most %(max)s characters.",
                            max=FILTER_NAME_MAX)
    try:
        canonical = normalise_query(query or "")
    except worklist.FilterError:
        errors["query"] = _l("These filters cannot be saved. Correct them first.")
        canonical = ""
    if len(canonical) > FILTER_QUERY_MAX:
        errors["query"] = _l("These filters cannot be saved. Correct them first.")
    if errors:
        raise CaseError(errors)
    row = db.session.scalar(sa.select(SavedFilter).where(SavedFilter.owner_id == owner_id,
                                                         SavedFilter.name == clean))
    if row is None:
        count = db.session.scalar(sa.select(sa.func.count()).select_from(SavedFilter)
                                  .where(SavedFilter.owner_id == owner_id)) or 0
        if count >= MAX_SAVED_FILTERS:
            raise CaseError({"name": _l("You have %(max)s saved filters. Delete one first.",
                                        max=MAX_SAVED_FILTERS)})
        row = SavedFilter(owner_id=owner_id, name=clean, query=canonical)
        db.session.add(row)
    else:
        row.query = canonical
    db.session.flush()
    return row


def delete_filter(owner_id: int, filter_id: int) -> bool:
    """Delete one of the owner's filters; False when it is not theirs (or gone)."""
    row = db.session.get(SavedFilter, filter_id)
    if row is None or row.owner_id != owner_id:
        return False
    db.session.delete(row)
    db.session.flush()
    return True
