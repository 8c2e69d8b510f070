"""What the caseworker's pages remember about a citizen: the purpose a caseworker gave for
opening a citizen's overview today (asked once per citizen per day); who follows the citizen
(assignment), a short note with a follow-up date, whether an interpreter is needed; the
caseworker's saved work-list filters; and which exemptions a reminder was sent for (once
each)."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..activities.models import Activity
from ..extensions import db
from ..models_base import enum_column, utcnow

NOTE_MAX = 300
FILTER_NAME_MAX = 60
FILTER_QUERY_MAX = 300


class CaseFile(db.Model):
    """One row per citizen a caseworker has written something about.

    ``needs_interpreter`` is set by the caseworker: the citizen's app language says which
    language they read, not whether a conversation needs an interpreter (many who read
    Ukrainian or Arabic speak Danish, and some who read Danish do not speak it well), so it
    is a fact the caseworker records, not one we guess. The note is for the next
    conversation; the page warns never to write health information in it."""

    __table_args__ = (
        sa.Index("ix_case_file_assigned", "assigned_to_id"),
        sa.Index("ix_case_file_municipality_follow_up", "municipality_id", "follow_up_on"),
    )

    citizen_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                            primary_key=True)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id"))
    assigned_to_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    needs_interpreter: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(sa.String(NOTE_MAX))
    follow_up_on: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))


class SavedFilter(db.Model):
    """A caseworker's named work-list filter: the query string of the work list."""

    __table_args__ = (sa.UniqueConstraint("owner_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(FILTER_NAME_MAX))
    query: Mapped[str] = mapped_column(sa.String(FILTER_QUERY_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExemptionReminder(db.Model):
    """An exemption whose coming end a caseworker was reminded of (the row makes the
    reminder once per exemption: the job skips exemptions that have one)."""

    exemption_id: Mapped[int] = mapped_column(
        sa.ForeignKey("exemption.id", ondelete="CASCADE"), primary_key=True)
    caseworker_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    by_email: Mapped[bool] = mapped_column(default=False)


# Indexes on the job log for the caseworker's statements (migration 0012; bench/
# staff_scale.py measures them). Declared here, next to the statements that need them, on
# the activity table of the activities feature.
_activity = Activity.__table__
# A job search counted by citizen and day, read from the index alone (groups.judged).
sa.Index("ix_activity_job_search", _activity.c.citizen_id, _activity.c.occurred_on,
         postgresql_where=sa.and_(_activity.c.kind == "application",
                                  _activity.c.deleted_at.is_(None)),
         sqlite_where=sa.and_(_activity.c.kind == "application",
                              _activity.c.deleted_at.is_(None)))
# The newest entry of a citizen (the work list's "days without a registration").
sa.Index("ix_activity_citizen_created", _activity.c.citizen_id, _activity.c.created_at)
# Follow-ups still open (the work list's "follow-ups due"): few rows of many.
_open_follow_up = sa.and_(_activity.c.follow_up_on.is_not(None),
                          _activity.c.followed_up_at.is_(None),
                          _activity.c.deleted_at.is_(None),
                          _activity.c.converted_to_id.is_(None))
sa.Index("ix_activity_open_follow_up", _activity.c.citizen_id, _activity.c.follow_up_on,
         postgresql_where=_open_follow_up, sqlite_where=_open_follow_up)
# Entries the record refused (the work list's "refused"): few rows of many.
_refused = sa.and_(_activity.c.record_state == "failed", _activity.c.deleted_at.is_(None))
sa.Index("ix_activity_refused", _activity.c.citizen_id,
         postgresql_where=_refused, sqlite_where=_refused)


class OverviewPurpose(enum.StrEnum):
    """Why a caseworker opens a citizen's overview (the audit row's purpose; the citizen
    reads it in words in their access log, audit/presenter.py)."""

    CONVERSATION = "prepare_conversation"
    WORK_LIST = "work_list_follow_up"
    REFUSED = "refused_entries"
    OTHER = "other"  # with a short text, which is the audit row's purpose as written


class PurposeGiven(db.Model):
    """The purpose a caseworker gave for a citizen on a (Danish) day. Kept server-side, not
    in the session cookie: no list of looked-up citizens travels with the browser, and it
    holds on another device too. Only today's row matters; older rows of the same
    caseworker are deleted when a new purpose is given (caseload/overview.py)."""

    __tablename__ = "overview_purpose"
    __table_args__ = (sa.UniqueConstraint("staff_user_id", "citizen_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    citizen_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    day: Mapped[date]
    purpose: Mapped[OverviewPurpose] = mapped_column(enum_column(OverviewPurpose,
                                                                 "overview_purpose_kind"))
    text: Mapped[str | None] = mapped_column(sa.String(120))  # "other" only
    at: Mapped[datetime] = mapped_column(default=utcnow)
