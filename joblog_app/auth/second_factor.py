"""The staff second factor: a passkey (WebAuthn) first, a TOTP app as the fallback, and ten
one-time recovery codes.

A staff session starts after the e-mail code (services.verify_code) and grants no staff
permission until one of these passed on that session row (``second_factor_at``). A staff
user without any factor enrols one on that first login: enrolment itself then counts as the
second factor (the account was created by an administrator, and the e-mail code proved the
inbox). Five wrong answers on one session end it: the user starts again with a new code.

Secrets are never logged. Services flush; the request commits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
import segno
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from flask_babel import lazy_gettext as _l
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..extensions import db
from ..models_base import utcnow
from .models import LoginSession, StaffPasskey, StaffRecoveryCode, StaffTotp, User

MAX_FAILURES = 5
CHALLENGE_TTL = timedelta(minutes=5)
RECOVERY_CODE_COUNT = 10
TOTP_STEP = 30
TOTP_ISSUER = "Joblog"
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i

WRONG_CODE = _l("The code is not right. Check the app and try again.")
TOO_MANY = _l("Too many wrong tries. Log in again with a new e-mail code.")
PASSKEY_FAILED = _l("The passkey did not work. Try again, or use your authenticator app.")


class SecondFactorError(Exception):
    def __init__(self, message: object) -> None:
        super().__init__("second factor refused")
        self.message = message


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys belong to: the site's domain (``id``) and its exact origin."""

    id: str
    name: str
    origin: str


@dataclass(frozen=True)
class Factors:
    passkeys: int
    totp: bool
    recovery_codes_left: int

    @property
    def enrolled(self) -> bool:
        return self.passkeys > 0 or self.totp


def factors_of(user_id: int) -> Factors:
    passkeys = db.session.scalar(sa.select(sa.func.count(StaffPasskey.id))
                                 .where(StaffPasskey.user_id == user_id)) or 0
    totp = db.session.scalar(sa.select(StaffTotp.confirmed_at).where(StaffTotp.user_id == user_id))
    left = db.session.scalar(sa.select(sa.func.count(StaffRecoveryCode.id)).where(
        StaffRecoveryCode.user_id == user_id, StaffRecoveryCode.used_at.is_(None))) or 0
    return Factors(passkeys=passkeys, totp=totp is not None, recovery_codes_left=left)


def _passed(login_session: LoginSession, now: datetime) -> None:
    login_session.second_factor_at = now
    login_session.second_factor_failures = 0
    login_session.webauthn_challenge = None
    db.session.flush()


def vouched_by_provider(login_session: LoginSession, now: datetime | None = None) -> None:
    """The seam for single sign-on: an identity provider whose answer names a second factor
    (e.g. an OIDC ``amr`` with ``mfa``/``hwk``) passes this session's. Flushes."""
    _passed(login_session, now or utcnow())


def forget_factors(user_id: int) -> None:
    """Remove every second factor of a user (lost phone and codes): they enrol again on the
    next login. The caller ends their sessions. Flushes."""
    for model in (StaffPasskey, StaffTotp, StaffRecoveryCode):
        db.session.execute(sa.delete(model).where(model.user_id == user_id))
    db.session.flush()


def _failed(login_session: LoginSession, message: object, now: datetime) -> SecondFactorError:
    """Count a wrong answer; the fifth ends the session. Returns the error to raise."""
    login_session.second_factor_failures += 1
    if login_session.second_factor_failures >= MAX_FAILURES:
        login_session.revoked_at = now
        message = TOO_MANY
    db.session.flush()
    return SecondFactorError(message)


# -- TOTP ---------------------------------------------------------------------------------

def _fernet(key: str) -> Fernet:
    return Fernet(key)


def _secret_of(row: StaffTotp, key: str) -> str:
    try:
        return _fernet(key).decrypt(row.secret_encrypted.encode()).decode()
    except InvalidToken as exc:  # never the secret in the message
        raise RuntimeError("cannot decrypt a TOTP secret with the configured key") from exc


def begin_totp(user_id: int, key: str, now: datetime | None = None) -> str:
    """A new, unconfirmed TOTP secret for enrolment (replacing an unconfirmed one); returns
    the secret for the QR code. A confirmed app is kept: refused. Flushes."""
    row = db.session.get(StaffTotp, user_id)
    if row is not None and row.confirmed_at is not None:
        raise SecondFactorError(_l("You already use an authenticator app."))
    secret = pyotp.random_base32()
    encrypted = _fernet(key).encrypt(secret.encode()).decode()
    if row is None:
        db.session.add(StaffTotp(user_id=user_id, secret_encrypted=encrypted,
                                 created_at=now or utcnow()))
    else:
        row.secret_encrypted, row.last_step = encrypted, None
    db.session.flush()
    return secret


def pending_totp_secret(user_id: int, key: str) -> str | None:
    row = db.session.get(StaffTotp, user_id)
    if row is None or row.confirmed_at is not None:
        return None
    return _secret_of(row, key)


def totp_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=TOTP_ISSUER)


def qr_data_uri(text: str) -> str:
    """An SVG QR code as a data URI (an <img>: the CSP allows data: images, not inline script)."""
    return segno.make(text, error="m").svg_data_uri(scale=5, border=2)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step (now, or one either side for clock drift) whose code is ``code``."""
    totp = pyotp.TOTP(secret)
    moment = now if now.tzinfo else now.replace(tzinfo=UTC)  # naive times here are UTC
    current = int(moment.timestamp()) // TOTP_STEP
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP), code):
            return step
    return None


def _clean_code(code: str) -> str:
    code = re.sub(r"\s", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        raise SecondFactorError(_l("The code from the app has 6 digits. Write all 6."))
    return code


def _use_step(user_id: int, step: int) -> bool:
    """Take ``step`` for this user, once: a code seen before (same or earlier step) is a replay."""
    result = db.session.execute(
        sa.update(StaffTotp)
        .where(StaffTotp.user_id == user_id,
               sa.or_(StaffTotp.last_step.is_(None), StaffTotp.last_step < step))
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def confirm_totp(login_session: LoginSession, code: str, key: str,
                 now: datetime | None = None) -> None:
    """Finish enrolment with a first code from the app; the session's second factor then
    passed. Flushes."""
    now = now or utcnow()
    code = _clean_code(code)
    row = db.session.get(StaffTotp, login_session.user_id)
    if row is None or row.confirmed_at is not None:
        raise SecondFactorError(_l("Start again: choose the authenticator app."))
    step = _matching_step(_secret_of(row, key), code, now)
    if step is None or not _use_step(row.user_id, step):
        raise _failed(login_session, WRONG_CODE, now)
    db.session.refresh(row)
    row.confirmed_at = now
    _passed(login_session, now)


def verify_totp(login_session: LoginSession, code: str, key: str,
                now: datetime | None = None) -> None:
    """Check a code from the staff user's app: accepted once per 30-second step. Flushes."""
    now = now or utcnow()
    code = _clean_code(code)
    row = db.session.get(StaffTotp, login_session.user_id)
    if row is None or row.confirmed_at is None:
        raise _failed(login_session, WRONG_CODE, now)
    step = _matching_step(_secret_of(row, key), code, now)
    if step is None or not _use_step(row.user_id, step):
        raise _failed(login_session, WRONG_CODE, now)
    _passed(login_session, now)


# -- Recovery codes -------------------------------------------------------------------------

def _hash_recovery(secret_key: str, user_id: int, code: str) -> str:
    return hmac.new(secret_key.encode(), f"recovery:{user_id}:{code}".encode(),
                    hashlib.sha256).hexdigest()


def _normal_recovery(code: str) -> str:
    return re.sub(r"[\s\-]", "", (code or "").lower())[:40]


def new_recovery_codes(user_id: int, secret_key: str, now: datetime | None = None) -> list[str]:
    """Ten new one-time codes (the old ones stop working), returned once to be shown once;
    only their keyed hashes are stored. Flushes."""
    now = now or utcnow()
    db.session.execute(sa.delete(StaffRecoveryCode).where(StaffRecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(StaffRecoveryCode(user_id=user_id, created_at=now,
                                         code_hash=_hash_recovery(secret_key, user_id, raw)))
    db.session.flush()
    return codes


def use_recovery_code(login_session: LoginSession, code: str, secret_key: str,
                      now: datetime | None = None) -> None:
    """Pass the second factor with a recovery code; each works once. Flushes."""
    now = now or utcnow()
    wanted = _hash_recovery(secret_key, login_session.user_id, _normal_recovery(code))
    used = db.session.execute(
        sa.update(StaffRecoveryCode)
        .where(StaffRecoveryCode.user_id == login_session.user_id,
               StaffRecoveryCode.code_hash == wanted, StaffRecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise _failed(login_session, _l("This recovery code does not work. Each code works "
                                        "only once. Check it and try again."), now)
    _passed(login_session, now)


# -- Passkeys (WebAuthn) ----------------------------------------------------------------------

def _new_challenge(login_session: LoginSession, now: datetime) -> bytes:
    challenge = secrets.token_bytes(32)
    login_session.webauthn_challenge = bytes_to_base64url(challenge)
    login_session.webauthn_challenge_at = now
    db.session.flush()
    return challenge


def _take_challenge(login_session: LoginSession, now: datetime) -> bytes:
    """The session's pending challenge, used up now (single use, at most 5 minutes old)."""
    challenge, at = login_session.webauthn_challenge, login_session.webauthn_challenge_at
    login_session.webauthn_challenge = None
    db.session.flush()
    if challenge is None or at is None or now - at > CHALLENGE_TTL:
        raise SecondFactorError(PASSKEY_FAILED)
    return base64url_to_bytes(challenge)


def _descriptors(user_id: int) -> list[PublicKeyCredentialDescriptor]:
    ids = db.session.scalars(sa.select(StaffPasskey.credential_id)
                             .where(StaffPasskey.user_id == user_id)).all()
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(i)) for i in ids]


def registration_options(user: User, rp: RelyingParty, login_session: LoginSession,
                         now: datetime | None = None) -> str:
    """The JSON options for ``navigator.credentials.create``; the challenge is kept on the
    session row. Flushes."""
    challenge = _new_challenge(login_session, now or utcnow())
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_id=f"joblog-staff-{user.id}".encode(),
        user_name=user.email or str(user.id), user_display_name=user.name, challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=_descriptors(user.id),
    )
    return options_to_json(options)


def _parse(credential: str) -> dict[str, object]:
    try:
        data = json.loads(credential)
    except ValueError:
        raise SecondFactorError(PASSKEY_FAILED) from None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise SecondFactorError(PASSKEY_FAILED)
    return data


def register_passkey(user: User, rp: RelyingParty, login_session: LoginSession, credential: str,
                     now: datetime | None = None) -> None:
    """Check the authenticator's answer to our challenge and keep its public key; the
    session's second factor then passed (enrolment). Flushes."""
    now = now or utcnow()
    expected = _take_challenge(login_session, now)
    data = _parse(credential)
    try:
        verified = verify_registration_response(credential=data, expected_challenge=expected,
                                                expected_rp_id=rp.id, expected_origin=rp.origin)
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError):
        raise _failed(login_session, PASSKEY_FAILED, now) from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(sa.select(StaffPasskey.id)
                         .where(StaffPasskey.credential_id == credential_id)) is not None:
        raise _failed(login_session, PASSKEY_FAILED, now)
    db.session.add(StaffPasskey(user_id=user.id, credential_id=credential_id,
                                public_key=verified.credential_public_key,
                                sign_count=verified.sign_count, created_at=now, last_used_at=now))
    _passed(login_session, now)


def authentication_options(user: User, rp: RelyingParty, login_session: LoginSession,
                           now: datetime | None = None) -> str:
    """The JSON options for ``navigator.credentials.get`` (this user's passkeys). Flushes."""
    challenge = _new_challenge(login_session, now or utcnow())
    options = generate_authentication_options(
        rp_id=rp.id, challenge=challenge, allow_credentials=_descriptors(user.id),
        user_verification=UserVerificationRequirement.PREFERRED)
    return options_to_json(options)


def authenticate_passkey(user: User, rp: RelyingParty, login_session: LoginSession,
                         credential: str, now: datetime | None = None) -> None:
    """Check a passkey's signature over our challenge; the session's second factor then
    passed. Flushes."""
    now = now or utcnow()
    expected = _take_challenge(login_session, now)
    data = _parse(credential)
    passkey = db.session.scalar(sa.select(StaffPasskey).where(
        StaffPasskey.user_id == user.id, StaffPasskey.credential_id == data["id"]))
    if passkey is None:
        raise _failed(login_session, PASSKEY_FAILED, now)
    try:
        verified = verify_authentication_response(
            credential=data, expected_challenge=expected, expected_rp_id=rp.id,
            expected_origin=rp.origin, credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count)
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError):
        raise _failed(login_session, PASSKEY_FAILED, now) from None
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = now
    _passed(login_session, now)
