"""A fake push service (RFC 8030/8291/8292) on 127.0.0.1 that behaves like a real one.

For each POST to an endpoint it checks what a real push service checks — the VAPID JWT
(ES256 signature against the ``k=`` public key, ``aud`` = its own origin, ``exp`` in the
future and at most 24 h away, a ``mailto:``/``https:`` ``sub``), TTL, Urgency and Topic —
and decrypts the aes128gcm body with the subscription's private key (http_ece), as the
browser would. It answers 201, or what a test asks for per endpoint (404, 410, 429 with
Retry-After, 5xx, 403 ...). Subscriptions use real P-256 keys made with ``cryptography``.
Not part of the app: tests and bench/push_wave.py use it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

URGENCIES = {"very-low", "low", "normal", "high"}
TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class DeviceKeys:
    """A subscription's receiving side: the browser's P-256 key pair and auth secret."""

    private: ec.EllipticCurvePrivateKey
    auth: bytes

    @classmethod
    def new(cls) -> DeviceKeys:
        return cls(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


@dataclass
class Received:
    path: str
    status: int
    headers: dict[str, str]
    message: dict | None  # the decrypted JSON, when decrypted
    problems: list[str]


Answer = tuple[int, dict[str, str]]


@dataclass
class FakePushService:
    vapid_public_key: str
    decrypt_every: int = 1  # decrypt every n-th message (the bench decrypts a sample)
    decide: Callable[[str, int], Answer] | None = None  # (path, n-th message to it) -> answer
    # Endpoints it has no keys for: 404 (unknown), or accepted without decrypting (the bench
    # gives it the keys of a sample only).
    accept_unknown: bool = False
    keys: dict[str, DeviceKeys] = field(default_factory=dict)
    scripted: dict[str, list[Answer]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _verified: set[str] = field(default_factory=set)
    _n: int = 0

    def start(self) -> FakePushService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real push services

            def log_message(self, *_args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, headers = service.handle(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # or concurrent clients stall for a second each
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def subscribe(self, keys: DeviceKeys | None = None) -> dict:
        """A new endpoint with its own (or given) device keys: a PushSubscription's JSON."""
        keys = keys or DeviceKeys.new()
        path = f"/push/{b64url(os.urandom(12))}"
        self.keys[path] = keys
        return {"endpoint": self.origin + path, "keys": {"p256dh": keys.p256dh,
                                                         "auth": b64url(keys.auth)}}

    def answer(self, endpoint: str, *answers: Answer) -> None:
        """Answer the next messages to ``endpoint`` like this (then 201 again)."""
        self.scripted.setdefault(endpoint.replace(self.origin, ""), []).extend(answers)

    # --- checks a real push service makes ------------------------------------------------
    def _check_vapid(self, authorization: str, problems: list[str]) -> None:
        m = re.fullmatch(r"vapid t=([\w-]+\.[\w-]+\.[\w-]+), ?k=([\w-]+)", authorization or "")
        if not m:
            problems.append("no VAPID authorization")
            return
        token, key = m.groups()
        if key != self.vapid_public_key:
            problems.append("k= is not the expected public key")
            return
        head, claims_b64, sig = token.split(".")
        claims = json.loads(unb64(claims_b64))
        if json.loads(unb64(head)).get("alg") != "ES256":
            problems.append("alg is not ES256")
        if claims.get("aud") != self.origin:
            problems.append(f"aud {claims.get('aud')!r} is not {self.origin}")
        exp = int(claims.get("exp", 0))
        if not time.time() < exp <= time.time() + 86400:
            problems.append("exp not in the next 24 hours")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            problems.append("sub is not mailto:/https:")
        if token in self._verified:
            return
        raw = unb64(sig)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(key))
        try:
            public.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                               int.from_bytes(raw[32:], "big")),
                          f"{head}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            problems.append("bad JWT signature")
            return
        with self._lock:
            self._verified.add(token)

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        h = {k.lower(): v for k, v in headers.items()}
        problems: list[str] = []
        self._check_vapid(h.get("authorization", ""), problems)
        if not h.get("ttl", "").isdigit():
            problems.append("no TTL")
        if h.get("urgency") not in URGENCIES:
            problems.append("no valid Urgency")
        if not TOPIC.match(h.get("topic", "")):
            problems.append("no valid Topic")
        if h.get("content-encoding") != "aes128gcm":
            problems.append("not aes128gcm")
        with self._lock:
            self._n += 1
            n = self._n
            self.counts[path] = self.counts.get(path, 0) + 1
            nth = self.counts[path]
            scripted = self.scripted.get(path)
            answer = scripted.pop(0) if scripted else None
        keys = self.keys.get(path)
        message = None
        if keys is None and not self.accept_unknown:
            answer = answer or (404, {})
        elif keys is not None and not problems and (n - 1) % self.decrypt_every == 0:
            try:
                plain = http_ece.decrypt(body, private_key=keys.private, auth_secret=keys.auth,
                                         version="aes128gcm")
                message = json.loads(plain)
            except Exception as exc:  # noqa: BLE001 - any failure is the sender's fault
                problems.append(f"cannot decrypt: {type(exc).__name__}")
        if problems:
            answer = (401 if any("VAPID" in p or "JWT" in p or "aud" in p or "exp" in p
                                 for p in problems) else 400, {})
        if answer is None and self.decide is not None:
            answer = self.decide(path, nth)
        status, extra = answer or (201, {})
        with self._lock:
            self.received.append(Received(path, status, h, message, problems))
        return status, {"Location": f"{self.origin}/message/{n}", **extra} if status == 201 else extra

    # --- what tests look at ----------------------------------------------------------------
    def accepted(self) -> list[Received]:
        return [r for r in self.received if r.status == 201]

    def problems(self) -> list[str]:
        return [p for r in self.received for p in r.problems]
