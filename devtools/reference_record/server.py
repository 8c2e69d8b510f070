"""The record contract over HTTP: a threaded stdlib server carrying ``RecordApp``'s answers.

Why not werkzeug's or another WSGI server: werkzeug's development server closes every
connection (no keep-alive, which the relay and bench/record_sync.py lean on), and a WSGI
app cannot shut its client's connection after storing a change (the dropped-connection
fault). So: ``ThreadingHTTPServer`` with a listen backlog of 256, HTTP/1.1 keep-alive,
``TCP_NODELAY``, headers and body in one write; every method reaches the app (TRACE and
OPTIONS get the app's JSON 405, not http.server's HTML 501), and http.server's own errors
(a malformed request line, too long headers) are JSON too.
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any

from . import validation as v
from .answers import Answer, Stopped
from .app import Call, RecordApp, log, mask_cpr_in_text

MAX_BODY = 64 * 1024
KEEP_ALIVE_IDLE = 30  # seconds an idle keep-alive connection is kept open


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # concurrent clients would otherwise stall for a second each
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 app: RecordApp) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.app = app
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
    server_version = "JoblogReferenceRecord/2.0"
    sys_version = ""
    timeout = KEEP_ALIVE_IDLE
    server: _Server

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

    def __getattr__(self, name: str) -> Callable[[], None]:
        if name.startswith("do_"):  # every method, TRACE and OPTIONS too, reaches the app
            return self._dispatch
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.info("%s %s", self.client_address[0], mask_cpr_in_text(format % args))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, headers too long) as JSON."""
        self.log_error("code %d, message %s", code, message)
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # not parsed yet: http.server would send no headers
            self.request_version = "HTTP/1.0"
        self._send(Answer(code, {"errorCode": "VALIDATION", "field": "request",
                                 "message": message or "bad request"}))

    def _send(self, answer: Answer) -> None:
        body = answer.body
        payload = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if answer.status != 204 and not 100 <= answer.status < 200 and answer.status != 304:
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
        self.server.app.count_response(answer.status)

    def _read_body(self) -> tuple[bytes, v.ContractError | None]:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return b"", v.ContractError("body", "send a Content-Length, not chunked")
        length = self.headers.get("Content-Length")
        if length is None:
            return b"", None
        if not length.isdigit():
            self.close_connection = True
            return b"", v.ContractError("Content-Length", "not a number")
        size = int(length)
        if size > MAX_BODY:
            self.close_connection = True
            return b"", v.ContractError("body", f"too large: at most {MAX_BODY} bytes")
        return (self.rfile.read(size) if size else b""), None

    def _dispatch(self) -> None:
        path, _, query = self.path.partition("?")
        try:
            body, problem = self._read_body()
            answer = self.server.app.handle(Call(self.command, path, query, self.headers,
                                                 body, problem))
        except (Stopped, ConnectionError, TimeoutError):
            self.close_connection = True
            return
        except Exception:
            log.exception("reference record service: unexpected error on %s %s", self.command,
                          mask_cpr_in_text(path))
            self.close_connection = True
            answer = Answer(500, {"errorCode": "INTERNAL_ERROR"})
        try:
            if answer.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            else:
                self._send(answer)
        except OSError:
            self.close_connection = True


class ReferenceRecordService:
    """The record contract on ``http://host:port`` in a background thread.

    ``db_path`` is an SQLite file; records and seen request ids survive a restart on the
    same file. Tokens live in memory only: after a restart clients get 401 and fetch a new
    one. ``faults`` takes the keys of ``set_faults``.
    """

    def __init__(self, db_path: str, host: str = "127.0.0.1", port: int = 0,
                 client_id: str = "joblog", client_secret: str = "dev-secret",
                 token_ttl: float = 300, faults: dict[str, Any] | None = None) -> None:
        self.db_path, self.host, self.port = db_path, host, port
        self.app = RecordApp(client_id, client_secret, token_ttl, faults)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> ReferenceRecordService:
        if self._server is not None:
            raise RuntimeError("already started")
        self.app.open(self.db_path)
        try:
            self._server = _Server((self.host, self.port), _Handler, self.app)
        except OSError:
            self.app.close()
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
        server, thread = self._server, self._thread
        if server is None:
            return
        self.app.stopping.set()  # wakes requests sleeping in the latency fault
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
        self.app.close()
        self._server = self._thread = None
        log.info("reference record service stopped")

    def __enter__(self) -> ReferenceRecordService:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults and inspection -----------------------------------------------------------
    @property
    def faults(self) -> dict[str, Any]:
        return self.app.faults.current

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        """Change some faults (others stay); ``ValueError`` on unknown keys or values."""
        return self.app.set_faults(**faults)

    def cpr_hash(self, cpr: str) -> str:
        """The ``cprHash`` this database gives a CPR number (10 digits)."""
        return self.app.cpr_hash(cpr)

    def records(self, cpr: str | None = None, cpr_hash: str | None = None) -> list[dict[str, Any]]:
        """All records in the order they were registered (masked CPR plus ``cprHash``),
        optionally only one citizen's."""
        return self.app.records(cpr, cpr_hash)

    def stats(self) -> dict[str, Any]:
        """Counts for tests and benchmarks (docs/reference-record-service.md)."""
        return self.app.stats()

    def reset(self) -> None:
        """Wipe records, request ids and counters (tokens and faults stay)."""
        self.app.reset()


def serve(db_path: str, host: str = "127.0.0.1", port: int = 8089, client_id: str = "joblog",
          client_secret: str = "dev-secret", faults: dict[str, Any] | None = None,
          token_ttl: float = 300) -> None:
    """Run the service in the foreground until Ctrl-C or SIGTERM."""
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
