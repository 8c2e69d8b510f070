"""Municipalities, users, one-time login codes, server-side login sessions, and the staff
second factors (passkeys, a TOTP app, recovery codes).

A municipality's settings live with the feature they are about (e.g. record/models.py)."""

from __future__ import annotations

import enum
import re
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..extensions import db
from ..models_base import enum_column, utcnow

if TYPE_CHECKING:
    from ..citizens.models import CitizenProfile


class Role(enum.StrEnum):
    CITIZEN = "citizen"
    HELPER = "helper"
    CASEWORKER = "caseworker"
    ADMIN = "admin"


class Municipality(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(8), unique=True)  # e.g. the 3-digit kommunekode
    name: Mapped[str] = mapped_column(sa.String(120))

    users: Mapped[list[User]] = relationship(back_populates="municipality")

    @validates("code")
    def _three_digits(self, _key: str, code: str) -> str:
        # The record contract's municipalityCode: "^[0-9]{3}$" (the kommunekode).
        if not isinstance(code, str) or not re.fullmatch(r"[0-9]{3}", code):
            raise ValueError("a municipality code is three digits, e.g. 751")
        return code


class User(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"), default=Role.CITIZEN)
    municipality_id: Mapped[int] = mapped_column(sa.ForeignKey("municipality.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    # Normalised login identifiers: +45XXXXXXXX and lower-case e-mail.
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    language: Mapped[str] = mapped_column(sa.String(5), default="da")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    municipality: Mapped[Municipality] = relationship(back_populates="users")
    profile: Mapped[CitizenProfile | None] = relationship(back_populates="user")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class LoginCode(db.Model):
    """A one-time code: stored as a keyed hash, single use, short-lived, valid only in the
    browser session that asked for it (``session_hash``). ``used_at`` is also set when
    another code for the identifier is used, or the same session asks again (voided)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(sa.String(254), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    ip: Mapped[str] = mapped_column(sa.String(45), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    failed_attempts: Mapped[int] = mapped_column(default=0)
    # Keyed hash of a random value kept in the asking browser's session.
    session_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # Set when asked from a browser with a device cookie for this identifier (own budget).
    device_id: Mapped[str | None] = mapped_column(sa.String(32), index=True)


class LoginCodeOutbox(db.Model):
    """A code waiting to be sent by the worker, so the login request never waits for (or
    reveals anything through) the mail or SMS server. The code is sealed with a key derived
    from the secret key; the row is deleted once the message has left or given up."""

    id: Mapped[int] = mapped_column(primary_key=True)
    login_code_id: Mapped[int] = mapped_column(
        sa.ForeignKey("login_code.id", ondelete="CASCADE"), unique=True)
    sealed_code: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    login_code: Mapped[LoginCode] = relationship()


class LoginFailure(db.Model):
    """A wrong code, counted against the address that *guessed* (not the one that asked)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ip: Mapped[str] = mapped_column(sa.String(45), index=True)
    identifier: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class LoginSession(db.Model):
    """A server-side session, so logout and disabling a user end it for real."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # Staff only: a staff session grants no staff permission until the second factor passed
    # (or an identity provider vouched for one, see docs/operations.md).
    second_factor_at: Mapped[datetime | None]
    second_factor_failures: Mapped[int] = mapped_column(default=0)
    # The pending WebAuthn challenge of this session (base64url), single use, short-lived.
    webauthn_challenge: Mapped[str | None] = mapped_column(sa.String(128))
    webauthn_challenge_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class StaffPasskey(db.Model):
    """A WebAuthn credential of a staff user (the public key only; the private key never
    leaves the authenticator)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[str] = mapped_column(sa.String(1400), unique=True)  # base64url
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sign_count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class StaffTotp(db.Model):
    """A staff user's TOTP app: the secret encrypted at rest; ``last_step`` refuses a code
    used again within its 30-second step (replay)."""

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"),
                                         primary_key=True)
    secret_encrypted: Mapped[str] = mapped_column(sa.String(255))
    confirmed_at: Mapped[datetime | None]
    last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffRecoveryCode(db.Model):
    """A one-time recovery code, stored as a keyed hash."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
