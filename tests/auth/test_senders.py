"""The SMTP code sender against a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from joblog_app.auth import jobs, services
from joblog_app.auth.senders import SmtpCodeSender, sender_for
from joblog_app.extensions import db
from joblog_app.models_base import utcnow


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list = []

    def handle_message(self, message) -> None:  # type: ignore[no-untyped-def]
        self.messages.append(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_code_arrives_by_email_in_the_users_language(app, make_citizen, smtp):
    controller, inbox = smtp
    app.config.update(CODE_SENDER="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port,
                      SMTP_FROM="joblog@kommune.example")
    with app.test_request_context():
        user = make_citizen(language="uk", email="olena@example.org")
        assert isinstance(sender_for("olena@example.org"), SmtpCodeSender)
        services.request_code("Olena@Example.org", "127.0.0.1", "browser-key", "secret")
        db.session.commit()
        assert inbox.messages == []  # the request sends nothing: the worker does
        assert jobs.send_pending_codes("secret", sender_for) == 1
    [message] = inbox.messages
    assert message["To"] == "olena@example.org" and message["From"] == "joblog@kommune.example"
    body = message.get_payload(decode=True).decode()
    code = next(word for word in body.replace(".", " ").split() if word.isdigit())
    assert len(code) == 6
    with app.test_request_context():
        assert services.verify_code("olena@example.org", code, "browser-key", "127.0.0.1",
                                    "secret").id == user.id


def _login_codes() -> int:
    import sqlalchemy as sa

    from joblog_app.auth.models import LoginCode
    from joblog_app.extensions import db

    return db.session.scalar(sa.select(sa.func.count(LoginCode.id))) or 0


def test_phone_number_without_an_sms_gateway_is_refused_not_logged(app, client, make_citizen,
                                                                   outbox):
    app.config.update(CODE_SENDER="smtp")
    user = make_citizen(language="en")
    r = client.post("/login", {"identifier": user.phone[3:]}, target="login-form")
    assert r.status_code == 422
    assert "Log ind med din e-mailadresse" in r.get_data(as_text=True)  # the login page: Danish
    assert _login_codes() == 0 and not any(uid == user.id for uid, _code in outbox.codes)


def _outbox_rows() -> int:
    import sqlalchemy as sa

    from joblog_app.auth.models import LoginCodeOutbox

    return db.session.scalar(sa.select(sa.func.count(LoginCodeOutbox.id))) or 0


def test_smtp_failure_is_retried_a_few_times_then_given_up(app, client, make_citizen, caplog):
    app.config.update(CODE_SENDER="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=_free_port(),
                      SMTP_FROM="joblog@kommune.example")  # nothing listens there
    make_citizen(language="da", email="mette@example.org")
    r = client.post("/login", {"identifier": "mette@example.org"}, target="login-form")
    assert r.status_code == 200 and r.headers["HX-Location"]
    later = utcnow()
    with app.test_request_context():
        for attempt in range(services.OUTBOX_MAX_ATTEMPTS):
            assert _outbox_rows() == 1
            assert jobs.send_pending_codes(app.secret_key, sender_for, now=later) == 0
            later += services.OUTBOX_RETRY * (attempt + 1)
        assert _outbox_rows() == 0  # given up, and logged
    assert "given up" in caplog.text


def _silent_smtp_server() -> tuple[socket.socket, int]:
    """Accepts connections and never answers: a mail server that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    return server, server.getsockname()[1]


def test_known_and_unknown_addresses_get_the_same_answer_at_once_with_smtp(app, client,
                                                                           make_citizen):
    """Finding: with the SMTP sender, a known address waited for the mail server."""
    server, port = _silent_smtp_server()
    try:
        app.config.update(CODE_SENDER="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port,
                          SMTP_FROM="joblog@kommune.example")
        make_citizen(language="da", email="known@example.org")
        answers = []
        for address in ("known@example.org", "unknown@example.org"):
            started = time.perf_counter()
            r = client.post("/login", {"identifier": address}, target="login-form")
            answers.append((r.status_code, r.headers.get("HX-Location"), r.get_data(as_text=True),
                            time.perf_counter() - started))
        assert answers[0][:3] == answers[1][:3]
        assert all(seconds < 1.0 for *_, seconds in answers)  # nobody waited for the server
        with app.app_context():
            assert _outbox_rows() == 2
    finally:
        server.close()
