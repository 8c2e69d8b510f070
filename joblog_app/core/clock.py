"""Today's date in Denmark (the server may run in UTC)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

DK = ZoneInfo("Europe/Copenhagen")


def today() -> date:
    return datetime.now(DK).date()
