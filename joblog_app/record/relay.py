"""The relay: claims due activities, delivers them through the gateway, records outcomes.

A worker job (record/worker.py), so a commit boundary of its own: it commits the claim
before sending (the lease must be visible to other workers) and the outcomes after.

State lives in the activity rows (transactional outbox): a claim is a lease, so a worker
killed mid-batch loses nothing; another worker re-claims after the lease and resends with
the same request id, which the record answers 412 and we resolve to the stored record.
On PostgreSQL claims use ``FOR UPDATE SKIP LOCKED`` so any number of workers can run.
"""

from __future__ import annotations

import hashlib
import logging
import random
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import uuid5

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from ..activities.models import Activity, Channel, RecordState
from ..auth.models import Municipality, User
from ..citizens import services as citizens
from ..extensions import db
from ..models_base import utcnow
from . import services
from .export import ExportGateway
from .gateway import Delivery, HttpGateway, Op, Outcome, RecordGateway, Result
from .models import RecordGatewayKind
from .payload import entry_body, is_sent

log = logging.getLogger("joblog.record")

BACKOFF_BASE = 2.0  # seconds; RECORD_BACKOFF_BASE overrides it
BACKOFF_CAP = 3600.0
# An unexpected error (a bug, bad stored data) is retried this many times in all, then the
# entry fails with the reason, for staff to act on (``flask record status`` / ``retry``).
MAX_UNEXPECTED_ATTEMPTS = 5
UNEXPECTED = "internal: "
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


def backoff(attempts: int, retry_after: float | None, rng: random.Random = _JITTER,
            base: float = BACKOFF_BASE) -> timedelta:
    """Truncated exponential backoff with jitter; never sooner than Retry-After."""
    delay = min(BACKOFF_CAP, base * 2 ** min(attempts, 20)) * rng.uniform(0.5, 1.0)
    return timedelta(seconds=max(delay, retry_after or 0.0))


class Gateways:
    """One gateway object per kind, reused across batches (HTTP keeps its connections)."""

    def __init__(self) -> None:
        cfg = current_app.config
        self._http: HttpGateway | None = None
        self._cfg = {k: cfg[k] for k in cfg if k.startswith("RECORD_")}
        # Export file names are keyed with a key derived from the CPR key (never the key itself).
        self._export_name_key = hashlib.sha256(
            b"export-file-names:" + str(cfg["CPR_KEY"]).encode()).digest()

    def for_municipality(self, municipality: Municipality,
                         kind: RecordGatewayKind | None = None) -> RecordGateway | None:
        """The municipality's gateway (of ``kind`` when the caller looked it up already),
        or None when it has none."""
        kind = kind or services.gateway_kind(municipality.id)
        if kind == RecordGatewayKind.HTTP:
            if self._http is None:
                c = self._cfg
                self._http = HttpGateway(c["RECORD_HTTP_URL"], str(c["RECORD_CLIENT_ID"]),
                                         str(c["RECORD_CLIENT_SECRET"]), c["RECORD_TOKEN_URL"],
                                         float(c["RECORD_TIMEOUT"]),
                                         pool_size=int(c["RECORD_SEND_THREADS"]) * 2)
            return self._http
        if kind == RecordGatewayKind.EXPORT:
            return ExportGateway(self._cfg["RECORD_EXPORT_DIR"], municipality.code,
                                 self._export_name_key)
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


def entered_by_staff(activity: Activity) -> bool:
    """The record hears who entered an entry: staff for an assisted one (a helper at the job
    café, under a recorded request), and for any entry someone else made for the citizen."""
    return activity.channel == Channel.ASSISTED or activity.entered_by_id != activity.citizen_id


def _plan(activity: Activity, gateway: RecordGateway | None
          ) -> Delivery | tuple[RecordState, str | None]:
    """What to send for this activity, or the state it should rest in without sending."""
    if not is_sent(activity):
        return RecordState.LOCAL, None
    if activity.deleted_at is not None and activity.record_id is None and \
            activity.record_attempts == 0:
        return RecordState.LOCAL, None  # deleted before anything could reach the record
    citizen: User = activity.citizen
    municipality = citizen.municipality
    if gateway is None:
        return RecordState.WAITING, WAIT_NO_GATEWAY
    cpr = citizens.cpr_of(citizen.profile) if citizen.profile else None
    if cpr is None:
        return RecordState.WAITING, WAIT_NO_CPR
    create_id = str(activity.client_uuid)
    base = dict(cpr=cpr, lookup_request_id=create_id, citizen_label=citizen.name,
                month=(activity.occurred_on or activity.created_at.date()).strftime("%Y-%m"))
    if activity.deleted_at is not None:
        return Delivery(op=Op.CANCEL, request_id=str(uuid5(activity.client_uuid, "cancel")),
                        record_id=activity.record_id, body=None, **base)
    body = entry_body(activity, municipality.code, entered_by_staff(activity))
    if activity.record_id is None:
        return Delivery(op=Op.CREATE, request_id=create_id, record_id=None, body=body, **base)
    version_id = str(uuid5(activity.client_uuid, f"update-{activity.content_version}"))
    return Delivery(op=Op.UPDATE, request_id=version_id, record_id=activity.record_id,
                    body=body, **base)


@dataclass(frozen=True)
class _Sent:
    """What recording an outcome needs of the activity, read when the batch was claimed:
    the ORM object may be expired by the next batch's commit while this one is in flight."""
    activity_id: int
    attempts: int
    version: int


@dataclass
class _Batch:
    token: str
    stats: RelayStats
    work: list[tuple[_Sent, RecordGateway, Delivery]]
    outcomes: list[Future[Outcome]] = field(default_factory=list)


Deliver = Callable[[RecordGateway, Delivery], Outcome]


def _prepare(gateways: Gateways, batch_size: int | None) -> _Batch:
    """Claim due activities and plan what to send for each (entries that cannot be sent
    are put to rest at once). Commits."""
    cfg = current_app.config
    token, ids = claim(batch_size or int(cfg["RECORD_BATCH_SIZE"]),
                       timedelta(seconds=int(cfg["RECORD_LEASE_SECONDS"])))
    batch = _Batch(token, RelayStats(claimed=len(ids)), [])
    if not ids:
        return batch
    activities = list(db.session.scalars(
        sa.select(Activity).where(Activity.id.in_(ids))
        .options(selectinload(Activity.citizen).selectinload(User.profile),
                 selectinload(Activity.citizen).selectinload(User.municipality))
    ))
    kinds = services.gateway_kinds({a.citizen.municipality_id for a in activities})
    for activity in activities:
        municipality = activity.citizen.municipality
        gateway = gateways.for_municipality(municipality, kinds[municipality.id])
        try:
            plan = _plan(activity, gateway)
        except Exception as exc:  # noqa: BLE001 - bad stored data must not stop the batch
            log.exception("record planning crashed activity=%s", activity.id)
            plan = RecordState.FAILED, f"{UNEXPECTED}{type(exc).__name__}"
        if isinstance(plan, Delivery):
            assert gateway is not None
            sent = _Sent(activity.id, activity.record_attempts, activity.content_version)
            batch.work.append((sent, gateway, plan))
        else:
            state, reason = plan
            _rest(activity.id, token, state, reason)
            if state == RecordState.LOCAL:
                batch.stats.local += 1
            elif state == RecordState.FAILED:
                batch.stats.failed += 1
            else:
                batch.stats.waiting += 1
    db.session.commit()  # the entries put to rest; the rest are sent under their lease
    return batch


def _start(batch: _Batch, pool: ThreadPoolExecutor, deliver: Deliver) -> None:
    batch.outcomes = [pool.submit(_safe, deliver, gateway, delivery)
                      for _sent, gateway, delivery in batch.work]


def _finish(batch: _Batch) -> RelayStats:
    """Wait for the batch's answers and record them, one executemany per kind. Commits."""
    base = float(current_app.config.get("RECORD_BACKOFF_BASE", BACKOFF_BASE))
    writes: dict[sa.Update, list[dict[str, Any]]] = {}
    for (sent, _gateway, delivery), future in zip(batch.work, batch.outcomes, strict=True):
        statement, params = _record(sent, batch.token, delivery, future.result(), batch.stats,
                                    base)
        writes.setdefault(statement, []).append(params)
    for statement, rows in writes.items():
        db.session.execute(statement, rows)
    db.session.commit()
    return batch.stats


def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=max(1, int(current_app.config["RECORD_SEND_THREADS"])))


def _deliver(gateway: RecordGateway, delivery: Delivery) -> Outcome:
    return gateway.deliver(delivery)


def relay_pending_activities(gateways: Gateways | None = None, batch_size: int | None = None,
                             send: Deliver | None = None) -> RelayStats:
    """Relay one batch. Returns what happened; ``claimed == 0`` means nothing was due."""
    with _pool() as pool:
        batch = _prepare(gateways or Gateways(), batch_size)
        _start(batch, pool, send or _deliver)
        return _finish(batch)


def relay_continuously(gateways: Gateways, stopping: Callable[[], bool],
                       send: Deliver | None = None) -> Iterator[RelayStats]:
    """Relay batch after batch until one claims nothing (or ``stopping()``), yielding each
    batch's stats. The next batch is claimed and planned while the current one is being
    sent, so the sending threads do not wait for the database in between. Each batch is
    still claimed, sent and recorded as in ``relay_pending_activities``."""
    deliver = send or _deliver
    with _pool() as pool:
        current = _prepare(gateways, None)
        _start(current, pool, deliver)
        while current.stats.claimed:
            following = None if stopping() else _prepare(gateways, None)
            if following is not None:
                _start(following, pool, deliver)
            yield _finish(current)
            if following is None:
                return
            current = following


def _safe(deliver: Deliver, gateway: RecordGateway,
          delivery: Delivery) -> Outcome:
    try:
        return deliver(gateway, delivery)
    except Exception as exc:  # noqa: BLE001 - a bug in one delivery must not lose the batch
        log.exception("record delivery crashed op=%s", delivery.op)
        return Outcome(Result.RETRY, reason=f"{UNEXPECTED}{type(exc).__name__}")


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


_t = Activity.__table__
_c = _t.c
_version = sa.bindparam("b_version", type_=sa.Integer)


def _outcome_update(**values: Any) -> sa.Update:
    """A prebuilt UPDATE for one kind of outcome, executed for all rows of a batch at once
    (executemany). Only the worker whose claim is current may write the outcome; the
    time the citizen last changed the entry (``updated_at``) stays as it is."""
    return (sa.update(_t)
            .where(_c.id == sa.bindparam("b_id"), _c.record_claim == sa.bindparam("b_token"),
                   _c.record_state == RecordState.SENDING)
            .values(record_claim=None, record_lease_until=None, updated_at=_c.updated_at, **values))


_DONE = _outcome_update(
    record_id=sa.func.coalesce(sa.bindparam("b_record_id", type_=sa.String), _c.record_id),
    record_synced_at=sa.bindparam("b_now", type_=sa.DateTime), synced_version=_version,
    record_attempts=0, record_error=None, record_next_attempt_at=None,
    # An edit made while we were sending bumped content_version (or deleted it): send again.
    record_state=sa.case(
        (sa.or_(_c.content_version > _version,
                sa.and_(_c.deleted_at.is_not(None), sa.bindparam("b_not_cancel", type_=sa.Boolean))),
         RecordState.PENDING.value),
        else_=RecordState.SYNCED.value),
)
_RETRY = _outcome_update(
    record_state=RecordState.PENDING, record_attempts=sa.bindparam("b_attempts", type_=sa.Integer),
    record_error=sa.bindparam("b_error", type_=sa.String),
    record_next_attempt_at=sa.bindparam("b_next", type_=sa.DateTime),
)
_FAILED = _outcome_update(
    record_state=RecordState.FAILED, record_attempts=sa.bindparam("b_attempts", type_=sa.Integer),
    record_error=sa.bindparam("b_error", type_=sa.String),
)


def _record(sent: _Sent, token: str, delivery: Delivery, outcome: Outcome, stats: RelayStats,
            backoff_base: float = BACKOFF_BASE) -> tuple[sa.Update, dict[str, Any]]:
    """The statement and parameters that record this outcome (see ``_outcome_update``)."""
    now = utcnow()
    key = {"b_id": sent.activity_id, "b_token": token}
    if outcome.reason:
        stats.by_reason[outcome.reason] = stats.by_reason.get(outcome.reason, 0) + 1
    if outcome.result == Result.DONE:
        stats.synced += 1
        return _DONE, {**key, "b_record_id": outcome.record_id, "b_now": now,
                       "b_version": sent.version, "b_not_cancel": delivery.op != Op.CANCEL}
    attempts = sent.attempts + 1
    error = (outcome.reason or "")[:300]
    if outcome.result == Result.RETRY and (outcome.reason or "").startswith(UNEXPECTED) \
            and attempts >= MAX_UNEXPECTED_ATTEMPTS:
        outcome = Outcome(Result.FAILED, reason=f"{outcome.reason} after {attempts} tries")
        error = outcome.reason[:300]  # type: ignore[index]
    if outcome.result == Result.RETRY:
        stats.retried += 1
        return _RETRY, {**key, "b_attempts": attempts, "b_error": error,
                        "b_next": now + backoff(attempts, outcome.retry_after, base=backoff_base)}
    stats.failed += 1
    log.warning("record refused activity=%s op=%s reason=%s", sent.activity_id, delivery.op,
                outcome.reason)
    return _FAILED, {**key, "b_attempts": attempts, "b_error": error}
