"""Recorded requests: the lawful basis on which a helper registers entries for a citizen."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models_base import enum_column, utcnow


class Basis(enum.StrEnum):
    # Integrationsloven § 26 a, stk. 6: the citizen asked the job centre for help putting
    # information on Jobnet.
    IL_26A_6 = "il_26a_6"
    # Forvaltningsloven § 8: the citizen is represented by someone (named).
    FVL_8 = "fvl_8"


class AssistanceRequest(db.Model):
    """One recorded request, valid from ``valid_from`` to ``valid_until`` (both days
    included, at most six months). A renewal is a new row pointing at the one it renews,
    so the history stays; withdrawing (citizen) or ending (staff) sets ``withdrawn_at``.
    Roles are kept as they were at the time, as the audit log keeps them."""

    __table_args__ = (sa.Index("ix_assistance_request_citizen", "citizen_id", "valid_until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id"))
    basis: Mapped[Basis] = mapped_column(enum_column(Basis, "assistance_basis"))
    representative: Mapped[str | None] = mapped_column(sa.String(120))  # FVL § 8 only
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    recorded_by_role: Mapped[str] = mapped_column(sa.String(20))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_from: Mapped[date]
    valid_until: Mapped[date]
    renews_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assistance_request.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    withdrawn_by_role: Mapped[str | None] = mapped_column(sa.String(20))

    def active_on(self, day: date) -> bool:
        return self.withdrawn_at is None and self.valid_from <= day <= self.valid_until
