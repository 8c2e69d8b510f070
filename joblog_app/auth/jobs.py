"""The login-code outbox as a worker job: codes leave here, outside the request, so known
and unknown identifiers look alike in content and in time (docs/operations.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from cryptography.fernet import InvalidToken
from flask import current_app

from ..extensions import db
from ..models_base import utcnow
from ..worker import Stopping
from .models import LoginCodeOutbox
from .senders import CodeNotSent, CodeSender, sender_for
from .services import OUTBOX_MAX_ATTEMPTS, OUTBOX_RETRY, _find_user, _sealer, delete_stale_login_rows, log


def send_codes_job(stopping: Stopping) -> int:
    """Send what is due, 20 messages a round (the worker comes back at once when there is
    more), so a code never waits long behind other jobs."""
    sent = send_pending_codes(current_app.secret_key, sender_for)  # type: ignore[arg-type]
    if sent:
        log.info("login codes sent: %s", sent)
    return sent


def send_pending_codes(secret_key: str, sender_for: Callable[[str], CodeSender],
                       now: datetime | None = None, limit: int = 20) -> int:
    """Worker job: send the codes waiting in the outbox and return how many were sent.

    Only here is the identifier looked up: unknown, inactive and staff identifiers get
    nothing. A code that cannot be sent is tried ``OUTBOX_MAX_ATTEMPTS`` times, then given
    up (logged); an expired or voided code is never sent. Commits after each message,
    because a message that has left cannot be taken back.
    """
    sent = 0
    for _ in range(limit):
        now_ = now or utcnow()
        due = (sa.select(LoginCodeOutbox)
               .where(LoginCodeOutbox.next_attempt_at <= now_)
               .order_by(LoginCodeOutbox.next_attempt_at, LoginCodeOutbox.id).limit(1))
        if db.engine.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        row = db.session.scalar(due)
        if row is None:
            break
        code_row = row.login_code
        user = _find_user(code_row.identifier)
        if code_row.used_at is not None or code_row.expires_at <= now_ or user is None:
            db.session.delete(row)
            db.session.commit()
            continue
        try:
            code = _sealer(secret_key).decrypt(row.sealed_code.encode()).decode()
            sender_for(code_row.identifier).send(code_row.identifier, code, user.language, user.id)
        except InvalidToken:  # the secret key changed: this code cannot be sent any more
            db.session.delete(row)
        except CodeNotSent as exc:
            row.attempts += 1
            if exc.permanent or row.attempts >= OUTBOX_MAX_ATTEMPTS:
                log.error("login code for user #%s given up after %s attempts", user.id, row.attempts)
                db.session.delete(row)
            else:
                wait = OUTBOX_RETRY * row.attempts
                if exc.retry_after is not None:  # the gateway's Retry-After wins when longer
                    wait = max(wait, timedelta(seconds=exc.retry_after))
                row.next_attempt_at = now_ + wait
        else:
            db.session.delete(row)
            sent += 1
        db.session.commit()
    return sent


class HousekeepingJob:
    """``login-housekeeping``: old login codes, wrong guesses and ended sessions go, a batch
    per commit, at most once every ``every`` in one worker (nothing there is urgent)."""

    def __init__(self, every: timedelta = timedelta(minutes=10)) -> None:
        self.every = every
        self.last_run: datetime | None = None

    def __call__(self, stopping: Stopping) -> int:
        now = utcnow()
        if self.last_run is not None and now - self.last_run < self.every:
            return 0
        self.last_run = now
        deleted = 0
        while not stopping():
            n = delete_stale_login_rows(now)
            db.session.commit()
            deleted += n
            if n == 0:
                break
        if deleted:
            log.info("old login rows deleted: %s", deleted)
        return deleted
