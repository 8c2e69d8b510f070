"""Rules about citizens: a new profile with the benefit group's requirement, and the CPR
number on file (encrypted at rest, shown masked)."""

from __future__ import annotations

import re
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..auth.models import Role, User
from ..extensions import db
from ..permissions import Actor, citizen_for
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


# --- Staff changes (a caseworker, from the citizen overview) ------------------------------
REQUIREMENT_MIN = Decimal("0.5")
REQUIREMENT_MAX = Decimal("30")


class RequirementError(ValueError):
    """Refused input: ``errors`` maps a form field to a localized message."""

    def __init__(self, errors: dict[str, object]) -> None:
        super().__init__("requirement refused: " + ", ".join(errors))
        self.errors = errors


def parse_requirement(raw_count: str, raw_period: str) -> tuple[Decimal, RequirementPeriod]:
    """A requirement from a form: a count such as ``6`` or ``1,5`` (one decimal at most,
    0.5 to 30) and ``week`` or ``month``. Raises ``RequirementError`` naming each wrong
    field."""
    errors: dict[str, object] = {}
    text = (raw_count or "").strip().replace(",", ".")
    count: Decimal | None = None
    if not re.fullmatch(r"[0-9]{1,2}(\.[0-9])?", text):
        errors["count"] = _l("Write a number, for example 6 or 1.5.")
    else:
        count = Decimal(text)
        if not REQUIREMENT_MIN <= count <= REQUIREMENT_MAX:
            errors["count"] = _l("Choose a number from %(low)s to %(high)s.",
                                 low=REQUIREMENT_MIN, high=REQUIREMENT_MAX)
    try:
        period = RequirementPeriod(raw_period or "")
    except ValueError:
        period = None
        errors["period"] = _l("Choose a week or a month.")
    if errors:
        raise RequirementError(errors)
    assert count is not None and period is not None
    return count, period


def set_requirement(actor: Actor, citizen_id: int, count: Decimal,
                    period: RequirementPeriod) -> CitizenProfile:
    """A caseworker sets the citizen's job-search requirement (audited as a change; 404
    outside the actor's municipality). Flushes."""
    citizen = citizen_for(actor, citizen_id, "change")
    profile = profile_of(citizen.id)
    if profile is None:
        raise NotACitizen("only citizens have a requirement")
    profile.requirement_count = count
    profile.requirement_period = period
    db.session.flush()
    return profile


def put_cpr_on_file(actor: Actor, citizen_id: int, raw_cpr: str) -> str:
    """A caseworker puts the citizen's CPR number on file or replaces it (audited as a
    change; 404 outside the actor's municipality); ``store_cpr`` releases the waiting
    entries. Returns the number masked. Raises ``cpr.CprError`` before anything is written
    for a number that is not a CPR number, ``cpr.CprInUse`` for another citizen's (the
    caller shows the page again and audits that as a read). Flushes."""
    from ..audit import services as audit
    from ..audit.models import AuditAction

    cpr_numbers.normalize(raw_cpr)  # refuse a wrong number before the audit row says "changed"
    citizen = citizen_for(actor, citizen_id, "change", audit_allowed=False)
    masked = store_cpr(citizen.id, raw_cpr)  # CprInUse: nothing changed, nothing audited
    audit.record(actor, AuditAction.CHANGE, citizen_id=citizen.id)
    return masked


def masked_cpr(profile: CitizenProfile) -> str | None:
    """The number on file, masked (birth date only); None when none is on file, ``"?"``
    when it cannot be read with the configured key."""
    try:
        number = cpr_of(profile)
    except cpr_numbers.CprError:
        return "?"
    return cpr_numbers.mask(number) if number else None
