"""Reminders before an exemption lapses (issue 12): which exemptions are due a reminder,
whom to remind, and marking one as reminded. Plain functions (they flush); the worker job
in jobs.py sends and commits.

Whom: the citizen's assigned caseworker (models.CaseFile), else the caseworker who granted
the exemption, if still an active caseworker of the municipality. The message names no
citizen (an e-mail leaves our systems): it says that an exemption ends on a day and links
to the work list, where the list "ends within 14 days" names them after login."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..auth.models import Role, User
from ..citizens.models import Exemption
from ..extensions import db
from ..models_base import utcnow
from .models import CaseFile, ExemptionReminder

REMIND_DAYS = 14  # as the work list's "ends within 14 days"


@dataclass(frozen=True)
class DueReminder:
    exemption_id: int
    last_day: date
    caseworker_id: int | None
    email: str | None
    language: str


def _last_day() -> sa.ColumnElement[date]:
    return sa.func.coalesce(Exemption.ended_on, Exemption.ends_on)


def due_statement(today: date) -> sa.Select[tuple]:
    """Running exemptions that end within ``REMIND_DAYS`` days with no reminder yet."""
    citizen = aliased(User, name="citizen")
    return (sa.select(Exemption.id, _last_day().label("last_day"), Exemption.granted_by_id,
                      Exemption.municipality_id, CaseFile.assigned_to_id)
            .join(citizen, citizen.id == Exemption.citizen_id)
            .outerjoin(CaseFile, CaseFile.citizen_id == Exemption.citizen_id)
            .where(citizen.is_active.is_(True), _last_day() >= today,
                   _last_day() <= today + timedelta(days=REMIND_DAYS),
                   Exemption.starts_on <= _last_day(),
                   ~sa.exists().where(ExemptionReminder.exemption_id == Exemption.id))
            .order_by(_last_day(), Exemption.id))


def _caseworker(user_id: int | None, municipality_id: int) -> User | None:
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.role != Role.CASEWORKER or \
            user.municipality_id != municipality_id:
        return None
    return user


def claim_next(today: date) -> DueReminder | None:
    """Claim one due exemption: writes its reminder row (flushes) and says whom to tell.
    On PostgreSQL the exemption row is locked (SKIP LOCKED), so two workers never claim
    the same one; the primary key on the reminder makes it once per exemption anyway."""
    stmt = due_statement(today).limit(1)
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Exemption, skip_locked=True)
    row = db.session.execute(stmt).first()
    if row is None:
        return None
    worker = _caseworker(row.assigned_to_id, row.municipality_id) or \
        _caseworker(row.granted_by_id, row.municipality_id)
    db.session.add(ExemptionReminder(exemption_id=row.id,
                                     caseworker_id=worker.id if worker else None,
                                     sent_at=utcnow(), by_email=False))
    db.session.flush()
    return DueReminder(row.id, row.last_day, worker.id if worker else None,
                       worker.email if worker else None, worker.language if worker else "da")


def mark_emailed(exemption_id: int) -> None:
    db.session.execute(sa.update(ExemptionReminder)
                       .where(ExemptionReminder.exemption_id == exemption_id)
                       .values(by_email=True))
    db.session.flush()


def ending_count(municipality_id: int, today: date) -> int:
    """How many running exemptions of the municipality end within ``REMIND_DAYS`` days
    (the staff home shows it)."""
    return int(db.session.scalar(
        sa.select(sa.func.count()).select_from(Exemption)
        .join(User, User.id == Exemption.citizen_id)
        .where(Exemption.municipality_id == municipality_id, User.is_active.is_(True),
               Exemption.starts_on <= today, _last_day() >= today,
               _last_day() <= today + timedelta(days=REMIND_DAYS))) or 0)
