"""One row per staff look-up or change of a citizen's data (and per denied attempt)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models_base import enum_column, utcnow


class AuditAction(enum.StrEnum):
    READ = "read"  # looked at the citizen's data
    SEARCH = "search"  # searched for citizens (the term is kept, no citizen)
    CHANGE = "change"  # changed the citizen's data (an entry, the requirement, an exemption)
    EXPORT = "export"  # exported a list or a citizen's data
    PAIRING = "pairing"  # paired the citizen's phone


class AuditOutcome(enum.StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"  # e.g. a citizen of another municipality: 404, and this row


class AuditEntry(db.Model):
    """Append-only for the app: no service changes or deletes a row, except the worker's
    retention job (``JOBLOG_AUDIT_RETENTION_DAYS``)."""

    __table_args__ = (
        sa.Index("ix_audit_entry_citizen_at", "citizen_id", "at"),
        sa.Index("ix_audit_entry_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who: kept as plain ids and the role at the time (a staff account may change later).
    staff_user_id: Mapped[int] = mapped_column(sa.Integer)
    staff_role: Mapped[str] = mapped_column(sa.String(20))
    municipality_id: Mapped[int] = mapped_column(sa.Integer)
    unit: Mapped[str | None] = mapped_column(sa.String(120))  # a job café, a team
    action: Mapped[AuditAction] = mapped_column(enum_column(AuditAction, "audit_action"))
    outcome: Mapped[AuditOutcome] = mapped_column(enum_column(AuditOutcome, "audit_outcome"),
                                                  default=AuditOutcome.ALLOWED)
    # Whom: a citizen, or the search term of a search (never a CPR number).
    citizen_id: Mapped[int | None] = mapped_column(sa.Integer)
    search_term: Mapped[str | None] = mapped_column(sa.String(120))
    channel: Mapped[str] = mapped_column(sa.String(20))
    purpose: Mapped[str | None] = mapped_column(sa.String(200))
