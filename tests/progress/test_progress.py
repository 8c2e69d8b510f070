"""Smiley status and counts against STAR's benchmark (seeds/001)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from joblog_app.activities.models import Activity, ActivityKind, RecordState
from joblog_app.activities.services import create_activity, delete_activity
from joblog_app.auth.models import Role
from joblog_app.citizens.models import BenefitGroup, RequirementPeriod
from joblog_app.extensions import db
from joblog_app.progress.services import Smiley, month_bounds, overview, progress_for
from joblog_app.record.services import CitizenSync, citizen_sync
from tests.conftest import acting

TODAY = date(2026, 11, 22)


def _apply(user, day: date, kind: ActivityKind = ActivityKind.APPLICATION):
    data = {"organisation": "Netto", "title": "Kasse", "occurred_on": day, "method": "advertised",
            "status": "applied", "description": "Jobmesse", "person": "Sara"}
    return create_activity(user.id, kind, data, actor=acting(user)).activity


def test_defaults_follow_stars_benchmark(make_citizen):
    kh = make_citizen(group=BenefitGroup.KONTANTHJAELP).profile
    sho = make_citizen(group=BenefitGroup.SHO).profile
    dp = make_citizen(group=BenefitGroup.DAGPENGE).profile
    assert (kh.requirement_count, kh.requirement_period) == (Decimal("6"), RequirementPeriod.MONTH)
    assert (sho.requirement_count, sho.requirement_period) == (6, RequirementPeriod.MONTH)
    assert (dp.requirement_count, dp.requirement_period) == (Decimal("1.5"), RequirementPeriod.WEEK)


@pytest.mark.parametrize(("applications", "smiley", "left"), [
    (0, Smiley.RED, 6), (1, Smiley.LIGHT_GREEN, 5), (5, Smiley.LIGHT_GREEN, 1),
    (6, Smiley.GREEN, 0), (8, Smiley.GREEN, 0),
])
def test_monthly_smiley(make_citizen, applications, smiley, left):
    user = make_citizen(group=BenefitGroup.SHO)
    for i in range(applications):
        _apply(user, TODAY - timedelta(days=i % 20))
    p = progress_for(user.profile, TODAY)
    assert (p.count, p.smiley, p.left, p.target) == (applications, smiley, left, 6)


def test_only_this_months_applications_count(make_citizen):
    user = make_citizen()
    _apply(user, date(2026, 10, 31))  # last month
    _apply(user, date(2026, 11, 1))
    _apply(user, TODAY, ActivityKind.COFFEE_MEETING)  # helps, but is not a job search
    _apply(user, TODAY, ActivityKind.OTHER)
    deleted = _apply(user, TODAY)
    delete_activity(acting(user), deleted)
    assert progress_for(user.profile, TODAY).count == 1


def test_dagpenge_average_per_week(make_citizen):
    user = make_citizen(group=BenefitGroup.DAGPENGE)
    day = date(2026, 11, 14)  # two weeks into the month: 3 searches are due by now
    assert progress_for(user.profile, day).smiley == Smiley.RED
    _apply(user, date(2026, 11, 3))
    _apply(user, date(2026, 11, 10))
    p = progress_for(user.profile, day)
    assert p.smiley == Smiley.LIGHT_GREEN and p.average_per_week == Decimal("1.0")
    _apply(user, date(2026, 11, 12))
    p = progress_for(user.profile, day)
    assert p.smiley == Smiley.GREEN and p.per_week == Decimal("1.5")
    assert p.target == 7  # ceil(1.5 x 30/7 weeks)


def test_month_bounds():
    assert month_bounds(date(2026, 2, 10)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_bounds(date(2026, 12, 31)) == (date(2026, 12, 1), date(2026, 12, 31))


def _set_state(activity, state: RecordState, error: str | None = None) -> None:
    db.session.execute(sa.update(Activity).where(Activity.id == activity.id)
                       .values(record_state=state, record_error=error))
    db.session.commit()


@pytest.mark.parametrize("group", [BenefitGroup.SHO, BenefitGroup.DAGPENGE])
def test_overview_is_progress_for_and_citizen_sync_in_one_statement(make_citizen, group):
    """The home screen's one statement agrees with progress_for and citizen_sync."""
    user, other = make_citizen(group=group), make_citizen()
    day = date(2026, 11, 14)
    entries = [_apply(user, date(2026, 11, d)) for d in (1, 3, 10, 14)]
    _apply(user, date(2026, 10, 31))  # last month
    _apply(user, day, ActivityKind.COFFEE_MEETING)
    _apply(user, day, ActivityKind.NETWORK_LEAD)  # stays local
    delete_activity(acting(user), _apply(user, day))  # deleted: not a job search, still on its way (cancel)
    _apply(other, day)
    _set_state(entries[0], RecordState.FAILED, "refused")
    _set_state(entries[1], RecordState.SYNCED)
    _set_state(entries[2], RecordState.WAITING, "no_cpr")

    progress, sync = overview(user.id, day)
    assert progress == progress_for(user.profile, day)
    assert sync == citizen_sync(user.id)
    assert (progress.count, sync.on_the_way, sync.failed, sync.waiting_reason) == (4, 5, 1, "no_cpr")


def test_overview_without_profile_or_entries(make_citizen):
    helper = make_citizen(role=Role.HELPER)  # staff have no citizen profile
    assert overview(helper.id, TODAY) == (None, CitizenSync(0, 0, None))
    user = make_citizen()
    progress, sync = overview(user.id, TODAY)
    assert (progress.count, progress.smiley, sync) == (0, Smiley.RED, CitizenSync(0, 0, None))
