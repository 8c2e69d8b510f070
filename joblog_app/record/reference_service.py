"""The reference record service: the record contract over HTTP, with switchable faults.

A small standalone server (stdlib ``http.server`` + SQLite, no Flask) implementing the REST
contract in ``docs/record-api.openapi.yaml`` — OAuth2 client credentials, ``x-requestId``
idempotency with 412 on a repeated id, ``x-civilRegistrationIdentifier`` — for development,
demos and tests. Faults (latency, 500/503, 429 + Retry-After, connection dropped after the
change was stored, all tokens expired) are switched at start or at runtime through
``POST /_faults``. See ``docs/reference-record-service.md``.

Python API::

    with ReferenceRecordService("/tmp/record.sqlite", client_secret="s") as service:
        service.url            # "http://127.0.0.1:<port>"
        service.set_faults(error_rate=0.5, seed=1)
        service.records(), service.stats()

``serve(...)`` runs it in the foreground (``flask record-service``).

CPR numbers are never stored, logged or returned: the service keeps a keyed hash (the key
is random per database file) to scope records to the citizen, and the masked ``DDMMYY-XXXX``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import random
import re
import secrets
import signal
import socket
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any
from urllib.parse import parse_qs, unquote

from . import reference_validation as v

log = logging.getLogger("joblog.record.reference")

SCOPE = "joblog.write"
API = "/joblog/v1"
MAX_BODY = 64 * 1024
KEEP_ALIVE_IDLE = 30  # seconds an idle keep-alive connection is kept open

FAULT_DEFAULTS: dict[str, Any] = {
    "latency_ms": 0,
    "error_rate": 0.0,
    "rate_limit_rate": 0.0,
    "retry_after": 1,
    "drop_after_store_rate": 0.0,
    "seed": None,
}
FAULT_KEYS = (*FAULT_DEFAULTS, "expire_tokens_now")

_CPR_IN_TEXT = re.compile(r"(?<!\d)(\d{6})-?\d{4}(?!\d)")


def mask_cpr_in_text(text: str) -> str:
    """Anything that looks like a CPR number becomes ``DDMMYY-XXXX`` (for log lines)."""
    return _CPR_IN_TEXT.sub(r"\1-XXXX", text)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class _Stopped(Exception):
    """The service is shutting down; the request is abandoned without an answer."""


class _Reply(Exception):
    """Answer now with this status and JSON body (raised from deep inside a handler)."""

    def __init__(self, status: int, body: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


# -- faults -------------------------------------------------------------------------------

def _rate(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise v.ContractError(name, "must be a number from 0 to 1")
    return float(value)


def _non_negative_int(name: str, value: Any, upper: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= upper:
        raise v.ContractError(name, f"must be a number from 0 to {upper}")
    return int(value)


def _check_faults(faults: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, value in faults.items():
        if name not in FAULT_KEYS:
            raise v.ContractError(name, "unknown fault; one of " + ", ".join(FAULT_KEYS))
        if name in ("error_rate", "rate_limit_rate", "drop_after_store_rate"):
            clean[name] = _rate(name, value)
        elif name == "latency_ms":
            clean[name] = _non_negative_int(name, value, 600_000)
        elif name == "retry_after":
            clean[name] = _non_negative_int(name, value, 86_400)
        elif name == "seed":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise v.ContractError(name, "must be an integer or null")
            clean[name] = value
        else:  # expire_tokens_now
            if not isinstance(value, bool):
                raise v.ContractError(name, "must be true or false")
            clean[name] = value
    return clean


# -- storage ------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL UNIQUE,
    request_id TEXT NOT NULL,          -- the request id of the POST that created it
    cpr_hash TEXT NOT NULL,            -- keyed hash; the number itself is never stored
    cpr_masked TEXT NOT NULL,          -- DDMMYY-XXXX
    body TEXT NOT NULL,                -- the entry, canonical JSON
    registered_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    cancelled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS records_cpr_hash ON records (cpr_hash);
CREATE TABLE IF NOT EXISTS request_ids (   -- every request id that changed something
    request_id TEXT PRIMARY KEY,
    record_id TEXT NOT NULL,
    method TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
"""


class _Store:
    """SQLite behind one lock: every change is one committed transaction."""

    def __init__(self, path: str) -> None:
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, timeout=10)
        conn = self._conn
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: safe against process crashes
        conn.executescript(_SCHEMA)
        row = conn.execute("SELECT value FROM meta WHERE key = 'cpr_key'").fetchone()
        if row is None:
            conn.execute("INSERT INTO meta (key, value) VALUES ('cpr_key', ?)",
                         (secrets.token_hex(32),))
            row = conn.execute("SELECT value FROM meta WHERE key = 'cpr_key'").fetchone()
        self._cpr_key = bytes.fromhex(row["value"])

    def cpr_hash(self, cpr: str) -> str:
        return hmac.new(self._cpr_key, cpr.encode(), hashlib.sha256).hexdigest()[:32]

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise _Stopped
            yield self._conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise _Stopped
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _record(row: sqlite3.Row, with_hash: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(row["body"])
    record.update(recordId=row["record_id"], requestId=row["request_id"], cpr=row["cpr_masked"],
                  registeredAt=row["registered_at"], updatedAt=row["updated_at"],
                  version=row["version"], cancelled=bool(row["cancelled"]))
    if with_hash:
        record["cprHash"] = row["cpr_hash"]
    return record


# -- HTTP ---------------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (socket.getfqdn), which can take
        # seconds without DNS; the name is not needed.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error", exc_info=True)

    def close_open_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.open_connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "JoblogReferenceRecord/1.0"
    sys_version = ""
    timeout = KEEP_ALIVE_IDLE
    service: ReferenceRecordService  # set on the subclass made per service
    server: _Server

    # -- plumbing ------------------------------------------------------------------------
    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # pragma: no cover - not a TCP socket
            pass
        with self.server.connections_lock:
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.open_connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.info("%s %s", self.client_address[0], mask_cpr_in_text(format % args))

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:  # noqa: N802
        self._dispatch("PATCH")

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch("HEAD")

    def _send(self, status: int, body: dict[str, Any] | list[Any] | None = None,
              headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 204 and not (100 <= status < 200) and status != 304:
            if body is not None:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        # Headers and body in one write: two small writes meet Nagle + delayed ACK (~40 ms).
        self._headers_buffer.append(b"\r\n")
        if payload and self.command != "HEAD":
            self._headers_buffer.append(payload)
        self.flush_headers()
        self.service._count_response(status)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise _Reply(400, {"errorCode": "VALIDATION", "field": "body",
                               "message": "send a Content-Length, not chunked"})
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            size = int(length)
            if size < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            raise _Reply(400, {"errorCode": "VALIDATION", "field": "Content-Length",
                               "message": "not a number"}) from None
        if size > MAX_BODY:
            self.close_connection = True
            raise _Reply(400, {"errorCode": "VALIDATION", "field": "body",
                               "message": f"too large: at most {MAX_BODY} bytes"})
        return self.rfile.read(size) if size else b""

    def _dispatch(self, method: str) -> None:
        try:
            try:
                body = self._read_body()
                path, _, query = self.path.partition("?")
                self._route(method, path, query, body)
            except _Reply as reply:
                self._send(reply.status, reply.body, reply.headers)
            except v.ContractError as exc:
                self._send(400, exc.body())
        except _Stopped:
            self.close_connection = True
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:
            log.exception("reference record service: unexpected error on %s %s", method,
                          mask_cpr_in_text(self.path.partition("?")[0]))
            self.close_connection = True
            try:
                self._send(500, {"errorCode": "INTERNAL_ERROR"})
            except OSError:
                pass

    # -- routing -------------------------------------------------------------------------
    def _route(self, method: str, path: str, query: str, body: bytes) -> None:
        service = self.service
        if path == "/oauth2/token":
            self._allow(method, "POST")
            self._send(*service._token_endpoint(self.headers.get("Authorization"), body))
            return
        if path == "/_faults":
            self._allow(method, "GET", "POST")
            if method == "POST":
                faults = v.parse_json_object(body)
                service.set_faults(**faults)
            self._send(200, service.faults)
            return
        if path == "/_records":
            self._allow(method, "GET")
            params = parse_qs(query)
            if "cpr" in params:  # CPR numbers never travel in URLs (they end up in logs)
                raise v.ContractError("cpr", "not in the URL: send the "
                                      "x-civilRegistrationIdentifier header or ?cprHash=")
            cpr_header = self.headers.get(v.CPR_HEADER)
            self._send(200, service.records(
                cpr=v.cpr(cpr_header) if cpr_header is not None else None,
                cpr_hash=(params.get("cprHash") or [None])[0]))
            return
        if path == "/_stats":
            self._allow(method, "GET")
            self._send(200, service.stats())
            return
        if path == "/_reset":
            self._allow(method, "POST")
            service.reset()
            self._send(200, service.stats())
            return
        if path == "/_health":
            self._allow(method, "GET")
            self._send(200, {"status": "ok"})
            return
        if not path.startswith(API + "/"):
            raise _Reply(404, {"errorCode": "NOT_FOUND", "message": "no such path"})

        rest = path[len(API):]
        parts = [unquote(p) for p in rest.strip("/").split("/")]
        if rest.endswith("/") or parts[0] != "entries" or len(parts) > 3 or \
                (len(parts) == 3 and parts[1] != "by-request"):
            raise _Reply(404, {"errorCode": "NOT_FOUND", "message": "no such path"})
        if len(parts) == 1:
            self._allow(method, "POST")
        elif len(parts) == 3:
            self._allow(method, "GET")
        else:
            self._allow(method, "GET", "PUT", "DELETE")

        drop = service._apply_faults(self.headers.get("Authorization"))
        request_id = v.request_id(self._single(v.REQUEST_ID_HEADER))
        cpr = v.cpr(self._single(v.CPR_HEADER))

        if len(parts) == 1:
            status, answer, headers = service._create(request_id, cpr, body)
        elif len(parts) == 3:
            status, answer, headers = service._get(cpr, by_request=v.request_id(
                parts[2], field="requestId"))
        elif method == "GET":
            status, answer, headers = service._get(cpr, record_id=parts[1])
        elif method == "PUT":
            status, answer, headers = service._update(request_id, cpr, parts[1], body)
        else:
            status, answer, headers = service._cancel(request_id, cpr, parts[1])

        if method != "GET" and status in (200, 201, 204) and drop:
            # The change is committed; the answer never arrives.
            log.info("fault: dropped the connection after storing %s %s", method,
                     mask_cpr_in_text(path))
            service._count_fault("dropped")
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._send(status, answer, headers)

    def _allow(self, method: str, *allowed: str) -> None:
        if method not in allowed:
            raise _Reply(405, {"errorCode": "METHOD_NOT_ALLOWED"}, {"Allow": ", ".join(allowed)})

    def _single(self, name: str) -> str | None:
        values = self.headers.get_all(name) or []
        if len(values) > 1:
            raise v.ContractError(name, "given more than once")
        return values[0] if values else None


# -- the service --------------------------------------------------------------------------

class ReferenceRecordService:
    """The record contract on ``http://host:port`` in a background thread.

    ``db_path`` is an SQLite file; records and seen request ids survive a restart on the
    same file. Tokens live in memory only: after a restart clients get 401 and fetch a new
    one. ``faults`` takes the keys of ``set_faults``.
    """

    def __init__(self, db_path: str, host: str = "127.0.0.1", port: int = 0,
                 client_id: str = "joblog", client_secret: str = "dev-secret",
                 token_ttl: float = 300, faults: dict[str, Any] | None = None) -> None:
        if token_ttl <= 0:
            raise ValueError("token_ttl must be positive")
        self.db_path, self.host, self.port = db_path, host, port
        self.client_id, self.client_secret, self.token_ttl = client_id, client_secret, token_ttl
        self._faults: dict[str, Any] = dict(FAULT_DEFAULTS)
        self._faults_lock = threading.Lock()
        self._rng = random.Random()
        self._tokens: dict[str, float] = {}  # token → monotonic expiry
        self._tokens_lock = threading.Lock()
        self._counters_lock = threading.Lock()
        self._responses: Counter[str] = Counter()
        self._faults_applied: Counter[str] = Counter()
        self._tokens_issued = 0
        self._stopping = threading.Event()
        self._store: _Store | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.set_faults(**(faults or {}))

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> ReferenceRecordService:
        if self._server is not None:
            raise RuntimeError("already started")
        self._stopping.clear()
        self._store = _Store(self.db_path)
        handler = type("ReferenceRecordHandler", (_Handler,), {"service": self})
        try:
            self._server = _Server((self.host, self.port), handler)
        except OSError:
            self._store.close()
            self._store = None
            raise
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.5},
                                        name="reference-record-service", daemon=True)
        self._thread.start()
        log.info("reference record service on %s", self.url)
        return self

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        server, thread, store = self._server, self._thread, self._store
        if server is None:
            return
        self._stopping.set()  # wakes requests sleeping in the latency fault
        stopper = threading.Thread(target=server.shutdown, name="reference-record-stop")
        stopper.start()
        while stopper.is_alive():  # a connection wakes serve_forever's select() at once
            try:
                socket.create_connection(server.server_address[:2], timeout=0.2).close()
            except OSError:
                pass
            stopper.join(timeout=0.01)
        server.server_close()
        server.close_open_connections()  # idle keep-alive connections end now
        if thread is not None:
            thread.join(timeout=5)
        if store is not None:
            store.close()  # a request still running gets _Stopped and no answer
        self._server = self._thread = self._store = None
        log.info("reference record service stopped")

    def __enter__(self) -> ReferenceRecordService:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults ----------------------------------------------------------------------------
    @property
    def faults(self) -> dict[str, Any]:
        with self._faults_lock:
            return dict(self._faults)

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Change some faults (others stay); raises ``ValueError`` on unknown keys or values.

        ``expire_tokens_now=True`` invalidates every token issued so far (one-shot);
        ``seed`` restarts the random generator that decides which requests fail.
        """
        clean = _check_faults(faults)
        if clean.pop("expire_tokens_now", False):
            with self._tokens_lock:
                self._tokens.clear()
            self._count_fault("tokensExpired")
            log.info("fault: all tokens expired")
        with self._faults_lock:
            self._faults.update(clean)
            if "seed" in clean:
                self._rng.seed(clean["seed"])
            current = dict(self._faults)
        if clean:
            log.info("faults now %s", current)
        return current

    def _apply_faults(self, authorization: str | None) -> bool:
        """Latency, token check, 429, 500/503 — in that order. True: drop after storing."""
        with self._faults_lock:
            f = dict(self._faults)
            rolls = [self._rng.random() for _ in range(4)]  # fixed draws: seed → same story
        if f["latency_ms"]:
            self._count_fault("latency")
            if self._stopping.wait(f["latency_ms"] / 1000):
                raise _Stopped
        self._check_token(authorization)
        if rolls[0] < f["rate_limit_rate"]:
            self._count_fault("rateLimited")
            raise _Reply(429, {"errorCode": "RATE_LIMITED", "message": "too many requests"},
                         {"Retry-After": str(f["retry_after"])})
        if rolls[1] < f["error_rate"]:
            if rolls[2] < 0.5:
                self._count_fault("error500")
                raise _Reply(500, {"errorCode": "INTERNAL_ERROR"})
            self._count_fault("error503")
            raise _Reply(503, {"errorCode": "UNAVAILABLE"})
        return rolls[3] < f["drop_after_store_rate"]

    # -- OAuth2 ----------------------------------------------------------------------------
    def _token_endpoint(self, authorization: str | None, body: bytes
                        ) -> tuple[int, dict[str, Any], dict[str, str]]:
        no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        try:
            form = {k: vs[0] for k, vs in parse_qs(body.decode("utf-8"),
                                                   keep_blank_values=True).items()}
        except UnicodeDecodeError:
            return 400, {"error": "invalid_request"}, no_store
        basic = None
        if authorization and authorization[:6].lower() == "basic ":
            try:
                raw = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
                user, _, password = raw.partition(":")
                basic = (unquote(user), unquote(password))
            except (binascii.Error, UnicodeDecodeError):
                return 401, {"error": "invalid_client"}, {**no_store, "WWW-Authenticate":
                                                          'Basic realm="joblog"'}
        if basic and ("client_id" in form and "client_secret" in form):
            return 400, {"error": "invalid_request",
                         "error_description": "use one client authentication method"}, no_store
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        grant = form.get("grant_type")
        if not grant:
            return 400, {"error": "invalid_request",
                         "error_description": "grant_type required"}, no_store
        ok = hmac.compare_digest(client_id.encode(), self.client_id.encode()) & \
            hmac.compare_digest(secret.encode(), self.client_secret.encode())
        if not ok:
            headers = {**no_store, "WWW-Authenticate": 'Basic realm="joblog"'} if basic else no_store
            return 401, {"error": "invalid_client"}, headers
        if grant != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}, no_store
        scopes = form.get("scope", SCOPE).split()
        if scopes and scopes != [SCOPE]:
            return 400, {"error": "invalid_scope"}, no_store
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._tokens_lock:
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            self._tokens[token] = now + self.token_ttl
        with self._counters_lock:
            self._tokens_issued += 1
        return 200, {"access_token": token, "token_type": "Bearer",
                     "expires_in": max(1, round(self.token_ttl)), "scope": SCOPE}, no_store

    def _check_token(self, authorization: str | None) -> None:
        challenge = {"WWW-Authenticate": 'Bearer realm="joblog", error="invalid_token"'}
        if not authorization or authorization[:7].lower() != "bearer ":
            raise _Reply(401, {"errorCode": "UNAUTHORIZED", "message": "bearer token required"},
                         {"WWW-Authenticate": 'Bearer realm="joblog"'})
        token = authorization[7:].strip()
        with self._tokens_lock:
            expires = self._tokens.get(token)
        if expires is None or expires <= time.monotonic():
            raise _Reply(401, {"errorCode": "UNAUTHORIZED",
                               "message": "unknown or expired token"}, challenge)

    # -- the contract ----------------------------------------------------------------------
    def _store_or_stop(self) -> _Store:
        store = self._store
        if store is None:
            raise _Stopped
        return store

    def _create(self, request_id: str, cpr: str, raw: bytes
                ) -> tuple[int, dict[str, Any], dict[str, str]]:
        store = self._store_or_stop()
        with store.write() as conn:
            seen = self._seen(conn, request_id)
            if seen:
                return seen
            entry = v.entry(raw)  # a refused entry does not use up its request id
            record_id, now = str(uuid.uuid4()), _now()
            conn.execute(
                "INSERT INTO records (record_id, request_id, cpr_hash, cpr_masked, body,"
                " registered_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                (record_id, request_id, store.cpr_hash(cpr), f"{cpr[:6]}-XXXX",
                 _canonical(entry), now, now))
            self._remember(conn, request_id, record_id, "POST", now)
        return 201, {"recordId": record_id, "requestId": request_id, "registeredAt": now,
                     "version": 1}, {"Location": f"{API}/entries/{record_id}"}

    def _update(self, request_id: str, cpr: str, record_id: str, raw: bytes
                ) -> tuple[int, dict[str, Any], dict[str, str]]:
        store = self._store_or_stop()
        with store.write() as conn:
            seen = self._seen(conn, request_id)
            if seen:
                return seen
            row = self._own_record(conn, store, cpr, record_id)
            if row["cancelled"]:
                return 410, {"errorCode": "CANCELLED", "recordId": record_id}, {}
            entry = v.entry(raw)
            now, version = _now(), row["version"] + 1
            conn.execute("UPDATE records SET body = ?, updated_at = ?, version = ?"
                         " WHERE record_id = ?", (_canonical(entry), now, version, record_id))
            self._remember(conn, request_id, record_id, "PUT", now)
        return 200, {"recordId": record_id, "version": version}, {}

    def _cancel(self, request_id: str, cpr: str, record_id: str
                ) -> tuple[int, dict[str, Any] | None, dict[str, str]]:
        store = self._store_or_stop()
        with store.write() as conn:
            seen = self._seen(conn, request_id)
            if seen:
                return seen
            row = self._own_record(conn, store, cpr, record_id)
            if row["cancelled"]:
                return 410, {"errorCode": "CANCELLED", "recordId": record_id}, {}
            now = _now()
            conn.execute("UPDATE records SET cancelled = 1, updated_at = ?, version = ?"
                         " WHERE record_id = ?", (now, row["version"] + 1, record_id))
            self._remember(conn, request_id, record_id, "DELETE", now)
        return 204, None, {}

    def _get(self, cpr: str, record_id: str | None = None, by_request: str | None = None
             ) -> tuple[int, dict[str, Any], dict[str, str]]:
        store = self._store_or_stop()
        with store.read() as conn:
            if by_request is not None:
                seen = conn.execute("SELECT record_id FROM request_ids WHERE request_id = ?",
                                    (by_request,)).fetchone()
                if seen is None:
                    return 404, {"errorCode": "NOT_FOUND"}, {}
                record_id = seen["record_id"]
            row = self._own_record(conn, store, cpr, str(record_id))
        return 200, _record(row), {}

    @staticmethod
    def _seen(conn: sqlite3.Connection, request_id: str
              ) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        row = conn.execute("SELECT record_id FROM request_ids WHERE request_id = ?",
                           (request_id,)).fetchone()
        if row is None:
            return None
        return 412, {"errorCode": "DUPLICATE_REQUEST_ID", "recordId": row["record_id"],
                     "message": "this x-requestId was already used"}, {}

    @staticmethod
    def _own_record(conn: sqlite3.Connection, store: _Store, cpr: str, record_id: str
                    ) -> sqlite3.Row:
        """The record, if it belongs to this citizen; 404 otherwise (no hint either way)."""
        row = conn.execute("SELECT * FROM records WHERE record_id = ?", (record_id,)).fetchone()
        if row is None or not hmac.compare_digest(row["cpr_hash"], store.cpr_hash(cpr)):
            raise _Reply(404, {"errorCode": "NOT_FOUND"})
        return row

    @staticmethod
    def _remember(conn: sqlite3.Connection, request_id: str, record_id: str, method: str,
                  now: str) -> None:
        conn.execute("INSERT INTO request_ids (request_id, record_id, method, seen_at)"
                     " VALUES (?, ?, ?, ?)", (request_id, record_id, method, now))

    # -- inspection ------------------------------------------------------------------------
    def cpr_hash(self, cpr: str) -> str:
        """The ``cprHash`` this database gives a CPR number (10 digits)."""
        return self._store_or_stop().cpr_hash(v.cpr(cpr))

    def records(self, cpr: str | None = None, cpr_hash: str | None = None) -> list[dict[str, Any]]:
        """All records in the order they were registered (masked CPR plus ``cprHash``),
        optionally only one citizen's."""
        store = self._store_or_stop()
        if cpr is not None:
            cpr_hash = store.cpr_hash(v.cpr(cpr))
        with store.read() as conn:
            if cpr_hash is None:
                rows = conn.execute("SELECT * FROM records ORDER BY seq").fetchall()
            else:
                rows = conn.execute("SELECT * FROM records WHERE cpr_hash = ? ORDER BY seq",
                                    (cpr_hash,)).fetchall()
        return [_record(row, with_hash=True) for row in rows]

    def stats(self) -> dict[str, Any]:
        """Counts for tests and benchmarks.

        ``duplicates``: records beyond the first with the same citizen and the same content
        (all entry fields) — a second delivery of one entry shows up here.
        """
        store = self._store_or_stop()
        with store.read() as conn:
            total, cancelled, distinct = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(cancelled), 0),"
                " COUNT(DISTINCT cpr_hash || ':' || body) FROM records").fetchone()
            request_ids = conn.execute("SELECT COUNT(*) FROM request_ids").fetchone()[0]
            by_kind = conn.execute("SELECT json_extract(body, '$.kind') AS k, COUNT(*)"
                                   " FROM records GROUP BY k ORDER BY k").fetchall()
            by_status = conn.execute("SELECT COALESCE(json_extract(body, '$.status'), 'NONE')"
                                     " AS s, COUNT(*) FROM records GROUP BY s ORDER BY s"
                                     ).fetchall()
        with self._counters_lock:
            responses = dict(sorted(self._responses.items()))
            applied = dict(sorted(self._faults_applied.items()))
            tokens_issued = self._tokens_issued
        return {
            "records": total, "active": total - cancelled, "cancelled": cancelled,
            "requestIds": request_ids, "duplicates": total - distinct,
            "byKind": {row[0]: row[1] for row in by_kind},
            "byStatus": {row[0]: row[1] for row in by_status},
            "responses": responses, "faultsApplied": applied, "tokensIssued": tokens_issued,
        }

    def reset(self) -> None:
        """Wipe records, request ids and counters (tokens and faults stay)."""
        with self._store_or_stop().write() as conn:
            conn.execute("DELETE FROM records")
            conn.execute("DELETE FROM request_ids")
        with self._counters_lock:
            self._responses.clear()
            self._faults_applied.clear()
            self._tokens_issued = 0

    def _count_response(self, status: int) -> None:
        with self._counters_lock:
            self._responses[str(status)] += 1

    def _count_fault(self, name: str) -> None:
        with self._counters_lock:
            self._faults_applied[name] += 1


def serve(db_path: str, host: str = "127.0.0.1", port: int = 8089, client_id: str = "joblog",
          client_secret: str = "dev-secret", faults: dict[str, Any] | None = None,
          token_ttl: float = 300) -> None:
    """Run the service in the foreground until Ctrl-C (``flask record-service``)."""
    if not logging.getLogger().handlers and not log.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)
    service = ReferenceRecordService(db_path, host, port, client_id, client_secret,
                                     token_ttl, faults)
    service.start()
    previous = None
    if threading.current_thread() is threading.main_thread():
        # `kill` (SIGTERM, as scripts/dev_run.sh stops it) ends it as cleanly as Ctrl-C.
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
