"""Writing the audit log and reading it back: for the citizen (who looked, when, why) and
for retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models_base import utcnow
from ..permissions import Actor
from .models import AuditAction, AuditEntry, AuditOutcome

# A search term is kept to say what was looked for, cut so a pasted text cannot fill the log.
MAX_TERM = 120


def record(actor: Actor, action: AuditAction, *, citizen_id: int | None = None,
           search_term: str | None = None, outcome: AuditOutcome = AuditOutcome.ALLOWED,
           unit: str | None = None) -> AuditEntry:
    """Write one audit row in the current transaction (it commits, or rolls back, with what
    it records). Only staff are audited: a citizen's own use of their data is not a look-up."""
    if not actor.is_staff:
        raise ValueError("only staff actions are audited")
    entry = AuditEntry(staff_user_id=actor.user_id, staff_role=actor.role.value,
                       municipality_id=actor.municipality_id, unit=unit, action=action,
                       outcome=outcome, citizen_id=citizen_id,
                       search_term=search_term[:MAX_TERM] if search_term else None,
                       channel=actor.channel.value, purpose=actor.purpose, at=utcnow())
    db.session.add(entry)
    db.session.flush()
    return entry


@dataclass(frozen=True)
class LookUp:
    """What a citizen is shown of the rows of one day alike (what, which role, where, why):
    the last time and how many times; never the staff member's name (Datatilsynet's 2024
    practice on access to log files)."""

    at: datetime
    action: AuditAction
    role: str
    unit: str | None
    purpose: str | None
    times: int = 1


def citizen_log(citizen_id: int, limit: int = 200) -> list[LookUp]:
    """The allowed look-ups and changes of this citizen's data, newest first. A session
    screen reloaded ten times is one line "10 times", not ten (the log itself keeps every
    row)."""
    day = sa.cast(AuditEntry.at, sa.Date)
    rows = db.session.execute(
        sa.select(sa.func.max(AuditEntry.at), AuditEntry.action, AuditEntry.staff_role,
                  AuditEntry.unit, AuditEntry.purpose, sa.func.count())
        .where(AuditEntry.citizen_id == citizen_id, AuditEntry.outcome == AuditOutcome.ALLOWED)
        .group_by(day, AuditEntry.action, AuditEntry.staff_role, AuditEntry.unit,
                  AuditEntry.purpose)
        .order_by(sa.func.max(AuditEntry.at).desc(), sa.func.max(AuditEntry.id).desc())
        .limit(limit))
    return [LookUp(*row) for row in rows]


def delete_expired(retention: timedelta, now: datetime | None = None, batch: int = 1000) -> int:
    """Delete up to ``batch`` rows older than ``retention``; returns how many. Flushes."""
    cutoff = (now or utcnow()) - retention
    ids = sa.select(AuditEntry.id).where(AuditEntry.at < cutoff).order_by(AuditEntry.id) \
        .limit(batch).scalar_subquery()
    result = db.session.execute(sa.delete(AuditEntry).where(AuditEntry.id.in_(ids))
                                .execution_options(synchronize_session=False))
    return result.rowcount or 0  # type: ignore[attr-defined]


def record_many(actor: Actor, action: AuditAction, citizen_ids: list[int], *,
                search_term: str | None = None) -> int:
    """One row per citizen for a list taken out at once (an export), in one statement, so
    each citizen sees it in their own access log. Returns how many rows."""
    if not actor.is_staff:
        raise ValueError("only staff actions are audited")
    if not citizen_ids:
        return 0
    at = utcnow()
    db.session.execute(sa.insert(AuditEntry), [
        {"staff_user_id": actor.user_id, "staff_role": actor.role.value,
         "municipality_id": actor.municipality_id, "action": action,
         "outcome": AuditOutcome.ALLOWED, "citizen_id": citizen_id,
         "search_term": search_term[:MAX_TERM] if search_term else None,
         "channel": actor.channel.value, "purpose": actor.purpose, "at": at}
        for citizen_id in citizen_ids])
    return len(citizen_ids)
