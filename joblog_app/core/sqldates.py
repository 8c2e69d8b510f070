"""Date arithmetic that reads the same on SQLite and PostgreSQL, for set-based figures.

SQLite keeps dates as ISO text, so ``a - b`` or ``greatest()`` do not work there; these
constructs compile to ``julianday`` and the scalar ``max``/``min`` on SQLite."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class days_between(FunctionElement[int]):  # noqa: N801 - reads like a SQL function
    """Whole days from the second date to the first (``later - earlier``)."""

    type = sa.Integer()
    inherit_cache = True


class greatest(FunctionElement[Any]):  # noqa: N801
    type = sa.Date()
    inherit_cache = True


class least(FunctionElement[Any]):  # noqa: N801
    type = sa.Date()
    inherit_cache = True


class as_date(FunctionElement[Any]):  # noqa: N801
    """The calendar day of a timestamp (stored in UTC, near enough for day counts)."""

    type = sa.Date()
    inherit_cache = True


def _args(element: FunctionElement[Any], compiler: Any, **kw: Any) -> list[str]:
    return [compiler.process(arg, **kw) for arg in element.clauses]


@compiles(days_between)
def _days_pg(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = _args(element, compiler, **kw)
    return f"({later} - {earlier})"


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = _args(element, compiler, **kw)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


@compiles(greatest)
def _greatest(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"GREATEST({', '.join(_args(element, compiler, **kw))})"


@compiles(greatest, "sqlite")
def _greatest_sqlite(element: greatest, compiler: Any, **kw: Any) -> str:
    return f"MAX({', '.join(_args(element, compiler, **kw))})"


@compiles(least)
def _least(element: least, compiler: Any, **kw: Any) -> str:
    return f"LEAST({', '.join(_args(element, compiler, **kw))})"


@compiles(least, "sqlite")
def _least_sqlite(element: least, compiler: Any, **kw: Any) -> str:
    return f"MIN({', '.join(_args(element, compiler, **kw))})"


@compiles(as_date)
def _as_date(element: as_date, compiler: Any, **kw: Any) -> str:
    return f"CAST({_args(element, compiler, **kw)[0]} AS DATE)"


@compiles(as_date, "sqlite")
def _as_date_sqlite(element: as_date, compiler: Any, **kw: Any) -> str:
    return f"date({_args(element, compiler, **kw)[0]})"


def overlap_days(start_a: Any, end_a: Any, start_b: Any, end_b: Any) -> sa.ColumnElement[int]:
    """Days that the periods [start_a, end_a] and [start_b, end_b] share (0 when none)."""
    days = days_between(least(end_a, end_b), greatest(start_a, start_b)) + 1
    return sa.case((days > 0, days), else_=0)
