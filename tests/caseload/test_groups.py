"""STAR's groups in SQL (both database engines): month and week boundaries, exemptions that
cut a month in two, dagpenge's weekly average, and the municipality's twelve months."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from joblog_app.activities.models import ActivityKind
from joblog_app.activities.services import create_activity, delete_activity
from joblog_app.auth.models import Role, User
from joblog_app.caseload import groups
from joblog_app.citizens import exemptions
from joblog_app.citizens.models import BenefitGroup, Exemption, LegalBasis
from joblog_app.extensions import db
from joblog_app.progress.services import Smiley
from tests.conftest import acting

JAN = (date(2026, 1, 1), date(2026, 1, 31))


def _citizen(make_citizen, group=BenefitGroup.KONTANTHJAELP, since=date(2025, 1, 1)) -> User:  # type: ignore[no-untyped-def]
    user = make_citizen(group=group)
    user.created_at = datetime.combine(since, datetime.min.time()) + timedelta(hours=9)
    db.session.commit()
    return user


def _search(user: User, day: date, kind: ActivityKind = ActivityKind.APPLICATION):  # type: ignore[no-untyped-def]
    data = {"organisation": "Netto", "title": "Kasse", "occurred_on": day, "method": "advertised",
            "status": "applied", "person": "Sara", "description": "Jobmesse"}
    return create_activity(user.id, kind, data, actor=acting(user)).activity


def _exempt(user: User, start: date, end: date) -> None:
    db.session.add(Exemption(citizen_id=user.id, municipality_id=user.municipality_id,
                             legal_basis=LegalBasis.LAS_75_5, starts_on=start, ends_on=end,
                             granted_by_id=user.id))
    db.session.commit()


def _group(user: User, start: date = JAN[0], end: date = JAN[1]) -> Smiley | None:
    found = groups.citizen_group(user.id, start, end)
    assert found is not None
    return found.group


@pytest.mark.parametrize(("searches", "expected"), [
    (0, Smiley.RED), (1, Smiley.LIGHT_GREEN), (5, Smiley.LIGHT_GREEN), (6, Smiley.GREEN),
])
def test_six_a_month_for_kontanthjaelp_and_sho(make_citizen, searches, expected):
    for benefit in (BenefitGroup.KONTANTHJAELP, BenefitGroup.SHO):
        user = _citizen(make_citizen, benefit)
        for i in range(searches):
            _search(user, date(2026, 1, 1 + i * 5))
        assert _group(user) == expected


def test_only_job_searches_inside_the_month_count(make_citizen):
    user = _citizen(make_citizen)
    for day in (date(2025, 12, 31), date(2026, 2, 1)):  # just outside
        _search(user, day)
    _search(user, date(2026, 1, 10), ActivityKind.COFFEE_MEETING)
    deleted = _search(user, date(2026, 1, 10))
    delete_activity(acting(user), deleted)
    assert _group(user) == Smiley.RED
    for _ in range(5):
        _search(user, date(2026, 1, 1))
    _search(user, date(2026, 1, 31))  # both ends of the month count
    found = groups.citizen_group(user.id, *JAN)
    assert (found.searches, found.group) == (6, Smiley.GREEN)


def test_dagpenge_by_weekly_average(make_citizen):
    user = _citizen(make_citizen, BenefitGroup.DAGPENGE)
    week = (date(2026, 1, 5), date(2026, 1, 11))  # Monday to Sunday
    assert _group(user, *week) == Smiley.RED
    _search(user, date(2026, 1, 11))
    assert _group(user, *week) == Smiley.LIGHT_GREEN  # 1 < 1.5
    _search(user, date(2026, 1, 5))
    assert _group(user, *week) == Smiley.GREEN
    _search(user, date(2026, 1, 12))  # the next week's Monday is not this week's
    assert groups.citizen_group(user.id, *week).searches == 2
    # A month of 31 days asks 1.5 x 31 / 7 = 6.64: 6 is light green, 7 green.
    for i in range(3):
        _search(user, date(2026, 1, 20 + i))
    assert _group(user) == Smiley.LIGHT_GREEN
    _search(user, date(2026, 1, 31))
    assert _group(user) == Smiley.GREEN


def test_an_exemption_cutting_the_month_asks_its_share(make_citizen):
    user = _citizen(make_citizen)
    _exempt(user, date(2025, 12, 15), date(2026, 1, 16))  # 16 days exempt, 15 obliged
    found = groups.citizen_group(user.id, *JAN)
    assert (found.exempt_days, found.obliged_days, found.group) == (16, 15, Smiley.RED)
    # 6 x 15 / 31 = 2.9: two searches are light green, three green.
    _search(user, date(2026, 1, 3))  # during the exemption: searching goes on, it counts
    _search(user, date(2026, 1, 20))
    assert _group(user) == Smiley.LIGHT_GREEN
    _search(user, date(2026, 1, 21))
    assert _group(user) == Smiley.GREEN


def test_a_whole_month_exempt_is_left_out(make_citizen):
    user = _citizen(make_citizen)
    _exempt(user, date(2025, 12, 20), date(2026, 2, 5))
    found = groups.citizen_group(user.id, *JAN)
    assert (found.obliged_days, found.group) == (0, None)


def test_an_exemption_ended_early_counts_to_its_last_day(make_citizen):
    user = _citizen(make_citizen)
    caseworker = make_citizen(role=Role.CASEWORKER, email="cw@example.org")
    _exempt(user, date(2026, 1, 1), date(2026, 3, 31))
    exemption = db.session.scalar(sa.select(Exemption))
    exemptions.end_early(acting(caseworker), user.id, exemption.id, date(2026, 1, 11))
    assert groups.citizen_group(user.id, *JAN).obliged_days == 21


def test_a_new_user_counts_from_the_day_the_account_was_made(make_citizen):
    user = _citizen(make_citizen, since=date(2026, 1, 21))  # 11 days: 6 x 11/31 = 2.1
    assert groups.citizen_group(user.id, *JAN).obliged_days == 11
    _search(user, date(2026, 1, 22))
    _search(user, date(2026, 1, 23))
    assert _group(user) == Smiley.LIGHT_GREEN
    _search(user, date(2026, 1, 24))
    assert _group(user) == Smiley.GREEN
    assert groups.citizen_group(user.id, date(2025, 12, 1), date(2025, 12, 31)).group is None


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(1, 31), max_size=8), st.integers(1, 31),
       st.sampled_from(list(BenefitGroup)),
       st.one_of(st.none(), st.tuples(st.integers(1, 31), st.integers(0, 40))))
def test_adding_a_job_search_never_makes_the_group_worse(make_citizen, days, extra, benefit,
                                                         exemption):
    rank = {None: -1, Smiley.RED: 0, Smiley.LIGHT_GREEN: 1, Smiley.GREEN: 2}
    user = _citizen(make_citizen, benefit)
    if exemption:
        start = date(2026, 1, exemption[0])
        _exempt(user, start, start + timedelta(days=exemption[1]))
    for day in days:
        _search(user, date(2026, 1, day))
    before = _group(user)
    _search(user, date(2026, 1, extra))
    after = _group(user)
    assert rank[after] >= rank[before]
    assert (before is None) == (after is None)


def test_municipality_figures_for_twelve_months(make_citizen):
    today = date(2026, 3, 10)
    green = _citizen(make_citizen)
    for i in range(6):
        _search(green, date(2026, 2, 1 + i))
    light = _citizen(make_citizen, BenefitGroup.SHO)
    _search(light, date(2026, 2, 28))
    _citizen(make_citizen, BenefitGroup.DAGPENGE)  # red
    exempt = _citizen(make_citizen)
    _exempt(exempt, date(2026, 2, 1), date(2026, 2, 28))
    make_citizen(role=Role.CASEWORKER, email="cw@example.org")  # staff are not counted
    gone = _citizen(make_citizen)
    gone.is_active = False
    db.session.commit()

    figures = groups.municipality_figures(green.municipality_id, today)
    assert [m.period.start for m in figures][0] == date(2025, 4, 1)
    assert figures[-1].period == groups.Period(11, date(2026, 3, 1), date(2026, 3, 31))
    feb = figures[-2]
    assert feb.counts == {Smiley.GREEN: 1, Smiley.LIGHT_GREEN: 1, Smiley.RED: 1}
    assert feb.left_out == 1 and feb.total == 3
    assert feb.by_benefit[BenefitGroup.SHO][Smiley.LIGHT_GREEN] == 1
    assert feb.by_benefit[BenefitGroup.DAGPENGE][Smiley.RED] == 1
    assert figures[-1].counts[Smiley.RED] == 4  # March so far: nobody has searched
    assert all(m.follow_up is None for m in figures)
    assert groups.municipality_figures(green.municipality_id + 1, today)[-1].total == 0


def test_stars_follow_up_criteria():
    def month(i: int, red: int, other: int) -> groups.MonthFigures:
        by = {b: dict.fromkeys(groups.GROUPS, 0) for b in BenefitGroup}
        by[BenefitGroup.KONTANTHJAELP].update({Smiley.RED: red, Smiley.GREEN: other})
        by[BenefitGroup.DAGPENGE][Smiley.RED] = 100  # not STAR's population here
        return groups.MonthFigures(groups.Period(i, date(2026, 1, 1), date(2026, 1, 31)),
                                   {}, by, 0)

    figures = [month(0, 25, 25), month(1, 21, 29), month(2, 21, 29), month(3, 22, 28),
               month(4, 19, 0), month(5, 30, 10)]
    groups._flag_follow_ups(figures)
    # 50 %: at once; 42 % three months running; 19 red is below STAR's floor of 20.
    assert [m.follow_up for m in figures] == ["immediate", None, "three_months", "three_months",
                                              None, None]
