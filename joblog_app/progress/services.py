"""This period's job searches against the citizen's requirement, and the smiley status.

STAR's benchmark (seeds/001): for kontanthjælp and SHO, green at 6 or more registered
job searches in the month, light green at 1-5, red at 0. For dagpenge, green at 1.5 or
more per week on average, light green above 0, red at 0. An entry counts as a job search
when it has status Søgt or a later one (Samtale, Afslag, Fik job): every application does.

A citizen exempt from registering today (citizens/exemptions.py) is never shown red: the
smiley is ``EXEMPT`` instead (green and light green stay, they are earned). This is the one
place that rule is written.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from ..activities.models import Activity, ActivityKind
from ..citizens import exemptions
from ..citizens.models import CitizenProfile, RequirementPeriod
from ..core.clock import month_bounds
from ..extensions import db
from ..record import services as record


class Smiley(enum.StrEnum):
    GREEN = "green"
    LIGHT_GREEN = "light_green"
    RED = "red"
    EXEMPT = "exempt"  # exempt from registering today, and no job search yet


@dataclass(frozen=True)
class Progress:
    period_start: date
    period_end: date
    count: int
    target: int  # job searches needed by the end of the month
    left: int
    smiley: Smiley
    per_week: Decimal | None  # requirement per week (dagpenge) or None for monthly
    average_per_week: Decimal | None
    # What the smiley is measured against today: the month's target (monthly), or what is
    # due by today at the weekly rate (dagpenge), so smiley, words and meter agree.
    due_now: int = 0
    left_now: int = 0
    exempt_until: date | None = None  # the last day of today's exemption, if any


_a = Activity.__table__.c


def is_job_search(start: sa.ColumnElement[date] | date, end: sa.ColumnElement[date] | date
                  ) -> sa.ColumnElement[bool]:
    """STAR's rule, the one place it is written: an entry counts as a job search when it is
    an application (status Søgt or later) dated inside the period and not deleted."""
    return sa.and_(_a.kind == ActivityKind.APPLICATION, _a.deleted_at.is_(None),
                   _a.occurred_on.between(start, end))


_COUNT = sa.select(sa.func.count()).select_from(Activity.__table__).where(
    _a.citizen_id == sa.bindparam("citizen_id", type_=sa.Integer),
    is_job_search(sa.bindparam("start", type_=sa.Date), sa.bindparam("end", type_=sa.Date)))


def count_job_searches(citizen_id: int, start: date, end: date) -> int:
    return db.session.scalar(_COUNT, {"citizen_id": citizen_id, "start": start, "end": end}) or 0


def progress_for(profile: CitizenProfile, today: date) -> Progress:
    """Progress in the calendar month that contains ``today``."""
    start, end = month_bounds(today)
    count = count_job_searches(profile.user_id, start, end)
    exemption = exemptions.current(profile.user_id, today)
    return _progress(Decimal(profile.requirement_count), profile.requirement_period, count, today,
                     exemption.last_day if exemption else None)


def _progress(required: Decimal, period: RequirementPeriod, count: int, today: date,
              exempt_until: date | None = None) -> Progress:
    progress = _measured(required, period, count, today)
    if exempt_until is None:
        return progress
    smiley = Smiley.EXEMPT if progress.smiley == Smiley.RED else progress.smiley
    return replace(progress, smiley=smiley, exempt_until=exempt_until)


def _measured(required: Decimal, period: RequirementPeriod, count: int, today: date) -> Progress:
    start, end = month_bounds(today)
    if period == RequirementPeriod.MONTH:
        target = math.ceil(required)
        smiley = Smiley.GREEN if count >= target else Smiley.LIGHT_GREEN if count else Smiley.RED
        return Progress(start, end, count, target, max(0, target - count), smiley, None, None,
                        target, max(0, target - count))

    weeks_in_month = Decimal((end - start).days + 1) / 7
    weeks_so_far = max(Decimal(1), Decimal((today - start).days + 1) / 7)
    average = (Decimal(count) / weeks_so_far).quantize(Decimal("0.1"))
    target = math.ceil(required * weeks_in_month)
    due_by_now = math.ceil(required * weeks_so_far)
    if count >= due_by_now:
        smiley = Smiley.GREEN
    else:
        smiley = Smiley.LIGHT_GREEN if count else Smiley.RED
    return Progress(start, end, count, target, max(0, target - count), smiley, required, average,
                    due_by_now, max(0, due_by_now - count))


# The home screen's figures in one statement, built once (a request only executes it):
# this month's job searches, the record delivery counts (record.services.sync_columns) and
# the citizen's requirement (no row: not a citizen).
_profile = CitizenProfile.__table__
_citizen = sa.bindparam("citizen_id", type_=sa.Integer)
_counts = (
    sa.select(
        sa.func.count(sa.case((is_job_search(sa.bindparam("start", type_=sa.Date),
                                             sa.bindparam("end", type_=sa.Date)), 1)))
        .label("job_searches"),
        *record.sync_columns(),
    )
    .where(_a.citizen_id == _citizen)
    .subquery()
)
_OVERVIEW = (
    sa.select(_counts, _profile.c.requirement_count, _profile.c.requirement_period,
              exemptions.exempt_until_column(_citizen, sa.bindparam("today", type_=sa.Date))
              .label("exempt_until"))
    .select_from(_counts.outerjoin(_profile, _profile.c.user_id == _citizen))
)


def overview(citizen_id: int, today: date) -> tuple[Progress | None, record.CitizenSync]:
    """``progress_for`` the citizen's profile (None without one) and ``citizen_sync``."""
    start, end = month_bounds(today)
    row = db.session.execute(_OVERVIEW, {"citizen_id": citizen_id, "start": start,
                                         "end": end, "today": today}).one()
    sync = record.CitizenSync(row.on_the_way, row.failed, row.waiting_reason)
    if row.requirement_period is None:
        return None, sync
    return _progress(Decimal(row.requirement_count), row.requirement_period, row.job_searches,
                     today, row.exempt_until), sync
