"""A fake municipal SMS gateway on 127.0.0.1 that behaves like the ones municipalities buy.

``POST /v1/messages`` with ``Authorization: Bearer <token>`` and a JSON body
``{"recipient": "+45...", "sender": "...", "text": "...", "reference": "..."}``. It answers
202 ``{"messageId": ..., "status": "accepted"}``; 401 for a missing or wrong token; 400 for a
body that is not such a message (recipient not E.164, text empty or longer than three
messages, sender longer than 11 characters); or what a test scripts for the next requests
(429 with Retry-After, 500, 503, a slow answer). ``GET /v1/messages/<id>`` gives the delivery
status ("delivered").

Besides what a gateway checks, it checks what the tests care about: the text is in the
language expected for the recipient (``expect_language``) and holds the app's name in that
language and a 6-digit code, and nothing else (no other digits, no link, no e-mail, no
phone number): ``problems`` lists what was wrong. Not part of the app.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The app's name per language (docs/glossary.md, checked by tests/core/test_glossary.py).
APP_NAMES = {"da": "Min jobsøgning", "uk": "Мій пошук роботи", "ar": "بحثي عن عمل",
             "en": "My job search"}
# A word of the rest of the message per language, to tell the language apart from the name.
LANGUAGE_WORDS = {"da": "kode", "uk": "код", "ar": "رمز", "en": "code"}
E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")


@dataclass
class Received:
    recipient: str
    text: str
    code: str | None
    at: float  # time.perf_counter() when it arrived
    problems: list[str]


@dataclass
class Scripted:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow or hanging gateway)


@dataclass
class FakeSmsGateway:
    token: str = "test-sms-token"
    expect_language: dict[str, str] = field(default_factory=dict)  # recipient -> language
    script: list[Scripted] = field(default_factory=list)  # answers for the next requests
    received: list[Received] = field(default_factory=list)  # accepted messages
    refused: list[tuple[int, str]] = field(default_factory=list)  # (status, why)
    statuses: dict[str, str] = field(default_factory=dict)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/messages"

    def start(self) -> FakeSmsGateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (its timeout), as real clients do

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {gateway.token}":
                    gateway.refused.append((401, "token"))
                    self._answer(401, {"error": "unauthorized"})
                    return False
                return True

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if not self._authorised():
                    return
                message_id = self.path.rsplit("/", 1)[-1]
                if message_id not in gateway.statuses:
                    self._answer(404, {"error": "not found"})
                    return
                self._answer(200, {"messageId": message_id, "status": gateway.statuses[message_id]})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with gateway.arrived:
                    scripted = gateway.script.pop(0) if gateway.script else None
                if scripted is not None:
                    time.sleep(scripted.delay)
                    if scripted.status >= 300:
                        gateway.refused.append((scripted.status, "scripted"))
                        self._answer(scripted.status, {"error": "scripted"}, scripted.headers)
                        return
                if self.path != "/v1/messages":
                    self._answer(404, {"error": "not found"})
                    return
                if not self._authorised():
                    return
                try:
                    body = json.loads(raw)
                    recipient, text, sender = body["recipient"], body["text"], body["sender"]
                    assert isinstance(text, str) and 0 < len(text) <= 3 * 153
                    assert isinstance(sender, str) and 0 < len(sender) <= 11
                    assert isinstance(recipient, str) and E164.match(recipient)
                except (ValueError, KeyError, TypeError, AssertionError):
                    gateway.refused.append((400, "body"))
                    self._answer(400, {"error": "invalid message"})
                    return
                received = Received(recipient, text, None, time.perf_counter(),
                                    gateway.check(recipient, text))
                codes = re.findall(r"\b[0-9]{6}\b", text)
                received.code = codes[0] if codes else None
                message_id = uuid.uuid4().hex
                gateway.statuses[message_id] = "delivered"
                with gateway.arrived:
                    gateway.received.append(received)
                    gateway.arrived.notify_all()
                self._answer(202, {"messageId": message_id, "status": "accepted"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def check(self, recipient: str, text: str) -> list[str]:
        """What is wrong with the text for this recipient (empty: nothing)."""
        problems = []
        language = self.expect_language.get(recipient)
        if language is None:
            return ["no language expected for this recipient"]
        name = APP_NAMES[language]
        if name not in text:
            problems.append(f"the app's name in {language} is missing")
        if LANGUAGE_WORDS[language] not in text.replace(name, ""):
            problems.append(f"not written in {language}")
        codes = re.findall(r"[0-9]+", text)
        if len(codes) != 1 or len(codes[0]) != 6:
            problems.append("not exactly one 6-digit code")
        rest = re.sub(r"[0-9]{6}", "", text.replace(name, ""))
        if re.search(r"@|https?:|www\.|\+", rest):
            problems.append("more than the code and the app's name")
        if len(text) > 70:
            problems.append("longer than one message")
        return problems

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.received)} messages, expected {count}")
                self.arrived.wait(left)
            return list(self.received)
