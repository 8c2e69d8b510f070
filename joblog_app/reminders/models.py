"""Push subscriptions, reminder settings, the daily reminder and its deliveries (an outbox).

A ``Reminder`` is what one citizen gets on one Danish day: several due reminders merged
into one message, localized when it was planned. ``UNIQUE(user_id, day)`` is the
once-a-day limit, kept by the database itself. A ``PushDelivery`` is that message on its
way to one of the citizen's devices; its state lives in the row (claim, lease, attempts),
so a killed worker loses nothing. ``PushService`` keeps what we know per push-service
origin: Retry-After and configuration faults (400/401/403/413).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models_base import enum_column, utcnow


class ReminderKind(enum.StrEnum):
    """The kinds a citizen can switch on or off; each is also the message's Topic."""

    FOLLOW_UP = "follow-up"
    DEADLINE = "deadline"
    BEHIND = "behind"
    INACTIVE = "inactive"
    CAFE = "cafe"
    REFUSED = "refused"
    TEST = "test"  # "send me a test": not a setting, not counted against the daily limit


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    SENDING = "sending"  # claimed by a worker until lease_until
    SENT = "sent"  # the push service accepted it (201)
    GONE = "gone"  # the subscription was gone (404/410) and has been deleted
    EXPIRED = "expired"  # no longer useful (past the reminder's TTL) before it could be sent
    FAILED = "failed"  # refused for a configuration fault (400/401/403/413): see PushService


class PushSubscription(db.Model):
    """A device's push subscription (PushSubscription.toJSON()); one citizen, many devices."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(sa.String(1000), unique=True)
    origin: Mapped[str] = mapped_column(sa.String(255))  # scheme://host[:port] of the endpoint
    p256dh: Mapped[str] = mapped_column(sa.String(100))
    auth: Mapped[str] = mapped_column(sa.String(40))
    device: Mapped[str] = mapped_column(sa.String(60))  # e.g. "Android · Chrome", never the UA
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The device said "still subscribed" (each time the app opens): dropped after 60 days
    # without, since Apple's push service answers 201 even for dead endpoints.
    confirmed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ReminderSettings(db.Model):
    """Which kinds a citizen wants, and a pause. No row: every kind on, no pause."""

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True)
    follow_up: Mapped[bool] = mapped_column(default=True)
    deadline: Mapped[bool] = mapped_column(default=True)
    behind: Mapped[bool] = mapped_column(default=True)
    inactive: Mapped[bool] = mapped_column(default=True)
    cafe: Mapped[bool] = mapped_column(default=True)
    refused: Mapped[bool] = mapped_column(default=True)
    paused_until: Mapped[date | None]  # no reminders up to and including this Danish day
    # The planner's cursor: when this citizen's rules were last looked at (reminders-plan).
    checked_at: Mapped[datetime | None] = mapped_column(index=True)


class Reminder(db.Model):
    """One citizen's message for one Danish day (``day`` is NULL for a test message)."""

    __table_args__ = (sa.UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    day: Mapped[date | None]
    kinds: Mapped[str] = mapped_column(sa.String(120))  # comma-separated ReminderKind values
    topic: Mapped[str] = mapped_column(sa.String(32))
    urgency: Mapped[str] = mapped_column(sa.String(10))
    payload: Mapped[str] = mapped_column(sa.String(2000))  # localized JSON, small
    due_at: Mapped[datetime]  # UTC, never inside quiet hours
    expires_at: Mapped[datetime]  # UTC; TTL counts down to it (20:00 Danish time)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushDelivery(db.Model):
    """The outbox row: one reminder to one device."""

    __table_args__ = (
        sa.UniqueConstraint("reminder_id", "subscription_id"),
        sa.Index("ix_push_delivery_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(sa.ForeignKey("reminder.id", ondelete="CASCADE"))
    subscription_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("push_subscription.id", ondelete="SET NULL"), index=True)
    state: Mapped[DeliveryState] = mapped_column(enum_column(DeliveryState, "delivery_state"),
                                                 default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    claim: Mapped[str | None] = mapped_column(sa.String(32))
    last_status: Mapped[int | None]
    sent_at: Mapped[datetime | None]


class PushService(db.Model):
    """What we know of one push-service origin (e.g. https://fcm.googleapis.com)."""

    origin: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    not_before: Mapped[datetime | None]  # Retry-After: nothing sent there before this
    alert_status: Mapped[int | None]  # last 400/401/403/413: a configuration fault
    alert_detail: Mapped[str | None] = mapped_column(sa.String(300))
    alert_at: Mapped[datetime | None]
    sent_ok_at: Mapped[datetime | None]
