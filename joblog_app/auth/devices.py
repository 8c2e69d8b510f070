"""The device cookie: a signed note, set at login, that this browser has logged in before
with this identifier. Such a browser asks for codes from a budget of its own, which nobody
without the cookie can use up (see docs/operations.md, "Login codes")."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE_NAME = "joblog_device"
SECURE_COOKIE_NAME = "__Host-device"  # outside local development (Secure, path=/, no Domain)
# Chromium caps cookie lifetimes at 400 days.
MAX_AGE_SECONDS = 400 * 86400
_SALT = "joblog-device-cookie"


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def _tag(secret_key: str, identifier: str) -> str:
    # The identifier itself never goes into the cookie.
    return hmac.new(secret_key.encode(), f"device:{identifier}".encode(),
                    hashlib.sha256).hexdigest()[:24]


def device_for(cookie: str | None, identifier: str, secret_key: str) -> str | None:
    """The device id when ``cookie`` is a valid, unexpired device cookie for ``identifier``."""
    if not cookie or len(cookie) > 512:
        return None
    try:
        data = _serializer(secret_key).loads(cookie, max_age=MAX_AGE_SECONDS)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("d"), str):
        return None
    if not hmac.compare_digest(str(data.get("i", "")), _tag(secret_key, identifier)):
        return None
    return data["d"][:32]


def issue(identifier: str, secret_key: str, device_id: str | None = None) -> str:
    """A fresh cookie value for ``identifier`` (keeping ``device_id`` when there is one)."""
    return _serializer(secret_key).dumps(
        {"d": device_id or secrets.token_hex(16), "i": _tag(secret_key, identifier)})
