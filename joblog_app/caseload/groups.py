"""STAR's three groups (seeds/001: green, light green, red) for citizens and periods, in
set-based SQL: one statement for a whole municipality and twelve months.

The rule (kontanthjælp, SHO and our "other" group: 6 job searches a calendar month;
dagpenge: 1.5 a week on average; light green above 0; red at 0). What counts as a job
search is ``progress.services.is_job_search``, used here in the SQL.

How exemptions count (our reading of seeds/001 and PRODUCT.md): STAR measures the citizens
*obliged* to register in the month, and an exemption frees from registering. So:

- a citizen's *obliged days* in a period are its days from the day the account was made,
  less the days under an exemption;
- a citizen with no obliged day in the period is left out (not counted in any group);
- otherwise the target is pro rata: green when job searches >= rate x obliged days, with
  rate = 6 / days in the month (dagpenge: 1.5 / 7). A full month is exactly STAR's 6 (or
  1.5 a week); a month cut in two by an exemption asks for its share. Every job search in
  the period counts, also one registered during the exemption (searching goes on).
- light green above zero, red at zero, as STAR. The current month is judged against the
  whole month's target: "so far".

In integers (no rounding differences between the databases): green when
``10 x searches x rate_days >= rate10 x obliged_days`` with (rate10, rate_days) = (60, days
in the month) or, for dagpenge, (15, 7)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from ..activities.models import Activity
from ..auth.models import Role, User
from ..cafes.models import Cafe, CafeSession, CheckIn
from ..citizens.models import BenefitGroup, CitizenProfile, Exemption
from ..core.clock import month_bounds
from ..core.sqldates import as_date, days_between, greatest, overlap_days
from ..extensions import db
from ..progress.services import Smiley, is_job_search

GROUPS = (Smiley.GREEN, Smiley.LIGHT_GREEN, Smiley.RED)


@dataclass(frozen=True)
class Period:
    index: int
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def months_back(today: date, count: int = 12) -> list[Period]:
    """The last ``count`` calendar months, oldest first, the current month last."""
    firsts = [today.replace(day=1)]
    for _ in range(count - 1):
        firsts.append((firsts[-1] - timedelta(days=1)).replace(day=1))
    return [Period(i, *month_bounds(first)) for i, first in enumerate(reversed(firsts))]


def _periods(periods: Sequence[Period]) -> sa.Subquery:
    rows = [sa.select(sa.literal(p.index, sa.Integer).label("idx"),
                      sa.literal(p.start, sa.Date).label("start"),
                      sa.literal(p.end, sa.Date).label("end"),
                      sa.literal(p.days, sa.Integer).label("days")) for p in periods]
    return (rows[0] if len(rows) == 1 else sa.union_all(*rows)).subquery("period")


def judged(periods: Sequence[Period], *where: sa.ColumnElement[bool]) -> sa.Subquery:
    """One row per active citizen (``where`` narrows: a municipality, one citizen) and
    period: ``citizen_id, benefit_group, idx, searches, exempt_days, obliged_days, grp``
    (``grp`` NULL when left out: no obliged day)."""
    p = _periods(periods)
    a = Activity.__table__.c
    first, last = min(x.start for x in periods), max(x.end for x in periods)
    citizens = sa.select(User.id).where(User.role == Role.CITIZEN, *where)
    # A count per period side by side, from ix_activity_job_search alone (no join of
    # every entry against every period, no sort). On PostgreSQL a LATERAL look-up per
    # citizen reads only these citizens' index entries; SQLite has no LATERAL: grouped.
    counts = [sa.func.count().filter(a.occurred_on.between(x.start, x.end)).label(f"n{i}")
              for i, x in enumerate(periods)]
    lateral = db.engine.dialect.name == "postgresql"
    if lateral:
        searches = (sa.select(*counts)
                    .where(a.citizen_id == User.id, is_job_search(first, last))
                    .lateral("searches"))
        on_searches: sa.ColumnElement[bool] = sa.true()
    else:
        searches = (sa.select(a.citizen_id, *counts)
                    .where(is_job_search(first, last), a.citizen_id.in_(citizens))
                    .group_by(a.citizen_id)
                    .subquery("searches"))
        on_searches = searches.c.citizen_id == User.id
    period_searches = sa.case(*((p.c.idx == x.index, searches.c[f"n{i}"])
                                for i, x in enumerate(periods)), else_=0)
    last_day = sa.func.coalesce(Exemption.ended_on, Exemption.ends_on)
    exempt = (
        sa.select(Exemption.citizen_id, p.c.idx,
                  sa.func.sum(overlap_days(Exemption.starts_on, last_day, p.c.start, p.c.end))
                  .label("d"))
        .join(p, sa.and_(Exemption.starts_on <= p.c.end, last_day >= p.c.start))
        .where(Exemption.citizen_id.in_(citizens))
        .group_by(Exemption.citizen_id, p.c.idx)
        .subquery("exempt"))
    n = sa.func.coalesce(period_searches, 0)
    exempt_days = sa.func.coalesce(exempt.c.d, 0)
    obliged = days_between(p.c.end, greatest(p.c.start, as_date(User.created_at))) + 1 \
        - exempt_days
    dagpenge = CitizenProfile.benefit_group == BenefitGroup.DAGPENGE
    rate10 = sa.case((dagpenge, 15), else_=60)
    rate_days = sa.case((dagpenge, 7), else_=p.c.days)
    grp = sa.case(
        (obliged <= 0, sa.null()),
        (n * 10 * rate_days >= rate10 * obliged, Smiley.GREEN.value),
        (n > 0, Smiley.LIGHT_GREEN.value),
        else_=Smiley.RED.value)
    return (
        sa.select(User.id.label("citizen_id"), CitizenProfile.benefit_group, p.c.idx,
                  n.label("searches"), exempt_days.label("exempt_days"),
                  obliged.label("obliged_days"), grp.label("grp"))
        .select_from(User)
        .join(CitizenProfile, CitizenProfile.user_id == User.id)
        .outerjoin(searches, on_searches)
        .join(p, sa.true())
        .outerjoin(exempt, sa.and_(exempt.c.citizen_id == User.id, exempt.c.idx == p.c.idx))
        .where(User.role == Role.CITIZEN, User.is_active.is_(True), *where)
        .subquery("judged"))


@dataclass(frozen=True)
class CitizenGroup:
    searches: int
    exempt_days: int
    obliged_days: int
    group: Smiley | None  # None: left out (exempt or not yet a user the whole period)


def citizen_group(citizen_id: int, start: date, end: date) -> CitizenGroup | None:
    """STAR's group of one citizen for a period (a month, or a week for dagpenge); None for
    a user who is not an active citizen."""
    j = judged([Period(0, start, end)], User.id == citizen_id)
    row = db.session.execute(sa.select(j.c.searches, j.c.exempt_days, j.c.obliged_days,
                                       j.c.grp)).first()
    if row is None:
        return None
    return CitizenGroup(int(row.searches), int(row.exempt_days), int(row.obliged_days),
                        Smiley(row.grp) if row.grp else None)


@dataclass
class MonthFigures:
    """One month's counts per group (and per benefit group), exempted citizens left out."""

    period: Period
    counts: dict[Smiley, int]
    by_benefit: dict[BenefitGroup, dict[Smiley, int]]
    left_out: int  # exempt for the whole month
    follow_up: str | None = None  # "immediate" / "three_months": STAR would act (see below)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def share(self, group: Smiley) -> float:
        return self.counts[group] / self.total if self.total else 0.0


# STAR's benchmark population: job-ready kontanthjælp recipients (SHO is paid under the same
# rules); the follow-up criteria are read on them only.
STAR_POPULATION = (BenefitGroup.KONTANTHJAELP, BenefitGroup.SHO)


def municipality_figures(municipality_id: int, today: date, months: int = 12
                         ) -> list[MonthFigures]:
    """Counts per group for each of the last ``months`` months (the current one live), in
    one statement, with the months where STAR's follow-up criteria would trigger."""
    return figures_with_cafes(municipality_id, today, months, cafes=False)[0]


@dataclass
class CafeFigures:
    """The groups of the citizens who checked in at a café, month by month (a citizen counts
    once a month per café, in the group of the whole month)."""

    cafe_id: int
    name: str
    months: list[dict[Smiley, int]]  # per period, as the periods of the figures

    def visitors(self, idx: int) -> int:
        return sum(self.months[idx].values())


def custom_plans() -> None:
    """Plan the next statements of this transaction for their own values (PostgreSQL).

    psycopg prepares a statement it has run 5 times on a connection, and PostgreSQL may then
    switch to a generic plan that ignores the values: for these statements (one
    municipality of five, a date range) the generic plan scans every municipality and was
    measured 5-6 x slower (bench/staff_scale.py: p50 243 ms, p95 1,555 ms)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))


def figures_statement(municipality_id: int, periods: Sequence[Period],
                      cafe_ids: Sequence[int] = ()) -> sa.Select[tuple] | sa.CompoundSelect:
    """The figures' one statement: rows ``cafe_id, idx, benefit_group, grp, n``; with
    ``cafe_ids``, also the groups of each café's visitors (``cafe_id`` set, one row per
    café, month and group). The citizens are judged once, in a common table expression
    both counts read."""
    # MATERIALIZED: computed once, by one process. Inlined, PostgreSQL may plan the year's
    # job searches in parallel workers that each repeat all of it (slower).
    j = sa.select(judged(periods, User.municipality_id == municipality_id)).cte(
        "judged_c").prefix_with("MATERIALIZED", dialect="postgresql")
    whole = (sa.select(sa.null().label("cafe_id"), j.c.idx, j.c.benefit_group, j.c.grp,
                       sa.func.count().label("n"))
             .where(sa.or_(j.c.grp.is_not(None), j.c.exempt_days > 0))
             .group_by(j.c.idx, j.c.benefit_group, j.c.grp))
    if not cafe_ids:
        return whole
    p = _periods(periods)
    first, last = periods[0].start, periods[-1].end
    visits = (sa.select(CafeSession.cafe_id, CheckIn.citizen_id, p.c.idx).distinct()
              .select_from(CheckIn)
              .join(CafeSession, CafeSession.id == CheckIn.session_id)
              .join(p, CafeSession.day.between(p.c.start, p.c.end))
              .where(CafeSession.cafe_id.in_(cafe_ids), CafeSession.day.between(first, last))
              .subquery("visits"))
    by_cafe = (sa.select(visits.c.cafe_id, j.c.idx, sa.null().label("benefit_group"),
                         j.c.grp, sa.func.count().label("n"))
               .join(visits, sa.and_(visits.c.citizen_id == j.c.citizen_id,
                                     visits.c.idx == j.c.idx))
               .where(j.c.grp.is_not(None))
               .group_by(visits.c.cafe_id, j.c.idx, j.c.grp))
    return sa.union_all(whole, by_cafe)


def figures_with_cafes(municipality_id: int, today: date, months: int = 12,
                       cafes: bool = True) -> tuple[list[MonthFigures], list[CafeFigures]]:
    """The municipality's figures and, with ``cafes``, each café's, in one statement."""
    periods = months_back(today, months)
    cafe_rows: dict[int, CafeFigures] = {}
    if cafes:
        for cafe in db.session.scalars(sa.select(Cafe).where(
                Cafe.municipality_id == municipality_id).order_by(Cafe.name, Cafe.id)):
            cafe_rows[cafe.id] = CafeFigures(cafe.id, cafe.name,
                                             [dict.fromkeys(GROUPS, 0) for _ in periods])
    figures = [MonthFigures(p, dict.fromkeys(GROUPS, 0),
                            {b: dict.fromkeys(GROUPS, 0) for b in BenefitGroup}, 0)
               for p in periods]
    stmt = figures_statement(municipality_id, periods, list(cafe_rows))
    custom_plans()
    for cafe_id, idx, benefit, grp, n in db.session.execute(stmt):
        if cafe_id is not None:
            if cafe_id in cafe_rows:
                cafe_rows[cafe_id].months[idx][Smiley(grp)] += n
            continue
        month = figures[idx]
        if grp is None:
            month.left_out += n
            continue
        month.counts[Smiley(grp)] += n
        month.by_benefit[BenefitGroup(benefit)][Smiley(grp)] += n
    _flag_follow_ups(figures)
    return figures, list(cafe_rows.values())


def _flag_follow_ups(figures: list[MonthFigures]) -> None:
    """STAR's criteria for acting on a municipality (seeds/001, "Handlingskriterier"), read
    on its benchmark population: more than 40 citizens and at least 20 of them red in the
    month, and then either at least 50 % red that month ("immediate"), or more than 40 % red
    in three months running ("three_months"). The third criterion (over 25 % still without
    a job search three months later) needs data STAR has and we do not: not flagged."""
    red_shares: list[float | None] = []
    for month in figures:
        total = sum(month.by_benefit[b][g] for b in STAR_POPULATION for g in GROUPS)
        red = sum(month.by_benefit[b][Smiley.RED] for b in STAR_POPULATION)
        share = red / total if total > 40 and red >= 20 else None
        red_shares.append(share)
        if share is None:
            continue
        if share >= 0.5:
            month.follow_up = "immediate"
        elif len(red_shares) >= 3 and all(s is not None and s > 0.4 for s in red_shares[-3:]):
            month.follow_up = "three_months"
