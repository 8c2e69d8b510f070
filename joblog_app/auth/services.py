"""Citizen login with one-time codes, and server-side login sessions.

Rules (OWASP ASVS 6.5/6.6; the numbers and the reasoning are in docs/operations.md):
6 random digits, stored as a keyed hash, valid 10 minutes, at most 5 wrong guesses, and only
in the browser session that asked for it. Using a code voids every other code for the
identifier. The request never looks the identifier up and never sends anything: it writes
the code to an outbox that the worker sends from (``jobs.send_pending_codes``), so known and
unknown identifiers get the same answer in the same time. Budgets: per address, per
identifier for browsers that have not logged in with it before, and per device cookie for
those that have, so nobody else can use up the citizen's own phone's budget.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask_babel import lazy_gettext as _l

from .. import worker
from ..extensions import db
from ..models_base import utcnow
from . import devices
from .models import LoginCode, LoginCodeOutbox, LoginFailure, LoginSession, Role, User

log = logging.getLogger("joblog.login")

CODE_TTL = timedelta(minutes=10)
MAX_WRONG_GUESSES = 5
THROTTLE_WINDOW = timedelta(minutes=15)
BUDGET_WINDOW = timedelta(hours=1)
# From one address, for one identifier: a mistyped number must not fill the phone.
MAX_SENDS_PER_IDENTIFIER_AND_IP = 3
# Codes asked for from browsers that have not logged in with this identifier before: the
# most codes a phone gets per hour that its owner did not ask for.
MAX_UNRECOGNISED_SENDS_PER_IDENTIFIER = 5
# A browser with a device cookie for the identifier has a budget of its own.
MAX_SENDS_PER_DEVICE = 5
# Job cafés put 30 citizens behind one IP: the per-IP limit must leave room for them.
MAX_SENDS_PER_IP = 60
MAX_FAILED_VERIFICATIONS_PER_IP = 60
OUTBOX_MAX_ATTEMPTS = 3
OUTBOX_RETRY = timedelta(seconds=20)

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,185}\.[^@\s]{2,}$")
TOO_MANY_CODES = _l("Many codes were asked for just now. Wait a while and try again, "
                    "or log in on a phone where you have logged in before.")
CODE_GONE = _l("This code does not work any more. Ask for a new code.")


class LoginError(Exception):
    def __init__(self, message: object) -> None:
        super().__init__("login refused")
        self.message = message


def normalize_identifier(raw: str) -> str:
    """Return ``+45XXXXXXXX`` / ``+<digits>`` for phones, lower-case for e-mail."""
    value = (raw or "").strip()
    if not value:
        raise LoginError(_l("Write your phone number or e-mail."))
    if "@" in value:
        value = value.lower()
        if len(value) > 254 or not _EMAIL.match(value):
            raise LoginError(_l("This e-mail does not look right. Check it and try again."))
        return value
    digits = re.sub(r"[\s\-().]", "", value)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    # ASCII digits only: ``\d`` would also take Arabic-Indic or full-width digits.
    if re.fullmatch(r"[0-9]{8}", digits):
        return "+45" + digits
    if re.fullmatch(r"\+[0-9]{8,15}", digits):
        return digits
    raise LoginError(_l("This phone number does not look right. Write 8 digits, like 20 30 40 50."))


def _hash_code(secret_key: str, identifier: str, code: str) -> str:
    return hmac.new(secret_key.encode(), f"{identifier}:{code}".encode(), hashlib.sha256).hexdigest()


def _hash_session(secret_key: str, session_key: str) -> str:
    return hmac.new(secret_key.encode(), f"login-session:{session_key}".encode(),
                    hashlib.sha256).hexdigest()


def _sealer(secret_key: str) -> Fernet:
    key = hashlib.sha256(f"login-code-outbox:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def new_session_key() -> str:
    """The random value a browser session keeps while it waits for its code."""
    return secrets.token_urlsafe(24)


def find_citizen(raw_identifier: str) -> User | None:
    """The active citizen with this phone number or e-mail, or None."""
    try:
        user = _find_user(normalize_identifier(raw_identifier))
    except LoginError:
        return None
    return user if user is not None and user.role == Role.CITIZEN else None


def _find_user(identifier: str) -> User | None:
    """The active user who may receive a code at ``identifier``: a citizen by phone or
    e-mail, a staff user by e-mail only (staff then pass a second factor, see
    second_factor.py)."""
    column = User.email if "@" in identifier else User.phone
    query = sa.select(User).where(column == identifier, User.is_active)
    if "@" not in identifier:
        query = query.where(User.role == Role.CITIZEN)
    return db.session.scalar(query)


def _count(model: type, *conditions: sa.ColumnElement[bool]) -> int:
    return db.session.scalar(sa.select(sa.func.count(model.id)).where(*conditions)) or 0


def request_code(raw_identifier: str, ip: str, session_key: str, secret_key: str,
                 device_cookie: str | None = None, now: datetime | None = None,
                 max_sends_per_ip: int = MAX_SENDS_PER_IP) -> str:
    """Put a new code for this browser session in the outbox, unless a budget is used up,
    and return the normalised identifier. Does not look the identifier up: the answer and
    its timing are the same for every identifier. Flushes; the caller commits."""
    now = now or utcnow()
    identifier = normalize_identifier(raw_identifier)
    device = devices.device_for(device_cookie, identifier, secret_key)
    recent = LoginCode.created_at > now - THROTTLE_WINDOW
    this_hour = LoginCode.created_at > now - BUDGET_WINDOW
    if device is not None:
        over = _count(LoginCode, this_hour, LoginCode.device_id == device) >= MAX_SENDS_PER_DEVICE
    else:
        unrecognised = sa.and_(LoginCode.identifier == identifier, LoginCode.device_id.is_(None))
        over = (
            _count(LoginCode, recent, unrecognised, LoginCode.ip == ip)
            >= MAX_SENDS_PER_IDENTIFIER_AND_IP
            or _count(LoginCode, this_hour, unrecognised) >= MAX_UNRECOGNISED_SENDS_PER_IDENTIFIER
            or _count(LoginCode, recent, LoginCode.ip == ip) >= max_sends_per_ip
        )
    if over:
        raise LoginError(TOO_MANY_CODES)

    session_hash = _hash_session(secret_key, session_key)
    # Asking again in the same browser voids the code it asked for before.
    db.session.execute(
        sa.update(LoginCode)
        .where(LoginCode.identifier == identifier, LoginCode.session_hash == session_hash,
               LoginCode.used_at.is_(None))
        .values(used_at=now))
    code = f"{secrets.randbelow(10**6):06d}"
    login_code = LoginCode(identifier=identifier, code_hash=_hash_code(secret_key, identifier, code),
                           ip=ip[:45], created_at=now, expires_at=now + CODE_TTL,
                           session_hash=session_hash, device_id=device)
    db.session.add(login_code)
    db.session.add(LoginCodeOutbox(login_code=login_code, created_at=now, next_attempt_at=now,
                                   sealed_code=_sealer(secret_key).encrypt(code.encode()).decode()))
    db.session.flush()
    worker.wake()  # the code leaves at once, not at the worker's next look
    return identifier


def verify_code(identifier: str, code: str, session_key: str | None, ip: str, secret_key: str,
                now: datetime | None = None) -> User:
    """Check a code asked for in this browser session; on success every code for the
    identifier is used up and the user returned. Flushes (also a wrong guess, which the
    caller must commit too)."""
    now = now or utcnow()
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"[0-9]{6}", code):
        raise LoginError(_l("The code has 6 digits. Write all 6."))
    if _count(LoginFailure, LoginFailure.ip == ip,
              LoginFailure.created_at > now - THROTTLE_WINDOW) >= MAX_FAILED_VERIFICATIONS_PER_IP:
        raise LoginError(_l("Too many wrong codes. Wait 15 minutes, then try again."))
    if not session_key:
        raise LoginError(CODE_GONE)

    login_code = db.session.scalar(
        sa.select(LoginCode)
        .where(LoginCode.identifier == identifier,
               LoginCode.session_hash == _hash_session(secret_key, session_key),
               LoginCode.used_at.is_(None))
        .order_by(LoginCode.created_at.desc(), LoginCode.id.desc())
        .limit(1)
    )
    if login_code is None or login_code.expires_at <= now:
        raise LoginError(CODE_GONE)
    if login_code.failed_attempts >= MAX_WRONG_GUESSES:
        raise LoginError(_l("Too many wrong tries. Ask for a new code."))
    if not hmac.compare_digest(login_code.code_hash, _hash_code(secret_key, identifier, code)):
        login_code.failed_attempts += 1
        db.session.add(LoginFailure(ip=ip[:45], identifier=identifier, created_at=now))
        db.session.flush()
        raise LoginError(_l("The code is not right. Check the message and try again."))

    # Single use, also under concurrency: only one request can flip used_at.
    used = db.session.execute(
        sa.update(LoginCode)
        .where(LoginCode.id == login_code.id, LoginCode.used_at.is_(None))
        .values(used_at=now)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise LoginError(CODE_GONE)
    user = _find_user(identifier)
    if user is None:
        raise LoginError(CODE_GONE)
    # Every other code for this identifier, in any session, dies with this login.
    db.session.execute(
        sa.update(LoginCode)
        .where(LoginCode.identifier == identifier, LoginCode.used_at.is_(None))
        .values(used_at=now))
    db.session.flush()
    return user


def device_cookie(identifier: str, secret_key: str, current: str | None) -> str:
    """The device cookie to set after a login (keeps the device id if it had one)."""
    return devices.issue(identifier, secret_key, devices.device_for(current, identifier, secret_key))


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, lifetime: timedelta, now: datetime | None = None) -> str:
    """Create a server-side session and return its secret token. Flushes."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(token_hash=_hash_token(token), user_id=user.id, created_at=now,
                     last_seen_at=now, expires_at=now + lifetime)
    )
    db.session.flush()
    return token


SEEN_RESOLUTION = timedelta(minutes=5)

# Staff sessions (ASVS 7.3.1-2): about 30 idle minutes, at most 12 hours (expires_at, set
# at login); their visits are noted every minute so the idle limit stays close.
STAFF_IDLE_LIMIT = timedelta(minutes=30)
STAFF_SEEN_RESOLUTION = timedelta(minutes=1)

# Runs on every request, so it is built once (SQLAlchemy then reuses its cache key and SQL)
# and checks the session in SQL: one row, the user and the session.
_SESSION_USER = (
    sa.select(User, LoginSession)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(LoginSession.token_hash == sa.bindparam("token_hash", type_=sa.String),
           LoginSession.revoked_at.is_(None),
           LoginSession.expires_at > sa.bindparam("now", type_=sa.DateTime),
           LoginSession.last_seen_at > sa.bindparam("idle_since", type_=sa.DateTime),
           User.is_active)
)


def user_for_session(token: str, idle_limit: timedelta, now: datetime | None = None) -> User | None:
    """The active user behind a session token, or None when it ended (logout), expired
    (``expires_at``) or was idle for ``idle_limit`` (staff: ``STAFF_IDLE_LIMIT``)."""
    found = session_for_token(token, idle_limit, now=now)
    return found[0] if found else None


def session_for_token(token: str, idle_limit: timedelta, staff_idle_limit: timedelta = STAFF_IDLE_LIMIT,
                      now: datetime | None = None) -> tuple[User, LoginSession] | None:
    """The active user and the live session row behind a token, or None (see
    ``user_for_session``)."""
    now = now or utcnow()
    row = db.session.execute(_SESSION_USER, {"token_hash": _hash_token(token), "now": now,
                                             "idle_since": now - idle_limit}).first()
    if row is None:
        return None
    user, login_session = row
    last_seen_at = login_session.last_seen_at
    resolution = SEEN_RESOLUTION
    if user.role != Role.CITIZEN:
        if now - last_seen_at > staff_idle_limit:
            return None
        resolution = STAFF_SEEN_RESOLUTION
    # Write at most every few minutes: a write per request would halve throughput.
    if now - last_seen_at > resolution:
        db.session.execute(sa.update(LoginSession).where(LoginSession.id == login_session.id)
                           .values(last_seen_at=now))
    return user, login_session


def end_sessions_of(user_id: int, now: datetime | None = None) -> int:
    """Revoke every live session of a user (disabling a staff user, ASVS 7.4.2). Flushes."""
    result = db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    return result.rowcount  # type: ignore[attr-defined,no-any-return]


def end_session(token: str, now: datetime | None = None) -> None:
    """Revoke a session server-side (logout). The request commits."""
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.token_hash == _hash_token(token), LoginSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )


def set_language(user: User, language: str) -> None:
    """The user's own language, for pages, messages and reminders. The request commits."""
    user.language = language


# Login rows hold addresses and identifiers: kept only as long as a rule reads them (the
# longest window above is an hour), plus a day to look into an incident; sessions a week
# after they ended (logout, expiry), for the same reason.
LOGIN_ROWS_KEPT = timedelta(days=1)
ENDED_SESSIONS_KEPT = timedelta(days=7)


def _delete_ids(model: type, where: sa.ColumnElement[bool], batch: int) -> int:
    ids = sa.select(model.id).where(where).order_by(model.id).limit(batch).scalar_subquery()
    result = db.session.execute(sa.delete(model).where(model.id.in_(ids))
                                .execution_options(synchronize_session=False))
    return result.rowcount or 0  # type: ignore[attr-defined,no-any-return]


def delete_stale_login_rows(now: datetime | None = None, batch: int = 1000) -> int:
    """Delete up to ``batch`` old rows of each kind (codes with their unsent outbox rows,
    wrong guesses, ended sessions); returns how many went. Flushes."""
    now = now or utcnow()
    old_code = LoginCode.created_at < now - LOGIN_ROWS_KEPT
    deleted = _delete_ids(LoginCodeOutbox, LoginCodeOutbox.login_code_id.in_(
        sa.select(LoginCode.id).where(old_code)), batch)
    deleted += _delete_ids(LoginCode, old_code, batch)
    deleted += _delete_ids(LoginFailure, LoginFailure.created_at < now - LOGIN_ROWS_KEPT, batch)
    ended_before = now - ENDED_SESSIONS_KEPT
    deleted += _delete_ids(LoginSession, sa.or_(LoginSession.expires_at < ended_before,
                                                LoginSession.revoked_at < ended_before), batch)
    return deleted
