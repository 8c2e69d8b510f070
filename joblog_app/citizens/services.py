"""Rules about citizens: a new profile with the benefit group's requirement, and the CPR
number on file (encrypted at rest, shown masked)."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from ..auth.models import Role, User
from ..extensions import db
from . import cpr as cpr_numbers
from . import signals
from .models import BenefitGroup, CitizenProfile, RequirementPeriod

# STAR's benchmark as defaults; a caseworker may set another requirement per citizen.
DEFAULT_REQUIREMENTS: dict[BenefitGroup, tuple[Decimal, RequirementPeriod]] = {
    BenefitGroup.KONTANTHJAELP: (Decimal("6"), RequirementPeriod.MONTH),
    BenefitGroup.SHO: (Decimal("6"), RequirementPeriod.MONTH),
    BenefitGroup.DAGPENGE: (Decimal("1.5"), RequirementPeriod.WEEK),
    BenefitGroup.OTHER: (Decimal("6"), RequirementPeriod.MONTH),
}


class NotACitizen(ValueError):
    """Only citizens have a profile (and a CPR number on file)."""


def new_profile(user_id: int, group: BenefitGroup) -> CitizenProfile:
    count, period = DEFAULT_REQUIREMENTS[group]
    return CitizenProfile(user_id=user_id, benefit_group=group, requirement_count=count,
                          requirement_period=period)


def profile_of(citizen_id: int) -> CitizenProfile | None:
    return db.session.get(CitizenProfile, citizen_id)


def store_cpr(citizen_id: int, raw_cpr: str) -> str:
    """Put the CPR number on file, encrypted, and tell the features that wait for it
    (``signals.cpr_on_file``: the record releases waiting entries); returns it masked.
    Flushes.

    Raises ``cpr.CprError`` for a number that is not a CPR number, ``NotACitizen`` for a user
    without a profile."""
    profile = profile_of(citizen_id)
    if profile is None:
        raise NotACitizen("only citizens have a CPR number on file")
    number = cpr_numbers.normalize(raw_cpr)
    index = cpr_numbers.blind_index(number)
    other = db.session.scalar(sa.select(CitizenProfile.user_id).where(
        CitizenProfile.cpr_index == index, CitizenProfile.user_id != citizen_id))
    if other is not None:
        raise cpr_numbers.CprInUse("this CPR number is on file for another citizen")
    profile.cpr_encrypted = cpr_numbers.encrypt(number)
    profile.cpr_index = index
    db.session.flush()
    signals.cpr_on_file.send(citizen_id=citizen_id)
    return cpr_numbers.mask(number)


def citizen_by_cpr(raw_cpr: str) -> User | None:
    """The active citizen whose CPR number is on file as ``raw_cpr`` (found through the
    blind index, nothing decrypted), or None; ``cpr.CprError`` for a malformed number."""
    index = cpr_numbers.blind_index(raw_cpr)
    return db.session.scalar(
        sa.select(User).join(CitizenProfile, CitizenProfile.user_id == User.id)
        .where(CitizenProfile.cpr_index == index, User.is_active, User.role == Role.CITIZEN))


def cpr_of(profile: CitizenProfile) -> str | None:
    """The citizen's CPR number in clear, for the record only; None when none is on file.
    Normalised again: numbers stored before only ASCII digits were accepted."""
    if not profile.cpr_encrypted:
        return None
    return cpr_numbers.normalize(cpr_numbers.decrypt(profile.cpr_encrypted))
