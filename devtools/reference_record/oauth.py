"""OAuth2 client credentials (RFC 6749 §4.4): the token endpoint and the bearer check.

Tokens are opaque and live in memory only: after a restart every client gets one 401 and
fetches a new token. Errors at the token endpoint are the spec's ``TokenError``
(``{"error": ...}``), never the entries' error shape.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import threading
import time
from urllib.parse import parse_qs, unquote

from .answers import Answer, Reply

SCOPE = "joblog.write"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="joblog"'}


def token_error(status: int, error: str, description: str | None = None,
                headers: dict[str, str] | None = None) -> Answer:
    body = {"error": error} if description is None else {"error": error,
                                                         "error_description": description}
    return Answer(status, body, {**_NO_STORE, **(headers or {})})


class Tokens:
    def __init__(self, client_id: str, client_secret: str, ttl: float) -> None:
        if ttl <= 0:
            raise ValueError("token_ttl must be positive")
        self.client_id, self.client_secret, self.ttl = client_id, client_secret, ttl
        self._tokens: dict[str, float] = {}  # token -> monotonic expiry
        self._lock = threading.Lock()
        self.issued = 0

    def expire_all(self) -> None:
        with self._lock:
            self._tokens.clear()

    def endpoint(self, authorization: str | None, body: bytes) -> Answer:
        """``POST /oauth2/token``: HTTP Basic *or* form credentials, ``grant_type`` required."""
        try:
            form = {k: vs[0] for k, vs in parse_qs(body.decode("utf-8"), keep_blank_values=True,
                                                   strict_parsing=False).items()}
        except UnicodeDecodeError:
            return token_error(400, "invalid_request", "the body is not UTF-8")
        basic = None
        if authorization and authorization[:6].lower() == "basic ":
            try:
                raw = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return token_error(401, "invalid_client", headers=_BASIC_CHALLENGE)
            user, _, password = raw.partition(":")
            basic = (unquote(user), unquote(password))
        if basic and ("client_id" in form and "client_secret" in form):
            return token_error(400, "invalid_request", "use one client authentication method")
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        grant = form.get("grant_type")
        if not grant:
            return token_error(400, "invalid_request", "grant_type required")
        ok = hmac.compare_digest(client_id.encode(), self.client_id.encode()) & \
            hmac.compare_digest(secret.encode(), self.client_secret.encode())
        if not ok:
            return token_error(401, "invalid_client", headers=_BASIC_CHALLENGE if basic else None)
        if grant != "client_credentials":
            return token_error(400, "unsupported_grant_type")
        scopes = form.get("scope", SCOPE).split()
        if scopes and scopes != [SCOPE]:
            return token_error(400, "invalid_scope")
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            self._tokens[token] = now + self.ttl
            self.issued += 1
        return Answer(200, {"access_token": token, "token_type": "Bearer",
                            "expires_in": max(1, round(self.ttl)), "scope": SCOPE}, dict(_NO_STORE))

    def check(self, authorization: str | None) -> None:
        """401 unless ``Authorization: Bearer <a live token>``."""
        if not authorization or authorization[:7].lower() != "bearer ":
            raise Reply(401, {"errorCode": "UNAUTHORIZED", "message": "bearer token required"},
                        {"WWW-Authenticate": 'Bearer realm="joblog"'})
        token = authorization[7:].strip()
        with self._lock:
            expires = self._tokens.get(token)
        if expires is None or expires <= time.monotonic():
            raise Reply(401, {"errorCode": "UNAUTHORIZED", "message": "unknown or expired token"},
                        {"WWW-Authenticate": 'Bearer realm="joblog", error="invalid_token"'})
