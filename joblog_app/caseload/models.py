"""What the caseworker's pages remember: the purpose a caseworker gave for opening a
citizen's overview today (asked once per citizen per day)."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models_base import enum_column, utcnow


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
