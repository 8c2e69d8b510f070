"""Parsing of ids and months from URLs and forms: anything odd is a 4xx, never a crash.

``str.isdigit()`` accepts "²" and Arabic-Indic digits that ``int()`` or the database then
refuse, and an id beyond the column's range overflows in the driver: only ASCII digits, and
only up to the largest id a row can have.
"""

from __future__ import annotations

import re
from datetime import date

from flask import abort, request
from werkzeug.routing import IntegerConverter

# Primary keys are INTEGER columns (32-bit on PostgreSQL).
MAX_ID = 2**31 - 1
FIRST_YEAR = 2000  # no entry is older; keeps month arithmetic far from date.min/date.max
_ID = re.compile(r"[0-9]{1,10}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: ASCII digits, at most ``MAX_ID`` (else 404)."""

    def __init__(self, map, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def parse_id(raw: object) -> int | None:
    """An id from a form or JSON field, or None when it is not one."""
    if not isinstance(raw, str) or not _ID.fullmatch(raw):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def parse_month(raw: str, latest: date) -> date | None:
    """``YYYY-MM`` between January 2000 and the month of ``latest`` as its first day, or None."""
    m = _MONTH.fullmatch(raw or "")
    if not m:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12 or not FIRST_YEAR <= year <= latest.year:
        return None
    first = date(year, month, 1)
    return first if first <= latest.replace(day=1) else None


def requested_month(today: date) -> date:
    """The month in ``?month=YYYY-MM`` as its first day: none means this month; a wrong or
    out-of-range month is a 400 (a localized page)."""
    raw = request.args.get("month", "")
    if not raw:
        return today.replace(day=1)
    month = parse_month(raw, today)
    if month is None:
        abort(400)
    return month
