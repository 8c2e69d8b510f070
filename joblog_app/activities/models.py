"""The job log: one table of activities, with a kind and the fields each kind uses."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models_base import enum_column, utcnow
from ..permissions import Channel

if TYPE_CHECKING:
    from ..auth.models import User


class ActivityKind(enum.StrEnum):
    APPLICATION = "application"
    PLANNED_JOB = "planned_job"
    COFFEE_MEETING = "coffee_meeting"
    NETWORK_LEAD = "network_lead"
    OTHER = "other"


class ApplicationMethod(enum.StrEnum):
    ADVERTISED = "advertised"
    UNSOLICITED = "unsolicited"
    NETWORK = "network"
    PERSONAL_VISIT = "personal_visit"
    PHONE = "phone"
    TEMP_AGENCY = "temp_agency"


class ApplicationStatus(enum.StrEnum):
    """Joblog's statuses: Søgt, Samtale, Afslag, Fik job."""

    APPLIED = "applied"
    INTERVIEW = "interview"
    REJECTED = "rejected"
    GOT_JOB = "got_job"


class PlanTag(enum.StrEnum):
    """The ABC plan: A dream job, B good job, C any job that pays."""

    A = "a"
    B = "b"
    C = "c"


class RecordState(enum.StrEnum):
    """Where the entry is on its way to the municipal record (see record/)."""

    PENDING = "pending"  # due to be sent (again) at record_next_attempt_at
    SENDING = "sending"  # claimed by a worker until record_lease_until
    SYNCED = "synced"  # the record has this entry's latest content
    FAILED = "failed"  # refused by the record; staff must act (record_error says why)
    WAITING = "waiting"  # cannot be sent yet: no CPR number or no gateway (record_error)
    LOCAL = "local"  # never sent: private network notes, or deleted before it was sent


class Activity(db.Model):
    __table_args__ = (
        sa.UniqueConstraint("citizen_id", "client_uuid"),
        sa.Index("ix_activity_citizen_kind_date", "citizen_id", "kind", "occurred_on"),
        sa.Index("ix_activity_record_due", "record_state", "record_next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_uuid: Mapped[uuid.UUID] = mapped_column(sa.Uuid, default=uuid.uuid4)
    citizen_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    entered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"), default=Channel.WEB)
    kind: Mapped[ActivityKind] = mapped_column(enum_column(ActivityKind, "activity_kind"))
    record_state: Mapped[RecordState] = mapped_column(
        enum_column(RecordState, "record_state"), default=RecordState.PENDING
    )
    # Delivery to the municipal record (record/relay.py). content_version counts edits;
    # synced_version is the version the record has, so edits during a send are not lost.
    record_id: Mapped[str | None] = mapped_column(sa.String(64))
    record_synced_at: Mapped[datetime | None]
    record_attempts: Mapped[int] = mapped_column(default=0)
    record_next_attempt_at: Mapped[datetime | None]
    record_lease_until: Mapped[datetime | None]
    record_claim: Mapped[str | None] = mapped_column(sa.String(32))
    record_error: Mapped[str | None] = mapped_column(sa.String(300))
    content_version: Mapped[int] = mapped_column(default=1)
    synced_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None]

    # Employer (application, planned job) or company (coffee meeting, network lead).
    organisation: Mapped[str | None] = mapped_column(sa.String(120))
    title: Mapped[str | None] = mapped_column(sa.String(120))
    person: Mapped[str | None] = mapped_column(sa.String(120))
    # The citizen allows the met person's name to be sent to the record (coffee meetings).
    share_person: Mapped[bool] = mapped_column(default=False)
    occurred_on: Mapped[date | None]
    method: Mapped[ApplicationMethod | None] = mapped_column(enum_column(ApplicationMethod, "method"))
    status: Mapped[ApplicationStatus | None] = mapped_column(
        enum_column(ApplicationStatus, "application_status")
    )
    plan_tag: Mapped[PlanTag | None] = mapped_column(enum_column(PlanTag, "plan_tag"))
    ad_url: Mapped[str | None] = mapped_column(sa.String(500))
    deadline: Mapped[date | None]
    place: Mapped[str | None] = mapped_column(sa.String(120))
    notes: Mapped[str | None] = mapped_column(sa.String(2000))
    outcome: Mapped[str | None] = mapped_column(sa.String(1000))
    follow_up_on: Mapped[date | None]
    followed_up_at: Mapped[datetime | None]
    relation: Mapped[str | None] = mapped_column(sa.String(200))
    can_help_with: Mapped[str | None] = mapped_column(sa.String(500))
    next_step: Mapped[str | None] = mapped_column(sa.String(500))
    description: Mapped[str | None] = mapped_column(sa.String(500))
    # A planned job or network lead turned into something else points at what it became.
    converted_to_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("activity.id", ondelete="SET NULL")
    )

    citizen: Mapped[User] = relationship(foreign_keys=[citizen_id])
    entered_by: Mapped[User] = relationship(foreign_keys=[entered_by_id])
