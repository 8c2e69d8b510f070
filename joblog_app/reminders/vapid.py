"""VAPID (RFC 8292): the server's key pair and the signed header a push service checks.

The private key is the raw 32-byte P-256 scalar, base64url (``flask push vapid`` makes one);
the public key is the uncompressed point the browser subscribes with
(``applicationServerKey``). A header is signed once per push-service origin and reused
until shortly before it expires, instead of signing every message.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

# A JWT may live at most 24 hours (RFC 8292 §2); we sign for 12 and renew at 11.
LIFETIME_SECONDS = 12 * 3600
RENEW_BEFORE_SECONDS = 3600
_MAILTO = re.compile(r"^mailto:[^@\s/]+@[^@\s/]+\.[^@\s/]+$")
_HTTPS = re.compile(r"^https://[^\s/]+\.[^\s/]+(/\S*)?$")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_private_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def check_contact(contact: str) -> str | None:
    """None when Apple and the others accept the contact, else what is wrong with it."""
    if _MAILTO.match(contact) or _HTTPS.match(contact):
        return None
    return f"must be a real mailto: or https: address, not {contact!r}"


def load_private_key(raw: str) -> ec.EllipticCurvePrivateKey:
    try:
        value = b64url_decode(raw.strip())
    except ValueError as exc:
        raise ValueError("the VAPID private key is not base64url") from exc
    if len(value) != 32:
        raise ValueError("the VAPID private key must be 32 bytes (base64url)")
    return ec.derive_private_key(int.from_bytes(value, "big"), ec.SECP256R1())


def public_key_of(key: ec.EllipticCurvePrivateKey) -> str:
    return b64url(key.public_key().public_bytes(serialization.Encoding.X962,
                                                serialization.PublicFormat.UncompressedPoint))


def sign_jwt(key: ec.EllipticCurvePrivateKey, claims: dict[str, object]) -> str:
    header = b64url(json.dumps({"typ": "JWT", "alg": "ES256"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{body}".encode()
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return f"{header}.{body}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@dataclass
class Vapid:
    """The configured key and a header per origin, reused while it is valid."""

    key: ec.EllipticCurvePrivateKey
    contact: str
    public_key: str = ""
    _headers: dict[str, tuple[float, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.public_key = public_key_of(self.key)

    @classmethod
    def from_config(cls, config: dict[str, object]) -> Vapid | None:
        raw = str(config.get("VAPID_PRIVATE_KEY") or "")
        if not raw:
            return None
        return cls(load_private_key(raw), str(config.get("VAPID_CONTACT") or ""))

    def header(self, origin: str, now: float | None = None) -> str:
        now = time.time() if now is None else now
        cached = self._headers.get(origin)
        if cached and cached[0] - RENEW_BEFORE_SECONDS > now:
            return cached[1]
        expires = int(now) + LIFETIME_SECONDS
        token = sign_jwt(self.key, {"aud": origin, "exp": expires, "sub": self.contact})
        value = f"vapid t={token}, k={self.public_key}"
        self._headers[origin] = (expires, value)
        return value


@lru_cache(maxsize=4)
def _public_key(raw: str) -> str:
    return public_key_of(load_private_key(raw))


def public_key_from_config(config: Mapping[str, object]) -> str:
    """The browsers' ``applicationServerKey``, or "" when push is not configured."""
    raw = str(config.get("VAPID_PRIVATE_KEY") or "")
    return _public_key(raw) if raw else ""
