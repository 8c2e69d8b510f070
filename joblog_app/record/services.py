"""Record delivery as people see it: per entry, per citizen, for administrators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..activities.models import Activity, RecordState
from ..auth.models import Municipality, User
from ..citizens import services as citizens
from ..extensions import db
from ..models_base import utcnow
from .models import RecordGatewayKind, RecordSettings

ON_THE_WAY = (RecordState.PENDING, RecordState.SENDING, RecordState.WAITING)


@dataclass(frozen=True)
class CitizenSync:
    on_the_way: int
    failed: int
    waiting_reason: str | None  # no_cpr / no_gateway when entries cannot be sent


def sync_columns() -> tuple[sa.ColumnElement[Any], ...]:
    """``on_the_way``, ``failed`` and ``waiting_reason`` as aggregates over a citizen's entries
    (all of them, deleted ones too: a deletion travels as a cancellation)."""
    state = Activity.__table__.c.record_state
    return (
        sa.func.count(sa.case((state.in_(ON_THE_WAY), 1))).label("on_the_way"),
        sa.func.count(sa.case((state == RecordState.FAILED, 1))).label("failed"),
        # One of the reasons why entries wait (no_cpr / no_gateway), or None.
        sa.func.max(sa.case((state == RecordState.WAITING, Activity.__table__.c.record_error)))
        .label("waiting_reason"),
    )


# Built once: a request only executes it (one statement, no ORM).
_CITIZEN_SYNC = sa.select(*sync_columns()).where(
    Activity.__table__.c.citizen_id == sa.bindparam("citizen_id", type_=sa.Integer))


def citizen_sync(citizen_id: int) -> CitizenSync:
    row = db.session.execute(_CITIZEN_SYNC, {"citizen_id": citizen_id}).one()
    return CitizenSync(row.on_the_way, row.failed, row.waiting_reason)


def set_cpr(user: User, raw_cpr: str) -> str:
    """Put the citizen's CPR number on file (``citizens.store_cpr``, which releases the
    entries that waited for it); returns the number masked. Flushes."""
    return citizens.store_cpr(user.id, raw_cpr)


def release_waiting(citizen_id: int) -> int:
    """The citizen's entries that waited (no CPR number) are due again. Flushes."""
    return _requeue(sa.and_(Activity.citizen_id == citizen_id,
                            Activity.record_state == RecordState.WAITING))


def gateway_kind(municipality_id: int) -> RecordGatewayKind:
    settings = db.session.get(RecordSettings, municipality_id)
    return settings.gateway if settings else RecordGatewayKind.NONE


def gateway_kinds(municipality_ids: set[int]) -> dict[int, RecordGatewayKind]:
    """Each municipality's gateway (``NONE`` where none is set), in one query."""
    rows = db.session.execute(sa.select(RecordSettings.municipality_id, RecordSettings.gateway)
                              .where(RecordSettings.municipality_id.in_(municipality_ids)))
    kinds = {m: RecordGatewayKind.NONE for m in municipality_ids}
    kinds.update({m: kind for m, kind in rows})
    return kinds


def set_gateway(municipality: Municipality, kind: RecordGatewayKind) -> None:
    """Choose how a municipality's entries reach the record and release the entries that
    waited for a gateway. Flushes (the caller commits)."""
    settings = db.session.get(RecordSettings, municipality.id)
    if settings is None:
        settings = RecordSettings(municipality_id=municipality.id)
        db.session.add(settings)
    settings.gateway = kind
    db.session.flush()
    in_municipality = sa.select(User.id).where(User.municipality_id == municipality.id)
    _requeue(sa.and_(Activity.citizen_id.in_(in_municipality),
                     Activity.record_state == RecordState.WAITING))


def retry_failed(activity_ids: list[int] | None = None) -> int:
    """Send failed entries again (after staff fixed the cause); returns how many. Flushes
    (the caller commits)."""
    condition = Activity.record_state == RecordState.FAILED
    if activity_ids is not None:
        condition = sa.and_(condition, Activity.id.in_(activity_ids))
    return _requeue(condition)


def retry_failed_of(citizen_id: int) -> int:
    """Send one citizen's failed entries again (a caseworker fixed the cause, from the
    citizen overview); returns how many. Flushes."""
    return _requeue(sa.and_(Activity.citizen_id == citizen_id,
                            Activity.record_state == RecordState.FAILED))


def _requeue(condition: sa.ColumnElement[bool]) -> int:
    result = db.session.execute(
        sa.update(Activity).where(condition)
        .values(record_state=RecordState.PENDING, record_next_attempt_at=None,
                record_attempts=0, record_error=None, updated_at=Activity.updated_at)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0  # type: ignore[attr-defined]


def counts_by_state() -> dict[str, int]:
    return {str(state): n for state, n in db.session.execute(
        sa.select(Activity.record_state, sa.func.count(Activity.id)).group_by(Activity.record_state)
    ).all()}


def failed_entries(limit: int = 100) -> list[Activity]:
    return list(db.session.scalars(
        sa.select(Activity).where(Activity.record_state == RecordState.FAILED)
        .order_by(Activity.updated_at.desc()).limit(limit)))


@dataclass(frozen=True)
class QueueHealth:
    depth: int  # pending or being sent
    oldest_pending_seconds: float | None
    waiting: int  # cannot be sent yet (no CPR number, no gateway): staff must act
    failed: int  # refused by the record: staff must act (flask record status lists them)


def database_alive() -> None:
    """Raises SQLAlchemyError when the database does not answer."""
    db.session.execute(sa.text("SELECT 1"))


def queue_health(now: datetime | None = None) -> QueueHealth:
    """The relay's queue. The age of a pending entry counts from when it last changed
    (``updated_at``: created, or edited after it was synced); the relay's own retries do not
    touch that, so an entry that keeps failing grows older, and one edited long after it was
    created is not reported as stuck since its creation."""
    now = now or utcnow()
    on_the_way = Activity.record_state.in_([RecordState.PENDING, RecordState.SENDING])
    depth, oldest, waiting, failed = db.session.execute(
        sa.select(sa.func.count(sa.case((on_the_way, 1))),
                  sa.func.min(sa.case((on_the_way, Activity.updated_at))),
                  sa.func.count(sa.case((Activity.record_state == RecordState.WAITING, 1))),
                  sa.func.count(sa.case((Activity.record_state == RecordState.FAILED, 1))))
    ).one()
    return QueueHealth(depth, (now - oldest).total_seconds() if oldest else None, waiting,
                       failed)
