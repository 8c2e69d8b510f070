"""The two worker jobs of reminders: ``reminders-plan`` and ``push-deliver``.

Worker jobs are commit boundaries (joblog_app/worker.py), so this module commits: a claim
is committed before anything is sent (the lease must be visible to other workers), and
outcomes are committed per batch. State lives in the rows (an outbox): a worker killed
mid-batch loses nothing; after the lease another worker sends what was not recorded as
sent. Such a resend carries the same Topic and the same reminder id, so the push service
replaces an undelivered copy and the service worker replaces a shown one (same tag)
instead of showing it twice. On PostgreSQL claims use ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import logging
import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from ..auth.models import Role, User
from ..extensions import db
from ..models_base import utcnow
from ..worker import Stopping
from . import services
from .models import DeliveryState, PushDelivery, PushService, PushSubscription, Reminder, ReminderSettings
from .push import Answer, Message, Sender
from .vapid import Vapid

log = logging.getLogger("joblog.push")

BACKOFF_CAP = 3600.0
DEFAULT_RETRY_AFTER = 60.0
GONE = (404, 410)
CONFIG_FAULTS = (400, 401, 403, 413)
_JITTER = random.SystemRandom()


def _postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


# --- reminders-plan ---------------------------------------------------------------------
def claim_citizens(now: datetime, batch_size: int, every: timedelta) -> list[int]:
    """Citizens with a device whose rules were not looked at for ``every``. Commits."""
    due = (sa.select(ReminderSettings.user_id)
           .where(sa.or_(ReminderSettings.checked_at.is_(None),
                         ReminderSettings.checked_at <= now - every),
                  sa.exists().where(PushSubscription.user_id == ReminderSettings.user_id))
           .order_by(ReminderSettings.checked_at.is_not(None), ReminderSettings.checked_at,
                     ReminderSettings.user_id)
           .limit(batch_size))
    if _postgres():
        due = due.with_for_update(skip_locked=True)
    ids = [row[0] for row in db.session.execute(
        sa.update(ReminderSettings).where(ReminderSettings.user_id.in_(due.scalar_subquery()))
        .values(checked_at=now).returning(ReminderSettings.user_id)
        .execution_options(synchronize_session=False))]
    db.session.commit()
    return ids


def plan_reminders(stopping: Stopping, now: datetime | None = None) -> int:
    """Look at the rules of every citizen who is due a look; returns how many reminders
    were planned."""
    now = now or utcnow()
    cfg = current_app.config
    dropped = services.drop_unconfirmed(now)
    db.session.commit()
    if dropped:
        log.info("dropped %s subscriptions not confirmed for %s days", dropped,
                 services.UNCONFIRMED_DAYS)
    planned = 0
    every = timedelta(minutes=int(cfg["PUSH_PLAN_EVERY_MINUTES"]))
    while not stopping():
        ids = claim_citizens(now, int(cfg["PUSH_PLAN_BATCH_SIZE"]), every)
        if not ids:
            break
        users = db.session.scalars(sa.select(User).where(
            User.id.in_(ids), User.is_active.is_(True), User.role == Role.CITIZEN)
            .options(selectinload(User.profile)))
        for user in users:
            if services.plan_for(user, now) is not None:
                planned += 1
        db.session.commit()
    return planned


# --- push-deliver -----------------------------------------------------------------------
@dataclass
class DeliveryStats:
    claimed: int = 0
    sent: int = 0
    gone: int = 0
    retried: int = 0
    failed: int = 0
    expired: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


def backoff(attempts: int, retry_after: float | None, base: float) -> timedelta:
    """Truncated exponential backoff with jitter; never sooner than Retry-After."""
    delay = min(BACKOFF_CAP, base * 2 ** min(attempts, 20)) * _JITTER.uniform(0.5, 1.0)
    return timedelta(seconds=max(delay, retry_after or 0.0))


def claim_deliveries(now: datetime, batch_size: int, lease: timedelta) -> tuple[str, list[int]]:
    """Mark up to ``batch_size`` due deliveries as ours until the lease ends; deliveries to
    a push service that asked us to wait (Retry-After) stay where they are. Commits."""
    token = secrets.token_hex(8)
    due = (sa.select(PushDelivery.id)
           .outerjoin(PushSubscription, PushSubscription.id == PushDelivery.subscription_id)
           .outerjoin(PushService, PushService.origin == PushSubscription.origin)
           .where(sa.or_(sa.and_(PushDelivery.state == DeliveryState.PENDING,
                                 PushDelivery.next_attempt_at <= now),
                         sa.and_(PushDelivery.state == DeliveryState.SENDING,
                                 PushDelivery.lease_until < now)),
                  sa.or_(PushService.not_before.is_(None), PushService.not_before <= now))
           .order_by(PushDelivery.next_attempt_at, PushDelivery.id)
           .limit(batch_size))
    if _postgres():
        due = due.with_for_update(skip_locked=True, of=PushDelivery)
    ids = [row[0] for row in db.session.execute(
        sa.update(PushDelivery).where(PushDelivery.id.in_(due.scalar_subquery()))
        .values(state=DeliveryState.SENDING, claim=token, lease_until=now + lease)
        .returning(PushDelivery.id).execution_options(synchronize_session=False))]
    db.session.commit()
    return token, ids


@dataclass(frozen=True)
class _Row:
    id: int
    attempts: int
    origin: str | None
    expires_at: datetime


def _prepare(token: str, ids: list[int], now: datetime
             ) -> tuple[list[Message], dict[int, _Row], DeliveryStats]:
    stats = DeliveryStats(claimed=len(ids))
    rows = db.session.execute(
        sa.select(PushDelivery.id, PushDelivery.attempts, PushSubscription.endpoint,
                  PushSubscription.origin, PushSubscription.p256dh, PushSubscription.auth,
                  Reminder.payload, Reminder.urgency, Reminder.topic, Reminder.expires_at)
        .join(Reminder, Reminder.id == PushDelivery.reminder_id)
        .outerjoin(PushSubscription, PushSubscription.id == PushDelivery.subscription_id)
        .where(PushDelivery.id.in_(ids), PushDelivery.claim == token))
    messages: list[Message] = []
    known: dict[int, _Row] = {}
    rest: list[dict[str, Any]] = []
    for r in rows:
        ttl = int((r.expires_at - now).total_seconds())
        if r.endpoint is None or ttl <= 0:
            state = DeliveryState.GONE if r.endpoint is None else DeliveryState.EXPIRED
            rest.append({"b_id": r.id, "b_token": token, "b_state": state.value})
            if state == DeliveryState.EXPIRED:
                stats.expired += 1
            else:
                stats.gone += 1
            continue
        known[r.id] = _Row(r.id, r.attempts, r.origin, r.expires_at)
        messages.append(Message(r.id, r.endpoint, r.origin, r.p256dh, r.auth,
                                r.payload.encode(), ttl, r.urgency, r.topic))
    if rest:
        db.session.execute(_REST, rest)
        db.session.commit()
    return messages, known, stats


_t = PushDelivery.__table__
_c = _t.c


def _ours() -> sa.ColumnElement[bool]:
    return sa.and_(_c.id == sa.bindparam("b_id"), _c.claim == sa.bindparam("b_token"),
                   _c.state == DeliveryState.SENDING.value)


_REST = sa.update(_t).where(_ours()).values(
    state=sa.bindparam("b_state", type_=sa.String), claim=None, lease_until=None)
_SENT = sa.update(_t).where(_ours()).values(
    state=DeliveryState.SENT.value, claim=None, lease_until=None,
    sent_at=sa.bindparam("b_now", type_=sa.DateTime),
    last_status=sa.bindparam("b_status", type_=sa.Integer),
    attempts=sa.bindparam("b_attempts", type_=sa.Integer))
_RETRY = sa.update(_t).where(_ours()).values(
    state=sa.bindparam("b_state", type_=sa.String), claim=None, lease_until=None,
    last_status=sa.bindparam("b_status", type_=sa.Integer),
    attempts=sa.bindparam("b_attempts", type_=sa.Integer),
    next_attempt_at=sa.bindparam("b_next", type_=sa.DateTime))


def _record(token: str, known: dict[int, _Row], answers: list[Answer], now: datetime,
            stats: DeliveryStats, base: float) -> None:
    """Write the batch's outcomes, one executemany per kind of outcome. Commits."""
    sent: list[dict[str, Any]] = []
    retry: list[dict[str, Any]] = []
    gone_ids: list[int] = []
    waits: dict[str, float] = {}
    alerts: dict[str, Answer] = {}
    ok_origins: set[str] = set()
    for answer in answers:
        row = known[answer.delivery_id]
        origin = row.origin or ""
        key = {"b_id": row.id, "b_token": token, "b_status": answer.status or None,
               "b_attempts": row.attempts + 1}
        stats.by_status[answer.status] = stats.by_status.get(answer.status, 0) + 1
        if 200 <= answer.status < 300:
            stats.sent += 1
            ok_origins.add(origin)
            sent.append({**key, "b_now": now})
        elif answer.status in GONE:
            stats.gone += 1
            gone_ids.append(row.id)
            retry.append({**key, "b_state": DeliveryState.GONE.value, "b_next": now})
        elif answer.status == 429 or answer.status == 0 or answer.status >= 500:
            wait = answer.retry_after
            if answer.status == 429:
                wait = wait if wait is not None else DEFAULT_RETRY_AFTER
                waits[origin] = max(waits.get(origin, 0.0), wait)
            nxt = now + backoff(row.attempts, wait, base)
            if nxt >= row.expires_at:
                stats.expired += 1
                retry.append({**key, "b_state": DeliveryState.EXPIRED.value, "b_next": nxt})
            else:
                stats.retried += 1
                retry.append({**key, "b_state": DeliveryState.PENDING.value, "b_next": nxt})
        else:  # 400/401/403/413 and any other refusal: our configuration, not the device
            stats.failed += 1
            alerts[origin] = answer
            retry.append({**key, "b_state": DeliveryState.FAILED.value, "b_next": now})
    if gone_ids:
        # 404/410: the subscription is gone for good (RFC 8030 §6.2); its deliveries keep
        # their history with subscription_id set to NULL.
        db.session.execute(sa.delete(PushSubscription).where(PushSubscription.id.in_(
            sa.select(PushDelivery.subscription_id).where(PushDelivery.id.in_(gone_ids)))))
    if sent:
        db.session.execute(_SENT, sent)
    if retry:
        db.session.execute(_RETRY, retry)
    _service_state(waits, alerts, ok_origins, now)
    db.session.commit()


def _service(origin: str) -> PushService:
    service = db.session.get(PushService, origin)
    if service is None:
        service = PushService(origin=origin)
        db.session.add(service)
    return service


def _service_state(waits: dict[str, float], alerts: dict[str, Answer], ok: set[str],
                   now: datetime) -> None:
    for origin, wait in waits.items():
        service = _service(origin)
        until = now + timedelta(seconds=wait)
        if service.not_before is None or service.not_before < until:
            service.not_before = until
        log.info("push service %s asked us to wait %.0f s", origin, wait)
    for origin, answer in alerts.items():
        service = _service(origin)
        service.alert_status, service.alert_at = answer.status, now
        service.alert_detail = answer.detail[:300] or None
        log.error("push service %s refused our messages with %s: check the VAPID key and "
                  "contact (flask push status)", origin, answer.status)
    if ok:
        db.session.execute(sa.update(PushService).where(
            PushService.origin.in_(ok - set(alerts)))
            .values(alert_status=None, alert_detail=None, sent_ok_at=now))


def deliver_batch(sender: Sender, batch_size: int | None = None,
                  now: datetime | None = None) -> DeliveryStats:
    """Claim, send and record one batch; ``claimed == 0`` means nothing was due."""
    cfg = current_app.config
    fixed = now
    now = now or utcnow()
    token, ids = claim_deliveries(now, batch_size or int(cfg["PUSH_BATCH_SIZE"]),
                                  timedelta(seconds=int(cfg["PUSH_LEASE_SECONDS"])))
    if not ids:
        return DeliveryStats()
    messages, known, stats = _prepare(token, ids, now)
    answers = sender.send_all(messages)
    _record(token, known, answers, fixed or utcnow(), stats, float(cfg["PUSH_BACKOFF_BASE"]))
    return stats


class DeliverJob:
    """``push-deliver``: batches while messages are due. The sender (its event loop,
    aiohttp session and VAPID headers) lives as long as the worker."""

    def __init__(self) -> None:
        self.sender: Sender | None = None

    def __call__(self, stopping: Stopping) -> int:
        if self.sender is None:
            vapid = Vapid.from_config(current_app.config)
            if vapid is None:
                return 0  # push is not configured (flask push status says so)
            cfg = current_app.config
            self.sender = Sender(vapid, int(cfg["PUSH_CONCURRENCY"]), float(cfg["PUSH_TIMEOUT"]))
        claimed = 0
        while not stopping():
            stats = deliver_batch(self.sender)
            if not stats.claimed:
                break
            claimed += stats.claimed
            log.info("push: %s", stats)
        return claimed


class PlanJob:
    """``reminders-plan``: the rules of every citizen due a look."""

    def __call__(self, stopping: Stopping) -> int:
        return plan_reminders(stopping)
