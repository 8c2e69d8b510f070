"""The citizen's profile: benefit group, job-search requirement ("Krav til jobsøgning") and
the CPR number, encrypted."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models_base import enum_column, utcnow

if TYPE_CHECKING:
    from ..auth.models import User


class BenefitGroup(enum.StrEnum):
    DAGPENGE = "dagpenge"
    KONTANTHJAELP = "kontanthjaelp"
    SHO = "sho"  # selvforsørgelses-, hjemrejse- og overgangsydelse
    OTHER = "other"


class RequirementPeriod(enum.StrEnum):
    WEEK = "week"
    MONTH = "month"


class CitizenProfile(db.Model):
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    benefit_group: Mapped[BenefitGroup] = mapped_column(enum_column(BenefitGroup, "benefit_group"))
    # Number of job searches per period; dagpenge uses an average per week (1.5).
    requirement_count: Mapped[Decimal] = mapped_column(sa.Numeric(4, 1))
    requirement_period: Mapped[RequirementPeriod] = mapped_column(
        enum_column(RequirementPeriod, "requirement_period")
    )
    # CPR number, encrypted with JOBLOG_CPR_KEY (citizens/cpr.py); never logged or shown whole.
    cpr_encrypted: Mapped[str | None] = mapped_column(sa.String(200))
    # Its blind index (cpr.blind_index, a keyed hash): finds the citizen a login with MitID
    # vouches for. Unique: one profile per CPR number.
    cpr_index: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    user: Mapped[User] = relationship(back_populates="profile")


class LegalBasis(enum.StrEnum):
    """Where an exemption from registering comes from (the reason itself may be health data
    and is never stored: only the basis and the dates)."""

    LAS_75_5 = "las_75_5"  # lov om en aktiv beskæftigelsesindsats § 75, stk. 5
    INTEGRATION_26A_4 = "integration_26a_4"  # integrationsloven § 26 a, stk. 4


class Exemption(db.Model):
    """An exemption from registering job searches (not from searching), from ``starts_on``
    to ``ends_on`` (both included; an end date is required so it must be renewed). Ended
    early: ``ended_on`` is the last exempt day (before ``starts_on`` when it never began).
    A citizen's exemptions never overlap (citizens/exemptions.py refuses it)."""

    __table_args__ = (
        sa.Index("ix_exemption_citizen_starts", "citizen_id", "starts_on"),
        sa.Index("ix_exemption_municipality_ends", "municipality_id", "ends_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id"))
    legal_basis: Mapped[LegalBasis] = mapped_column(enum_column(LegalBasis, "legal_basis"))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    # Free text for the caseworker; the page warns never to write health information here.
    note: Mapped[str | None] = mapped_column(sa.String(300))
    granted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_on: Mapped[date | None]
    ended_early_at: Mapped[datetime | None]
    ended_early_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    @property
    def last_day(self) -> date:
        """The last exempt day, after an early end too."""
        return self.ended_on if self.ended_on is not None else self.ends_on
