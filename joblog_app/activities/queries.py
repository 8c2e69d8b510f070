"""Lean reads for the home screen: its three lists in one statement, as plain rows.

The home screen is the most requested page, so it does not load full ``Activity`` objects
(all columns, identity map, ORM compilation) for its three short lists. The statement is
built once, here, with bind parameters: SQLAlchemy reuses its cache key and compiled SQL,
and a request only pays for executing it. This is the one place the three lists' rules are
written (tests/activities/test_services.py, test_home_lists_in_one_statement).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from .models import Activity, ActivityKind
from .services import FOLLOW_UP_HORIZON

_a = Activity.__table__.c

# What the home screen's lists and the entry/summary/record_state macros read of an entry,
# and created_at, by which the latest entries are ordered.
ROW_COLUMNS = (
    _a.id, _a.kind, _a.title, _a.organisation, _a.person, _a.description, _a.occurred_on,
    _a.deadline, _a.status, _a.converted_to_id, _a.follow_up_on, _a.record_state,
    _a.record_attempts, _a.record_synced_at, _a.record_error, _a.created_at, _a.channel,
)
PLANNED, FOLLOW_UPS, LATEST = 0, 1, 2

_citizen = sa.bindparam("citizen_id", type_=sa.Integer)
_live = sa.and_(_a.citizen_id == _citizen, _a.deleted_at.is_(None))


def _part(which: int, where: sa.ColumnElement[bool], order: tuple[Any, ...]) -> sa.Subquery:
    """One list: at most ``limit`` rows, the first in this order."""
    return (
        sa.select(sa.literal_column(str(which), sa.Integer).label("list"), *ROW_COLUMNS)
        .where(_live, where)
        .order_by(*order)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .subquery()
    )


# A UNION ALL keeps no order: home_lists puts each list back in its order (a window
# function would, but it keeps SQLite from stopping the sort at ``limit`` rows).
HOME_LISTS = sa.union_all(
    # open planned jobs: deadline first, none last
    sa.select(_part(PLANNED, sa.and_(_a.kind == ActivityKind.PLANNED_JOB,
                                     _a.converted_to_id.is_(None)),
                    (_a.deadline.is_(None), _a.deadline, _a.id.desc()))),
    # follow-ups due within the horizon and not done
    sa.select(_part(FOLLOW_UPS, sa.and_(
        _a.follow_up_on.is_not(None),
        _a.follow_up_on <= sa.bindparam("follow_up_until", type_=sa.Date),
        _a.followed_up_at.is_(None), _a.converted_to_id.is_(None)), (_a.follow_up_on,))),
    # the latest entries, planned jobs aside
    sa.select(_part(LATEST, _a.kind != ActivityKind.PLANNED_JOB,
                    (_a.created_at.desc(), _a.id.desc()))),
)


@dataclass(frozen=True)
class HomeLists:
    planned: list[sa.Row[Any]]
    follow_ups: list[sa.Row[Any]]
    latest: list[sa.Row[Any]]


def home_lists(citizen_id: int, today: date, limit: int = 5) -> HomeLists:
    """Open planned jobs, follow-ups due within the horizon, and the latest entries."""
    lists: tuple[list[sa.Row[Any]], ...] = ([], [], [])
    rows = db.session.execute(HOME_LISTS, {
        "citizen_id": citizen_id, "limit": limit,
        "follow_up_until": today + FOLLOW_UP_HORIZON})
    for row in rows:
        lists[row.list].append(row)
    planned, follow_ups, latest = lists
    # The orders of the three parts above (no NULL follow_up_on or created_at there).
    planned.sort(key=lambda r: (r.deadline is None, r.deadline or date.min, -r.id))
    follow_ups.sort(key=lambda r: r.follow_up_on)
    latest.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    return HomeLists(planned, follow_ups, latest)
