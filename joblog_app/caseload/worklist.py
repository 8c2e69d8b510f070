"""The caseworker's work list: citizens of the municipality who need a call, read in one
statement for the page (and for the CSV export).

A citizen is on the list when, not exempt today, their group this month is red or light
green by STAR's rules (groups.py) or they have registered nothing for 21 days (before
STAR's own alert at 30); and, exempt or not, when the record refused one of their entries
or their exemption ends within 14 days (so it is renewed or lapses on purpose); and when
the follow-up date a caseworker wrote in the citizen's case (models.CaseFile) has come.

"Needs an interpreter" is the caseworker's flag on the case (see models.CaseFile: the app
language is what the citizen reads, not whether a conversation needs an interpreter).
"Café attendance" is a check-in at a session of one of the municipality's job cafés in the
last N days."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..activities.models import Activity, RecordState
from ..auth.models import User
from ..cafes.models import CafeSession, CheckIn
from ..citizens.models import BenefitGroup, Exemption
from ..config import LANGUAGES
from ..core.clock import DK, month_bounds
from ..extensions import db
from ..progress.services import Smiley
from .groups import Period, custom_plans, judged
from .models import CaseFile

QUIET_DAYS = 21
ENDING_DAYS = 14
PAGE_SIZE = 50
MAX_DAYS_FILTER = 3650
MAX_CAFE_DAYS = 366


class Reason(enum.StrEnum):
    RED = "red"
    LIGHT_GREEN = "light_green"
    QUIET = "quiet"  # nothing registered for 21 days
    REFUSED = "refused"  # the record refused an entry
    EXEMPTION_ENDS = "exemption_ends"
    FOLLOW_UP_DUE = "follow_up_due"  # the caseworker's follow-up date has come


@dataclass(frozen=True)
class Filters:
    benefit_group: BenefitGroup | None = None
    language: str | None = None
    min_days: int | None = None  # days since the last registration, at least
    follow_ups: bool = False  # only citizens with follow-ups due
    page: int = 1
    cafe_days: int | None = None  # visited a job café in the last N days
    interpreter: bool = False  # only citizens who need an interpreter
    mine: bool = False  # only citizens assigned to me
    due: bool = False  # only citizens whose case follow-up date has come

    def term(self) -> str:
        """The filter as the audit log's search term (no personal data in it)."""
        parts = [f"group={self.benefit_group or 'all'}", f"lang={self.language or 'all'}",
                 f"days={self.min_days or 0}", f"follow_ups={'yes' if self.follow_ups else 'no'}",
                 f"page={self.page}"]
        if self.cafe_days is not None:
            parts.append(f"cafe={self.cafe_days}")
        parts += [name for name in ("interpreter", "mine", "due") if getattr(self, name)]
        return "work list " + " ".join(parts)

    def query(self, **change: object) -> dict[str, str]:
        """As URL parameters (for links to other pages and the export)."""
        values = {"benefit_group": self.benefit_group or "", "language": self.language or "",
                  "min_days": "" if self.min_days is None else str(self.min_days),
                  "follow_ups": "1" if self.follow_ups else "",
                  "cafe_days": "" if self.cafe_days is None else str(self.cafe_days),
                  "interpreter": "1" if self.interpreter else "",
                  "mine": "1" if self.mine else "", "due": "1" if self.due else "",
                  "page": str(self.page)}
        values.update({k: str(v) for k, v in change.items()})
        return {k: v for k, v in values.items() if v and not (k == "page" and v == "1")}


class FilterError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def parse_filters(args: Mapping[str, str]) -> Filters:
    """Filters from GET parameters; raises ``FilterError`` naming each wrong one."""
    errors: dict[str, str] = {}
    group = args.get("benefit_group") or None
    if group is not None and group not in {b.value for b in BenefitGroup}:
        errors["benefit_group"], group = "choice", None
    language = args.get("language") or None
    if language is not None and language not in LANGUAGES:
        errors["language"], language = "choice", None
    min_days: int | None = None
    raw_days = (args.get("min_days") or "").strip()
    if raw_days:
        if raw_days.isascii() and raw_days.isdigit() and int(raw_days) <= MAX_DAYS_FILTER:
            min_days = int(raw_days)
        else:
            errors["min_days"] = "number"
    cafe_days: int | None = None
    raw_cafe = (args.get("cafe_days") or "").strip()
    if raw_cafe:
        if raw_cafe.isascii() and raw_cafe.isdigit() and 0 < int(raw_cafe) <= MAX_CAFE_DAYS:
            cafe_days = int(raw_cafe)
        else:
            errors["cafe_days"] = "number"
    raw_page = args.get("page") or "1"
    page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() and \
        0 < int(raw_page) <= 10_000 else 0
    if not page:
        errors["page"], page = "number", 1
    if errors:
        raise FilterError(errors)
    def flag(name: str) -> bool:
        return args.get(name) in ("1", "on", "yes")

    return Filters(BenefitGroup(group) if group else None, language, min_days,
                   flag("follow_ups"), page, cafe_days, flag("interpreter"), flag("mine"),
                   flag("due"))


@dataclass(frozen=True)
class Row:
    citizen_id: int
    name: str
    language: str
    benefit_group: BenefitGroup
    group: Smiley | None  # this month; None while exempt the whole month so far
    searches: int
    last_registered: datetime | None
    days_quiet: int
    refused: int
    follow_ups: int
    exempt_until: date | None
    reasons: tuple[Reason, ...] = field(default=())
    assigned_to_id: int | None = None
    assigned_to: str | None = None  # the caseworker's name
    needs_interpreter: bool = False
    note: str | None = None
    follow_up_on: date | None = None


@dataclass(frozen=True)
class WorkList:
    rows: list[Row]
    total: int
    page: int
    pages: int


def _statement(municipality_id: int, today: date, filters: Filters,
               me: int | None = None) -> sa.Select[tuple]:
    """Each per-citizen figure is computed once, then filtered and sorted: grouped
    subqueries where the rows are few (refused entries, follow-ups due: partial indexes in
    models.py), a per-citizen index look-up for the last registration (the newest entry of
    each citizen, read from the end of ix_activity_citizen_created)."""
    start, end = month_bounds(today)
    mine = User.municipality_id == municipality_id
    j = judged([Period(0, start, end)], mine)
    a = Activity.__table__.c
    # The last registration, looked up per citizen in ix_activity_citizen_created (the
    # newest index entry of each), rather than grouping every entry of the municipality.
    last_at = (sa.select(sa.func.max(a.created_at)).where(a.citizen_id == j.c.citizen_id)
               .correlate_except(Activity.__table__).scalar_subquery())
    refused = (sa.select(a.citizen_id, sa.func.count().label("n"))
               .where(a.record_state == RecordState.FAILED, a.deleted_at.is_(None))
               .group_by(a.citizen_id).subquery("refused"))
    follow = (sa.select(a.citizen_id, sa.func.count().label("n"))
              .where(a.follow_up_on <= today, a.followed_up_at.is_(None),
                     a.deleted_at.is_(None), a.converted_to_id.is_(None))
              .group_by(a.citizen_id).subquery("follow"))
    # The exemption covering today, joined once (a citizen's exemptions never overlap).
    last_day = sa.func.coalesce(Exemption.ended_on, Exemption.ends_on)
    covering = (sa.select(Exemption.citizen_id, sa.func.max(last_day).label("until"))
                .where(Exemption.starts_on <= today, last_day >= today)
                .group_by(Exemption.citizen_id).subquery("covering"))
    worker = aliased(User, name="worker")
    c0 = (
        sa.select(j.c.citizen_id, User.name, User.created_at, User.language,
                  j.c.benefit_group, j.c.grp,
                  j.c.searches, last_at.label("last_registered"),
                  sa.func.coalesce(refused.c.n, 0).label("refused"),
                  sa.func.coalesce(follow.c.n, 0).label("follow_ups"),
                  covering.c.until.label("exempt_until"),
                  CaseFile.assigned_to_id, worker.name.label("assigned_to"),
                  sa.func.coalesce(CaseFile.needs_interpreter, False).label("needs_interpreter"),
                  CaseFile.note, CaseFile.follow_up_on)
        .select_from(j)
        .join(User, User.id == j.c.citizen_id)
        .outerjoin(covering, covering.c.citizen_id == j.c.citizen_id)
        .outerjoin(CaseFile, CaseFile.citizen_id == j.c.citizen_id)
        .outerjoin(worker, worker.id == CaseFile.assigned_to_id)
        .outerjoin(refused, refused.c.citizen_id == j.c.citizen_id)
        .outerjoin(follow, follow.c.citizen_id == j.c.citizen_id)
        .subquery("c0"))
    c = sa.select(c0, sa.func.coalesce(c0.c.last_registered, c0.c.created_at).label("since")
                  ).subquery("c")
    on_list = sa.or_(
        sa.and_(c.c.exempt_until.is_(None),
                sa.or_(c.c.grp.in_([Smiley.RED.value, Smiley.LIGHT_GREEN.value]),
                       c.c.since < _midnight(today - timedelta(days=QUIET_DAYS - 1)))),
        c.c.refused > 0,
        c.c.exempt_until <= today + timedelta(days=ENDING_DAYS),
        c.c.follow_up_on <= today)
    where = [on_list]
    if filters.benefit_group:
        where.append(c.c.benefit_group == filters.benefit_group)
    if filters.language:
        where.append(c.c.language == filters.language)
    if filters.min_days is not None:
        where.append(c.c.since < _midnight(today - timedelta(days=filters.min_days - 1)))
    if filters.follow_ups:
        where.append(c.c.follow_ups > 0)
    if filters.cafe_days is not None:
        where.append(c.c.citizen_id.in_(
            sa.select(CheckIn.citizen_id).join(CafeSession, CafeSession.id == CheckIn.session_id)
            .where(CafeSession.day > today - timedelta(days=filters.cafe_days))))
    if filters.interpreter:
        where.append(c.c.needs_interpreter.is_(True))
    if filters.mine:
        where.append(c.c.assigned_to_id == (me if me is not None else -1))
    if filters.due:
        where.append(c.c.follow_up_on <= today)
    return (sa.select(c, sa.func.count().over().label("total")).where(*where)
            .order_by(c.c.since, c.c.citizen_id))


def _midnight(day: date) -> datetime:
    """The start of a Danish day as the naive UTC of the ``created_at`` columns."""
    return datetime.combine(day, time(), DK).astimezone(UTC).replace(tzinfo=None)


def _row(r: sa.Row, today: date) -> Row:
    since: datetime = r.since
    days = (today - since.replace(tzinfo=UTC).astimezone(DK).date()).days
    group = Smiley(r.grp) if r.grp else None
    reasons = []
    if r.exempt_until is None:
        if group in (Smiley.RED, Smiley.LIGHT_GREEN):
            reasons.append(Reason(group.value))
        if days >= QUIET_DAYS:
            reasons.append(Reason.QUIET)
    if r.refused:
        reasons.append(Reason.REFUSED)
    if r.exempt_until is not None and r.exempt_until <= today + timedelta(days=ENDING_DAYS):
        reasons.append(Reason.EXEMPTION_ENDS)
    if r.follow_up_on is not None and r.follow_up_on <= today:
        reasons.append(Reason.FOLLOW_UP_DUE)
    return Row(r.citizen_id, r.name, r.language, BenefitGroup(r.benefit_group), group,
               int(r.searches), r.last_registered, days, int(r.refused), int(r.follow_ups),
               r.exempt_until, tuple(reasons), r.assigned_to_id, r.assigned_to,
               bool(r.needs_interpreter), r.note, r.follow_up_on)


def work_list(municipality_id: int, today: date, filters: Filters,
              page_size: int = PAGE_SIZE, me: int | None = None) -> WorkList:
    """One page of the work list, longest without a registration first (``me``: the
    caseworker asking, for "assigned to me")."""
    stmt = _statement(municipality_id, today, filters, me)
    custom_plans()
    rows = db.session.execute(stmt.limit(page_size).offset((filters.page - 1) * page_size)).all()
    total = rows[0].total if rows else 0
    if not rows and filters.page > 1:
        total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    return WorkList([_row(r, today) for r in rows], total, filters.page,
                    max(1, -(-total // page_size)))


def all_rows(municipality_id: int, today: date, filters: Filters,
             me: int | None = None) -> list[Row]:
    """Every row the filters find (every page), for the export."""
    custom_plans()
    return [_row(r, today) for r in db.session.execute(_statement(municipality_id, today,
                                                                  filters, me))]
