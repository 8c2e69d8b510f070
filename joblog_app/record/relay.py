"""The relay: claims due activities, delivers them through the gateway, records outcomes.

State lives in the activity rows (transactional outbox): a claim is a lease, so a worker
killed mid-batch loses nothing; another worker re-claims after the lease and resends with
the same request id, which the record answers 412 and we resolve to the stored record.
On PostgreSQL claims use ``FOR UPDATE SKIP LOCKED`` so any number of workers can run.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import uuid5

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from ..activities.models import Activity, RecordState
from ..auth.models import Municipality, RecordGatewayKind, User
from ..extensions import db
from ..models_base import utcnow
from . import cpr as cpr_numbers
from .export import ExportGateway
from .gateway import Delivery, HttpGateway, Op, Outcome, RecordGateway, Result
from .payload import entry_body, is_sent

log = logging.getLogger("joblog.record")

BACKOFF_BASE = 2.0  # seconds
BACKOFF_CAP = 3600.0
WAIT_NO_CPR = "no_cpr"
WAIT_NO_GATEWAY = "no_gateway"


@dataclass
class RelayStats:
    claimed: int = 0
    synced: int = 0
    retried: int = 0
    failed: int = 0
    waiting: int = 0
    local: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


_JITTER = random.SystemRandom()


def backoff(attempts: int, retry_after: float | None, rng: random.Random = _JITTER) -> timedelta:
    """Truncated exponential backoff with jitter; never sooner than Retry-After."""
    delay = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** min(attempts, 20)) * rng.uniform(0.5, 1.0)
    return timedelta(seconds=max(delay, retry_after or 0.0))


class Gateways:
    """One gateway object per kind, reused across batches (HTTP keeps its connections)."""

    def __init__(self) -> None:
        cfg = current_app.config
        self._http: HttpGateway | None = None
        self._cfg = {k: cfg[k] for k in cfg if k.startswith("RECORD_")}

    def for_municipality(self, municipality: Municipality) -> RecordGateway | None:
        kind = municipality.record_gateway
        if kind == RecordGatewayKind.HTTP:
            if self._http is None:
                c = self._cfg
                self._http = HttpGateway(c["RECORD_HTTP_URL"], str(c["RECORD_CLIENT_ID"]),
                                         str(c["RECORD_CLIENT_SECRET"]), c["RECORD_TOKEN_URL"],
                                         float(c["RECORD_TIMEOUT"]),
                                         pool_size=int(c["RECORD_SEND_THREADS"]) * 2)
            return self._http
        if kind == RecordGatewayKind.EXPORT:
            return ExportGateway(self._cfg["RECORD_EXPORT_DIR"], municipality.code)
        return None


def _due() -> sa.ColumnElement[bool]:
    now = utcnow()
    return sa.or_(
        sa.and_(Activity.record_state == RecordState.PENDING,
                sa.or_(Activity.record_next_attempt_at.is_(None),
                       Activity.record_next_attempt_at <= now)),
        sa.and_(Activity.record_state == RecordState.SENDING, Activity.record_lease_until < now),
    )


def claim(batch_size: int, lease: timedelta) -> tuple[str, list[int]]:
    """Mark up to ``batch_size`` due activities as ours until the lease ends. Commits."""
    token = secrets.token_hex(8)
    due = (sa.select(Activity.id).where(_due())
           .order_by(Activity.record_next_attempt_at, Activity.id).limit(batch_size))
    if db.engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    result = db.session.execute(
        sa.update(Activity)
        .where(Activity.id.in_(due.scalar_subquery()))
        .values(record_state=RecordState.SENDING, record_claim=token,
                record_lease_until=utcnow() + lease, updated_at=Activity.updated_at)
        .returning(Activity.id)
        .execution_options(synchronize_session=False)
    )
    ids = [row[0] for row in result]
    db.session.commit()
    return token, ids


def _plan(activity: Activity, gateways: Gateways) -> Delivery | tuple[RecordState, str | None]:
    """What to send for this activity, or the state it should rest in without sending."""
    if not is_sent(activity):
        return RecordState.LOCAL, None
    if activity.deleted_at is not None and activity.record_id is None and \
            activity.record_attempts == 0:
        return RecordState.LOCAL, None  # deleted before anything could reach the record
    citizen: User = activity.citizen
    municipality = citizen.municipality
    if gateways.for_municipality(municipality) is None:
        return RecordState.WAITING, WAIT_NO_GATEWAY
    profile = citizen.profile
    if profile is None or not profile.cpr_encrypted:
        return RecordState.WAITING, WAIT_NO_CPR
    cpr = cpr_numbers.decrypt(profile.cpr_encrypted)
    create_id = str(activity.client_uuid)
    base = dict(cpr=cpr, lookup_request_id=create_id, citizen_label=citizen.name,
                month=(activity.occurred_on or activity.created_at.date()).strftime("%Y-%m"))
    if activity.deleted_at is not None:
        return Delivery(op=Op.CANCEL, request_id=str(uuid5(activity.client_uuid, "cancel")),
                        record_id=activity.record_id, body=None, **base)
    body = entry_body(activity, municipality.code, activity.entered_by_id != activity.citizen_id)
    if activity.record_id is None:
        return Delivery(op=Op.CREATE, request_id=create_id, record_id=None, body=body, **base)
    version_id = str(uuid5(activity.client_uuid, f"update-{activity.content_version}"))
    return Delivery(op=Op.UPDATE, request_id=version_id, record_id=activity.record_id,
                    body=body, **base)


def relay_pending_activities(gateways: Gateways | None = None, batch_size: int | None = None,
                             send: Callable[[RecordGateway, Delivery], Outcome] | None = None
                             ) -> RelayStats:
    """Relay one batch. Returns what happened; ``claimed == 0`` means nothing was due."""
    cfg = current_app.config
    gateways = gateways or Gateways()
    token, ids = claim(batch_size or int(cfg["RECORD_BATCH_SIZE"]),
                       timedelta(seconds=int(cfg["RECORD_LEASE_SECONDS"])))
    stats = RelayStats(claimed=len(ids))
    if not ids:
        return stats
    activities = list(db.session.scalars(
        sa.select(Activity).where(Activity.id.in_(ids))
        .options(selectinload(Activity.citizen).selectinload(User.profile),
                 selectinload(Activity.citizen).selectinload(User.municipality))
    ))
    work: list[tuple[Activity, RecordGateway, Delivery]] = []
    for activity in activities:
        plan = _plan(activity, gateways)
        if isinstance(plan, Delivery):
            gateway = gateways.for_municipality(activity.citizen.municipality)
            assert gateway is not None
            work.append((activity, gateway, plan))
        else:
            state, reason = plan
            _rest(activity.id, token, state, reason)
            if state == RecordState.LOCAL:
                stats.local += 1
            else:
                stats.waiting += 1
    deliver = send or (lambda gateway, delivery: gateway.deliver(delivery))
    versions = {a.id: a.content_version for a, _, _ in work}
    threads = max(1, int(cfg["RECORD_SEND_THREADS"]))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(lambda w: _safe(deliver, w[1], w[2]), work))
    for (activity, _gateway, delivery), outcome in zip(work, outcomes, strict=True):
        _record(activity, token, delivery, outcome, versions[activity.id], stats)
    db.session.commit()
    return stats


def _safe(deliver: Callable[[RecordGateway, Delivery], Outcome], gateway: RecordGateway,
          delivery: Delivery) -> Outcome:
    try:
        return deliver(gateway, delivery)
    except Exception as exc:  # noqa: BLE001 - a bug in one delivery must not lose the batch
        log.exception("record delivery crashed op=%s", delivery.op)
        return Outcome(Result.RETRY, reason=f"internal: {type(exc).__name__}")


def _ours(activity_id: int, token: str) -> sa.ColumnElement[bool]:
    # Only the worker whose lease is current may write the outcome.
    return sa.and_(Activity.id == activity_id, Activity.record_claim == token,
                   Activity.record_state == RecordState.SENDING)


def _rest(activity_id: int, token: str, state: RecordState, reason: str | None) -> None:
    db.session.execute(
        sa.update(Activity).where(_ours(activity_id, token))
        .values(record_state=state, record_error=reason, record_claim=None,
                record_lease_until=None, record_next_attempt_at=None,
                updated_at=Activity.updated_at)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _record(activity: Activity, token: str, delivery: Delivery, outcome: Outcome,
            sent_version: int, stats: RelayStats) -> None:
    now = utcnow()
    # updated_at stays the time the citizen last changed the entry.
    values: dict[str, object] = {"record_claim": None, "record_lease_until": None,
                                 "updated_at": Activity.updated_at}
    if outcome.result == Result.DONE:
        stats.synced += 1
        # An edit made while we were sending bumped content_version: send again.
        changed = sa.or_(Activity.content_version > sent_version,
                         sa.and_(Activity.deleted_at.is_not(None), delivery.op != Op.CANCEL))
        values.update(
            record_id=outcome.record_id or activity.record_id, record_synced_at=now,
            synced_version=sent_version, record_attempts=0, record_error=None,
            record_next_attempt_at=None,
            record_state=sa.case((changed, RecordState.PENDING.value),
                                 else_=RecordState.SYNCED.value),
        )
    elif outcome.result == Result.RETRY:
        stats.retried += 1
        attempts = activity.record_attempts + 1
        values.update(record_state=RecordState.PENDING, record_attempts=attempts,
                      record_error=(outcome.reason or "")[:300],
                      record_next_attempt_at=now + backoff(attempts, outcome.retry_after))
    else:
        stats.failed += 1
        log.warning("record refused activity=%s op=%s reason=%s", activity.id, delivery.op,
                    outcome.reason)
        values.update(record_state=RecordState.FAILED, record_error=(outcome.reason or "")[:300],
                      record_attempts=activity.record_attempts + 1)
    if outcome.reason:
        stats.by_reason[outcome.reason] = stats.by_reason.get(outcome.reason, 0) + 1
    db.session.execute(sa.update(Activity).where(_ours(activity.id, token)).values(**values)
                       .execution_options(synchronize_session=False))
