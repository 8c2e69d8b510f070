"""What the home screen and the monthly overview show, read in as few statements as
possible: the home screen is the most requested page and is rendered every time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ..activities import queries as activity_queries
from ..activities import services as activities
from ..activities.models import Activity
from ..citizens.services import profile_of
from ..core.clock import month_bounds
from ..progress import services as progress
from ..record.services import CitizenSync


@dataclass(frozen=True)
class HomeScreen:
    progress: progress.Progress | None  # None: not a citizen with a requirement
    sync: CitizenSync
    planned: list[Any]
    follow_ups: list[Any]
    latest: list[Any]


def home_screen(citizen_id: int, day: date, limit: int = 5) -> HomeScreen:
    """Two statements: the month's figures with the record summary, and the three lists."""
    progress_now, sync = progress.overview(citizen_id, day)
    lists = activity_queries.home_lists(citizen_id, day, limit=limit)
    return HomeScreen(progress_now, sync, lists.planned, lists.follow_ups, lists.latest)


@dataclass(frozen=True)
class MonthOverview:
    month: date
    entries: list[Activity]
    progress: progress.Progress | None


def month_overview(citizen_id: int, month: date, day: date) -> MonthOverview:
    """A month's entries and where the citizen stood at its end (or today)."""
    start, end = month_bounds(month)
    profile = profile_of(citizen_id)
    return MonthOverview(start, activities.month_entries(citizen_id, start, end),
                         progress.progress_for(profile, min(end, day)) if profile else None)
