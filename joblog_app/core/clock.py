"""Today's date in Denmark (the server may run in UTC), and calendar months."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

DK = ZoneInfo("Europe/Copenhagen")


def today() -> date:
    return datetime.now(DK).date()


def month_bounds(day: date) -> tuple[date, date]:
    """The first and last day of the calendar month that contains ``day``."""
    start = day.replace(day=1)
    nxt = (start + timedelta(days=32)).replace(day=1)
    return start, nxt - timedelta(days=1)
