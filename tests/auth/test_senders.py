"""The SMTP code sender against a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from joblog_app.auth import services
from joblog_app.auth.senders import SmtpCodeSender, sender_for


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
        sender = sender_for("olena@example.org")
        assert isinstance(sender, SmtpCodeSender)
        services.request_code("Olena@Example.org", "127.0.0.1", "secret", sender)
    [message] = inbox.messages
    assert message["To"] == "olena@example.org" and message["From"] == "joblog@kommune.example"
    body = message.get_payload(decode=True).decode()
    code = next(word for word in body.replace(".", " ").split() if word.isdigit())
    assert len(code) == 6
    with app.test_request_context():
        assert services.verify_code("olena@example.org", code, "127.0.0.1", "secret").id == user.id


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


def test_smtp_failure_is_a_clear_message_and_counts_nothing(app, client, make_citizen):
    app.config.update(CODE_SENDER="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=_free_port(),
                      SMTP_FROM="joblog@kommune.example")  # nothing listens there
    make_citizen(language="da", email="mette@example.org")
    r = client.post("/login", {"identifier": "mette@example.org"}, target="login-form")
    assert r.status_code == 422
    assert "Vi kunne ikke sende koden lige nu" in r.get_data(as_text=True)
    assert _login_codes() == 0
