"""Cafés, their sessions, check-in, the visit checklist and phone pairing. Plain functions:
they flush, the request or command commits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from ..activities.forms import clean_text
from ..activities.models import Activity
from ..audit import services as audit
from ..audit.models import AuditAction, AuditOutcome
from ..auth.models import Role, User
from ..extensions import db
from ..models_base import utcnow
from ..permissions import Actor, Permission, has_permission
from ..progress import services as progress
from ..record.services import CitizenSync
from .models import CAFE_LANGUAGES, Cafe, CafeSession, CheckIn, ChecklistItem, PairingCode

MAX_NAME, MAX_PLACE, MAX_ITEM, MAX_ITEMS, MAX_TERM = 120, 200, 80, 10, 60
SEARCH_LIMIT = 10
# Suggested checklist items (a key each: every reader sees it in their own language).
SUGGESTIONS = ("applications_2", "cv", "coffee_meeting")
_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


# Why a helper at the café looks at a citizen (audit purpose; the citizen reads it in words).
PURPOSE_VISIT = "job_cafe_visit"


class CafeError(Exception):
    """Refused input: ``field`` names the form field, ``message`` says how to fix it."""

    def __init__(self, field: str, message: object) -> None:
        super().__init__(f"refused: {field}")
        self.field, self.message = field, message


# --- Cafés (administrator) ------------------------------------------------------------
def _time(raw: str, field: str) -> time:
    m = _TIME.fullmatch((raw or "").strip())
    if not m:
        raise CafeError(field, _l("Write the time as hours and minutes, e.g. 09:30."))
    return time(int(m.group(1)), int(m.group(2)))


def cafe_fields(form: dict[str, Any]) -> dict[str, Any]:
    """The checked fields of a café form, or ``CafeError`` for the first wrong one."""
    name = " ".join(clean_text(str(form.get("name", "")), False).split())
    if not name or len(name) > MAX_NAME:
        raise CafeError("name", _l("Write the café's name (at most 120 characters)."))
    place = " ".join(clean_text(str(form.get("place", "")), False).split())
    if not place or len(place) > MAX_PLACE:
        raise CafeError("place", _l("Write where the café is (at most 200 characters)."))
    weekday = str(form.get("weekday", ""))
    if weekday not in {str(n) for n in range(7)}:
        raise CafeError("weekday", _l("Choose the day of the week."))
    opens = _time(str(form.get("opens", "")), "opens")
    closes = _time(str(form.get("closes", "")), "closes")
    if closes <= opens:
        raise CafeError("closes", _l("The café must close after it opens."))
    languages = [code for code in CAFE_LANGUAGES if code in set(form.get("languages", []))]
    if not languages:
        raise CafeError("languages", _l("Choose at least one language spoken at the café."))
    return {"name": name, "place": place, "weekday": int(weekday), "opens_at": opens,
            "closes_at": closes, "languages": ",".join(languages),
            "is_active": bool(form.get("is_active", True))}


def create_cafe(municipality_id: int, form: dict[str, Any]) -> Cafe:
    """A new café of the municipality from a form (``CafeError`` if wrong). Flushes."""
    cafe = Cafe(municipality_id=municipality_id, **cafe_fields(form))
    db.session.add(cafe)
    db.session.flush()
    return cafe


def update_cafe(cafe: Cafe, form: dict[str, Any]) -> None:
    for key, value in cafe_fields(form).items():
        setattr(cafe, key, value)
    db.session.flush()


def cafes_of(municipality_id: int, active_only: bool = False) -> list[Cafe]:
    query = sa.select(Cafe).where(Cafe.municipality_id == municipality_id)
    if active_only:
        query = query.where(Cafe.is_active.is_(True))
    return list(db.session.scalars(query.order_by(Cafe.weekday, Cafe.opens_at, Cafe.name)))


def find_cafe(municipality_id: int, cafe_id: int) -> Cafe | None:
    """The café, or None (another municipality's is invisible)."""
    cafe = db.session.get(Cafe, cafe_id)
    return cafe if cafe is not None and cafe.municipality_id == municipality_id else None


# --- Sessions -------------------------------------------------------------------------
def open_session(actor: Actor, cafe: Cafe, day: date) -> CafeSession:
    """Today's open session of the café, opened now if there is none. Flushes."""
    found = db.session.scalar(sa.select(CafeSession).where(
        CafeSession.cafe_id == cafe.id, CafeSession.day == day,
        CafeSession.closed_at.is_(None)))
    if found is not None:
        return found
    session = CafeSession(cafe_id=cafe.id, day=day, opened_by_id=actor.user_id,
                          checkin_salt=secrets.token_hex(16), opened_at=utcnow())
    db.session.add(session)
    db.session.flush()
    return session


def close_session(session: CafeSession) -> None:
    """Closes the session: its check-in code stops working. Flushes."""
    if session.closed_at is None:
        session.closed_at = utcnow()
        db.session.flush()


def find_session(municipality_id: int, session_id: int) -> CafeSession | None:
    session = db.session.get(CafeSession, session_id)
    if session is None or session.cafe.municipality_id != municipality_id:
        return None
    return session


def sessions_on(municipality_id: int, day: date) -> list[CafeSession]:
    """The day's sessions of the municipality's cafés, open ones first."""
    return list(db.session.scalars(
        sa.select(CafeSession).join(Cafe).where(Cafe.municipality_id == municipality_id,
                                                CafeSession.day == day)
        .order_by(CafeSession.closed_at.is_not(None), Cafe.opens_at, CafeSession.id)))


def _mac(secret_key: str, message: str) -> str:
    digest = hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()  # 144 bits, 24 characters


def checkin_token(session: CafeSession, secret_key: str) -> str:
    """The code in the session's check-in URL: the session id and a keyed hash of its salt."""
    return f"{session.id}.{_mac(secret_key, f'cafe-checkin:{session.id}:{session.checkin_salt}')}"


def session_for_token(token: str, secret_key: str, day: date) -> CafeSession | None:
    """The open session of today whose code this is, or None (forged, old or closed)."""
    raw_id, _, mac = (token or "").partition(".")
    if not re.fullmatch(r"[0-9]{1,9}", raw_id) or len(mac) != 24:
        return None
    session = db.session.get(CafeSession, int(raw_id))
    if session is None or session.closed_at is not None or session.day != day:
        return None
    if not hmac.compare_digest(checkin_token(session, secret_key), f"{raw_id}.{mac}"):
        return None
    return session


# --- Check-in -------------------------------------------------------------------------
def check_in(session: CafeSession, citizen: User, by: User | None = None) -> CheckIn:
    """The citizen is at the session; checking in again returns the first check-in.
    ``ON CONFLICT DO NOTHING``, so two taps at once never roll back the request's audit row."""
    dialect = sqlite if db.engine.dialect.name == "sqlite" else postgresql
    db.session.execute(
        dialect.insert(CheckIn.__table__).values(
            session_id=session.id, citizen_id=citizen.id, by_id=by.id if by else None,
            at=utcnow()).on_conflict_do_nothing(index_elements=["session_id", "citizen_id"]))
    return db.session.scalars(sa.select(CheckIn).where(
        CheckIn.session_id == session.id, CheckIn.citizen_id == citizen.id)).one()


def search_citizens(actor: Actor, term: str, unit: str | None = None) -> list[User]:
    """Active citizens of the actor's municipality by phone number or part of the name;
    the search is written to the audit log with its term."""
    term = " ".join(clean_text(term or "", False).split())[:MAX_TERM]
    if len(term) < 2:
        return []
    audit.record(actor, AuditAction.SEARCH, search_term=term, unit=unit)
    digits = re.sub(r"[\s-]", "", term)
    conditions = []
    if re.fullmatch(r"\+?[0-9]{8,12}", digits):
        conditions.append(User.phone == ("+45" + digits if len(digits) == 8 else digits))
    pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    conditions.append(User.name.ilike(pattern, escape="\\"))
    return list(db.session.scalars(
        sa.select(User).where(User.municipality_id == actor.municipality_id,
                              User.role == Role.CITIZEN, User.is_active.is_(True),
                              sa.or_(*conditions))
        .order_by(User.name, User.id).limit(SEARCH_LIMIT)))


def check_ins_of(session: CafeSession) -> list[CheckIn]:
    """The session's check-ins, first come first, with their citizens (one statement)."""
    return list(db.session.scalars(sa.select(CheckIn).where(CheckIn.session_id == session.id)
                                   .options(joinedload(CheckIn.citizen))
                                   .order_by(CheckIn.at, CheckIn.id)))


def find_check_in(session: CafeSession, check_in_id: int) -> CheckIn | None:
    row = db.session.get(CheckIn, check_in_id)
    return row if row is not None and row.session_id == session.id else None


@dataclass(frozen=True)
class Visitor:
    """One row of the session screen."""

    check_in: CheckIn
    citizen: User
    progress: progress.Progress | None
    sync: CitizenSync
    follow_ups_due: int
    items: list[ChecklistItem]


def visitors(actor: Actor, session: CafeSession, day: date) -> list[Visitor]:
    """Who is here, with what the helper needs to know. Showing a citizen is a look-up of
    their data: one audit row (read, the café as unit) per citizen shown, in this
    transaction. Citizens since disabled or moved elsewhere are left out."""
    rows = [c for c in check_ins_of(session)
            if c.citizen.is_active and c.citizen.role == Role.CITIZEN
            and c.citizen.municipality_id == actor.municipality_id]
    if not rows:
        return []
    ids = [c.citizen_id for c in rows]
    for citizen_id in ids:
        audit.record(actor, AuditAction.READ, citizen_id=citizen_id, unit=session.cafe.name)
    a = Activity.__table__.c
    due = dict(db.session.execute(
        sa.select(a.citizen_id, sa.func.count()).where(
            a.citizen_id.in_(ids), a.deleted_at.is_(None), a.follow_up_on.is_not(None),
            a.follow_up_on <= day, a.followed_up_at.is_(None), a.converted_to_id.is_(None))
        .group_by(a.citizen_id)).all())
    items = items_of([c.id for c in rows])
    result = []
    for c in rows:
        progress_now, sync = progress.overview(c.citizen_id, day)
        result.append(Visitor(c, c.citizen, progress_now, sync, due.get(c.citizen_id, 0),
                              items.get(c.id, [])))
    return result


# --- The visit checklist --------------------------------------------------------------
def items_of(check_in_ids: list[int]) -> dict[int, list[ChecklistItem]]:
    found: dict[int, list[ChecklistItem]] = {i: [] for i in check_in_ids}
    if check_in_ids:
        for item in db.session.scalars(sa.select(ChecklistItem).where(
                ChecklistItem.check_in_id.in_(check_in_ids)).order_by(ChecklistItem.id)):
            found[item.check_in_id].append(item)
    return found


def add_item(check_in: CheckIn, suggestion: str = "", text: str = "") -> ChecklistItem:
    """A suggested item (by its key) or a short text of the helper's. Flushes."""
    suggestion = suggestion if suggestion in SUGGESTIONS else ""
    text = " ".join(clean_text(text or "", False).split())
    if not suggestion:
        if not text:
            raise CafeError("text", _l("Write what you agree to do, or tap a suggestion."))
        if len(text) > MAX_ITEM:
            raise CafeError("text", _l("Keep it short: at most 80 characters."))
    count = db.session.scalar(sa.select(sa.func.count()).where(
        ChecklistItem.check_in_id == check_in.id)) or 0
    if count >= MAX_ITEMS:
        raise CafeError("text", _l("The list is full (10 things). Tick some off first."))
    item = ChecklistItem(check_in_id=check_in.id, suggestion=suggestion or None,
                         text=None if suggestion else text, created_at=utcnow())
    db.session.add(item)
    db.session.flush()
    return item


def find_item(item_id: int) -> tuple[ChecklistItem, CheckIn] | None:
    item = db.session.get(ChecklistItem, item_id)
    if item is None:
        return None
    return item, db.session.get(CheckIn, item.check_in_id)  # type: ignore[return-value]


def set_done(item: ChecklistItem, done: bool) -> None:
    if done != (item.done_at is not None):
        item.done_at = utcnow() if done else None
        db.session.flush()


@dataclass(frozen=True)
class TodaysVisit:
    cafe_name: str
    items: list[ChecklistItem]


_TODAY = (sa.select(CheckIn.id, Cafe.name).join(CafeSession, CafeSession.id == CheckIn.session_id)
          .join(Cafe, Cafe.id == CafeSession.cafe_id)
          .where(CheckIn.citizen_id == sa.bindparam("citizen_id", type_=sa.Integer),
                 CafeSession.day == sa.bindparam("day", type_=sa.Date))
          .order_by(CheckIn.id.desc()).limit(1))


def todays_visit(citizen_id: int, day: date) -> TodaysVisit | None:
    """The citizen's job café visit today and its checklist, or None (one statement when
    there was no visit: the home screen asks on every render)."""
    row = db.session.execute(_TODAY, {"citizen_id": citizen_id, "day": day}).first()
    if row is None:
        return None
    return TodaysVisit(row.name, items_of([row.id])[row.id])


def cafe_today(citizen_id: int, municipality_id: int, day: date) -> str | None:
    """The name of the job café of ``municipality_id`` where the citizen is checked in
    today, or None: the unit a helper's look-up or change is logged under."""
    return db.session.scalar(
        sa.select(Cafe.name).join(CafeSession, CafeSession.cafe_id == Cafe.id)
        .join(CheckIn, CheckIn.session_id == CafeSession.id)
        .where(CheckIn.citizen_id == citizen_id, CafeSession.day == day,
               Cafe.municipality_id == municipality_id)
        .order_by(CheckIn.id.desc()).limit(1))


# --- Pairing a phone --------------------------------------------------------------------
def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_pairing(actor: Actor, session: CafeSession, citizen: User,
                   lifetime: timedelta) -> str:
    """A one-time code for the citizen's phone, tied to the helper; returns the code (only
    its hash is kept). Flushes."""
    token = secrets.token_urlsafe(24)
    now = utcnow()
    db.session.add(PairingCode(token_hash=_hash(token), citizen_id=citizen.id,
                               helper_id=actor.user_id, session_id=session.id,
                               created_at=now, expires_at=now + lifetime))
    db.session.flush()
    return token


class PairingRefused(Exception):
    """``reason``: unknown, used, expired, helper (disabled or without the right since),
    citizen (disabled, or not of the helper's municipality)."""

    def __init__(self, reason: str, code: PairingCode | None = None) -> None:
        super().__init__(f"pairing refused: {reason}")
        self.reason, self.code = reason, code


def pairing_for(token: str, now: datetime | None = None) -> PairingCode:
    """The usable pairing code, or ``PairingRefused`` (nothing is changed)."""
    if not token or len(token) > 64:
        raise PairingRefused("unknown")
    code = db.session.scalar(sa.select(PairingCode).where(PairingCode.token_hash == _hash(token)))
    if code is None:
        raise PairingRefused("unknown")
    if code.used_at is not None:
        raise PairingRefused("used", code)
    if code.expires_at <= (now or utcnow()):
        raise PairingRefused("expired", code)
    helper = db.session.get(User, code.helper_id)
    if helper is None or not has_permission(helper, Permission.CITIZEN_ASSIST):
        raise PairingRefused("helper", code)
    citizen = db.session.get(User, code.citizen_id)
    if citizen is None or not citizen.is_active or citizen.role != Role.CITIZEN or \
            citizen.municipality_id != helper.municipality_id:
        raise PairingRefused("citizen", code)
    return code


def redeem_pairing(token: str, now: datetime | None = None) -> User:
    """Uses the code once and returns the citizen whose phone it logs in. Flushes."""
    code = pairing_for(token, now)
    code.used_at = now or utcnow()
    db.session.flush()
    return db.session.get(User, code.citizen_id)  # type: ignore[return-value]


def refusal_audited(code: PairingCode, channel: Any) -> None:
    """A refused pairing of a known code touches the citizen: a denied audit row, written
    as the helper who made the code."""
    helper = db.session.get(User, code.helper_id)
    if helper is None:
        return
    actor = Actor.of(helper, channel)
    audit.record(actor, AuditAction.PAIRING, citizen_id=code.citizen_id,
                 outcome=AuditOutcome.DENIED, unit=code.session.cafe.name)


# --- A citizen's visits (the caseworker's overview) -------------------------------------
@dataclass(frozen=True)
class Visit:
    day: date
    cafe_name: str
    items: list[ChecklistItem]


def visits_of(citizen_id: int, municipality_id: int, since: date, limit: int = 20
              ) -> list[Visit]:
    """The citizen's job café visits in the municipality since ``since``, newest first,
    each with its checklist (two statements)."""
    rows = db.session.execute(
        sa.select(CheckIn.id, CafeSession.day, Cafe.name)
        .join(CafeSession, CafeSession.id == CheckIn.session_id)
        .join(Cafe, Cafe.id == CafeSession.cafe_id)
        .where(CheckIn.citizen_id == citizen_id, Cafe.municipality_id == municipality_id,
               CafeSession.day >= since)
        .order_by(CafeSession.day.desc(), CheckIn.id.desc()).limit(limit)).all()
    items = items_of([r.id for r in rows])
    return [Visit(r.day, r.name, items[r.id]) for r in rows]
