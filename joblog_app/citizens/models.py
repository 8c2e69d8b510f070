"""The citizen's profile: benefit group, job-search requirement ("Krav til jobsøgning") and
the CPR number, encrypted."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models_base import enum_column

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

    user: Mapped[User] = relationship(back_populates="profile")
