"""The caseworker's citizen overview (conversation preparation): everything on one page,
read in a few statements, and the purpose asked once per citizen per day.

Where the purpose is remembered: server-side, in ``overview_purpose`` (one row per
caseworker, citizen and Danish day; a caseworker's older rows are deleted when they give a
new purpose). Not in the session cookie, so no list of looked-up citizens travels with the
browser, and the answer holds on the caseworker's other devices the same day. Every
opening of the overview is still audited (a READ row with the purpose); the purpose is
only not asked again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from ..activities.forms import clean_text
from ..activities.models import Activity, ActivityKind, RecordState
from ..auth.models import User
from ..citizens.models import BenefitGroup, CitizenProfile
from ..extensions import db
from ..models_base import utcnow
from ..progress.services import Smiley
from ..record.relay import WAIT_NO_CPR
from .groups import Period, judged, months_back
from .models import OverviewPurpose, PurposeGiven

PURPOSE_TEXT_MAX = 120
ENTRIES_SHOWN = 100
# The purposes of the overview's actions (audit rows; the citizen reads them in words).
PURPOSE_REQUIREMENT = "requirement"
PURPOSE_CPR = "cpr_number"
PURPOSE_RETRY = "retry_refused"


class PurposeError(ValueError):
    def __init__(self, errors: dict[str, object]) -> None:
        super().__init__("purpose refused: " + ", ".join(errors))
        self.errors = errors


def parse_purpose(form: Mapping[str, str]) -> tuple[OverviewPurpose, str | None]:
    """The purpose from the form: one of the list, "other" with a short text."""
    try:
        purpose = OverviewPurpose(form.get("purpose") or "")
    except ValueError:
        raise PurposeError({"purpose": _l("Choose why you open the overview.")}) from None
    if purpose != OverviewPurpose.OTHER:
        return purpose, None
    text = " ".join(clean_text(str(form.get("text") or ""), multiline=False).split())
    if not text:
        raise PurposeError({"text": _l("Write the purpose in a few words.")})
    if len(text) > PURPOSE_TEXT_MAX:
        raise PurposeError({"text": _l("Keep it short: at most %(max)s characters.",
                                       max=PURPOSE_TEXT_MAX)})
    return purpose, text


def purpose_today(staff_user_id: int, citizen_id: int, day: date) -> PurposeGiven | None:
    return db.session.scalar(sa.select(PurposeGiven).where(
        PurposeGiven.staff_user_id == staff_user_id, PurposeGiven.citizen_id == citizen_id,
        PurposeGiven.day == day))


def give_purpose(staff_user_id: int, citizen_id: int, day: date, purpose: OverviewPurpose,
                 text: str | None) -> PurposeGiven:
    """Remember the purpose for today (a new one replaces today's): an upsert, so a form
    sent twice at once (a double tap) is no unique violation. The caseworker's rows of
    earlier days go. Flushes."""
    db.session.execute(sa.delete(PurposeGiven).where(
        PurposeGiven.staff_user_id == staff_user_id, PurposeGiven.day < day)
        .execution_options(synchronize_session=False))
    dialect = sqlite if db.engine.dialect.name == "sqlite" else postgresql
    insert = dialect.insert(PurposeGiven.__table__).values(
        staff_user_id=staff_user_id, citizen_id=citizen_id, day=day, purpose=purpose,
        text=text, at=utcnow())
    db.session.execute(insert.on_conflict_do_update(
        index_elements=["staff_user_id", "citizen_id", "day"],
        set_={"purpose": insert.excluded.purpose, "text": insert.excluded.text,
              "at": insert.excluded.at}))
    given = purpose_today(staff_user_id, citizen_id, day)
    assert given is not None
    db.session.refresh(given)
    return given


def audit_purpose(given: PurposeGiven) -> str:
    """What the audit row keeps: the purpose's key (worded for the citizen by
    audit/presenter.py), or the caseworker's own words for "other"."""
    if given.purpose == OverviewPurpose.OTHER and given.text:
        return given.text
    return given.purpose.value


# --- What the page shows -------------------------------------------------------------------
@dataclass(frozen=True)
class MonthLine:
    period: Period
    searches: int
    goal: int | None  # STAR's goal for the days the citizen had to register; None: none
    group: Smiley | None
    exempt_days: int
    obliged_days: int

    @property
    def before_account(self) -> bool:
        """The month ended before the citizen's account was made: nothing to show."""
        return self.obliged_days <= 0 and not self.exempt_days and not self.searches


def months(citizen_id: int, today: date, count: int = 12) -> list[MonthLine]:
    """The citizen's STAR group and job searches for each of the last ``count`` months
    (groups.judged: one statement for all of them), oldest first. The goal is STAR's
    (6 a month, dagpenge 1.5 a week) for the days the citizen had to register."""
    periods = months_back(today, count)
    j = judged(periods, User.id == citizen_id)
    rows = {r.idx: r for r in db.session.execute(sa.select(
        j.c.idx, j.c.benefit_group, j.c.searches, j.c.exempt_days, j.c.obliged_days, j.c.grp))}
    lines = []
    for p in periods:
        r = rows.get(p.index)
        if r is None:
            continue
        obliged = int(r.obliged_days)
        goal = None
        if obliged > 0:
            dagpenge = BenefitGroup(r.benefit_group) == BenefitGroup.DAGPENGE
            rate10, rate_days = (15, 7) if dagpenge else (60, p.days)
            goal = -(-(rate10 * obliged) // (10 * rate_days))
        lines.append(MonthLine(p, int(r.searches), goal, Smiley(r.grp) if r.grp else None,
                               int(r.exempt_days), obliged))
    return lines


def entries(citizen_id: int, limit: int = ENTRIES_SHOWN) -> tuple[list[Any], int]:
    """The citizen's newest entries (not deleted) with the role of who entered them, and
    how many there are in all."""
    a = Activity.__table__.c
    live = sa.and_(a.citizen_id == citizen_id, a.deleted_at.is_(None))
    rows = db.session.execute(
        sa.select(a.id, a.kind, a.title, a.organisation, a.person, a.description,
                  a.occurred_on, a.deadline, a.status, a.converted_to_id, a.channel,
                  a.record_state, a.record_attempts, a.record_synced_at, a.record_error,
                  a.created_at, a.entered_by_id, User.role.label("entered_by_role"),
                  sa.func.count().over().label("total"))
        .join(User, User.id == a.entered_by_id)
        .where(live, a.kind != ActivityKind.PLANNED_JOB)
        .order_by(a.created_at.desc(), a.id.desc()).limit(limit)).all()
    return rows, (rows[0].total if rows else 0)


def planned_jobs(citizen_id: int) -> list[Activity]:
    """Planned jobs not yet applied for, the nearest deadline first."""
    return list(db.session.scalars(sa.select(Activity).where(
        Activity.citizen_id == citizen_id, Activity.kind == ActivityKind.PLANNED_JOB,
        Activity.deleted_at.is_(None), Activity.converted_to_id.is_(None))
        .order_by(Activity.deadline.is_(None), Activity.deadline, Activity.id.desc())
        .limit(50)))


def waiting_for_cpr(citizen_id: int) -> int:
    """Entries waiting for a CPR number (released when one is put on file)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Activity).where(
        Activity.citizen_id == citizen_id, Activity.record_state == RecordState.WAITING,
        Activity.record_error == WAIT_NO_CPR)) or 0


def profile(citizen_id: int) -> CitizenProfile | None:
    return db.session.get(CitizenProfile, citizen_id)
