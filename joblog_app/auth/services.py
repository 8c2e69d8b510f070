"""Citizen login with one-time codes, and server-side login sessions.

Rules (OWASP ASVS 6.5/6.6): 6 random digits, stored as a keyed hash, single use, valid
10 minutes, at most 5 wrong guesses per code. Sending is throttled per identifier, per
identifier+IP and per IP; nothing ever locks the account, so the real user can always ask
for a new code a little later.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models_base import utcnow
from .models import LoginCode, LoginSession, Role, User
from .senders import CodeSender

CODE_TTL = timedelta(minutes=10)
MAX_WRONG_GUESSES = 5
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_SENDS_PER_IDENTIFIER_AND_IP = 3
MAX_SENDS_PER_IDENTIFIER = 8
# Job cafés put 30 citizens behind one IP: the per-IP limit must leave room for them.
MAX_SENDS_PER_IP = 60
MAX_FAILED_VERIFICATIONS_PER_IP = 60

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,185}\.[^@\s]{2,}$")


class LoginError(Exception):
    def __init__(self, message: object) -> None:
        super().__init__("login refused")
        self.message = message


@dataclass(frozen=True)
class CodeRequest:
    identifier: str
    sent: bool  # False when the identifier is unknown; the caller must not reveal that


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
    if re.fullmatch(r"\d{8}", digits):
        return "+45" + digits
    if re.fullmatch(r"\+\d{8,15}", digits):
        return digits
    raise LoginError(_l("This phone number does not look right. Write 8 digits, like 20 30 40 50."))


def _hash_code(secret_key: str, identifier: str, code: str) -> str:
    return hmac.new(secret_key.encode(), f"{identifier}:{code}".encode(), hashlib.sha256).hexdigest()


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


def _count_codes(*conditions: sa.ColumnElement[bool]) -> int:
    return db.session.scalar(sa.select(sa.func.count(LoginCode.id)).where(*conditions)) or 0


def request_code(raw_identifier: str, ip: str, secret_key: str, sender: CodeSender,
                 now: datetime | None = None) -> CodeRequest:
    """Create and send a code, unless throttled. Flushes (the request commits)."""
    now = now or utcnow()
    identifier = normalize_identifier(raw_identifier)
    since = now - THROTTLE_WINDOW
    recent = LoginCode.created_at > since
    if (
        _count_codes(recent, LoginCode.identifier == identifier, LoginCode.ip == ip)
        >= MAX_SENDS_PER_IDENTIFIER_AND_IP
        or _count_codes(recent, LoginCode.identifier == identifier) >= MAX_SENDS_PER_IDENTIFIER
        or _count_codes(recent, LoginCode.ip == ip) >= MAX_SENDS_PER_IP
    ):
        raise LoginError(_l("You asked for many codes. Wait 15 minutes, then try again."))

    user = _find_user(identifier)
    code = f"{secrets.randbelow(10**6):06d}"
    if user is not None:
        # Sent first: a code that never left (CodeNotSent) does not count against the limits.
        sender.send(identifier, code, user.language, user.id)
    db.session.add(
        LoginCode(
            identifier=identifier,
            user_id=user.id if user else None,
            code_hash=_hash_code(secret_key, identifier, code),
            ip=ip,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    db.session.flush()
    return CodeRequest(identifier=identifier, sent=user is not None)


def verify_code(identifier: str, code: str, ip: str, secret_key: str,
                now: datetime | None = None) -> User:
    """Check a code; on success it is used up and the user returned. Flushes: the request
    commits, also when it answers a wrong code (the wrong guess must count)."""
    now = now or utcnow()
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        raise LoginError(_l("The code has 6 digits. Write all 6."))
    failed_from_ip = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LoginCode.failed_attempts), 0)).where(
            LoginCode.ip == ip, LoginCode.created_at > now - THROTTLE_WINDOW
        )
    )
    if failed_from_ip >= MAX_FAILED_VERIFICATIONS_PER_IP:
        raise LoginError(_l("Too many wrong codes. Wait 15 minutes, then try again."))

    login_code = db.session.scalar(
        sa.select(LoginCode)
        .where(LoginCode.identifier == identifier, LoginCode.used_at.is_(None))
        .order_by(LoginCode.created_at.desc())
        .limit(1)
    )
    if login_code is None or login_code.expires_at <= now or login_code.user_id is None:
        raise LoginError(_l("This code does not work any more. Ask for a new code."))
    if login_code.failed_attempts >= MAX_WRONG_GUESSES:
        raise LoginError(_l("Too many wrong tries. Ask for a new code."))
    if not hmac.compare_digest(login_code.code_hash, _hash_code(secret_key, identifier, code)):
        login_code.failed_attempts += 1
        db.session.flush()
        raise LoginError(_l("The code is not right. Check the message and try again."))

    # Single use, also under concurrency: only one request can flip used_at.
    used = db.session.execute(
        sa.update(LoginCode)
        .where(LoginCode.id == login_code.id, LoginCode.used_at.is_(None))
        .values(used_at=now)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise LoginError(_l("This code does not work any more. Ask for a new code."))
    user = db.session.get(User, login_code.user_id)
    if user is None or not user.is_active:
        raise LoginError(_l("This code does not work any more. Ask for a new code."))
    return user


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
