"""Login codes by SMS through a fake municipal SMS gateway (tests/support/fake_sms.py), faults
included, and how soon a code leaves: the worker is woken (PostgreSQL NOTIFY), it does not
poll slowly."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from joblog_app.auth import jobs, services
from joblog_app.auth.models import LoginCodeOutbox
from joblog_app.auth.senders import SmsCodeSender, sender_for
from joblog_app.extensions import db
from joblog_app.models_base import utcnow
from tests.support.fake_sms import FakeSmsGateway, Scripted

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def gateway(app):  # type: ignore[no-untyped-def]
    fake = FakeSmsGateway().start()
    app.config.update(CODE_SENDER="smtp,sms", SMS_URL=fake.url, SMS_TOKEN=fake.token,
                      SMS_SENDER="Kommune", SMS_TIMEOUT=0.5)
    yield fake
    fake.stop()


def _outbox_rows() -> list[LoginCodeOutbox]:
    return list(db.session.scalars(sa.select(LoginCodeOutbox)))


def _send(app, now=None) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return jobs.send_pending_codes(app.secret_key, sender_for, now=now)


@pytest.mark.parametrize("language", ["da", "uk", "ar", "en"])
def test_code_arrives_by_sms_in_the_citizens_language_and_logs_in(app, client, make_citizen,
                                                                  gateway, language):
    user = make_citizen(language=language)
    gateway.expect_language[user.phone] = language
    r = client.post("/login", {"identifier": user.phone[3:]}, target="login-form")
    assert r.status_code == 200 and "/login/code" in r.headers["HX-Location"]
    assert gateway.received == []  # the request sends nothing: the worker does
    assert _send(app) == 1
    [message] = gateway.received
    assert message.recipient == user.phone and message.problems == []
    r = client.post("/login/code", {"code": message.code}, target="code-form")
    assert r.status_code == 200 and r.headers.get("HX-Redirect") == "/"


def test_phone_numbers_are_refused_without_sms_and_e_mail_without_smtp(app, client, make_citizen,
                                                                       gateway):
    user = make_citizen(language="da", email="mette@example.org")
    app.config.update(CODE_SENDER="sms")
    r = client.post("/login", {"identifier": "mette@example.org"}, target="login-form")
    assert r.status_code == 422 and "telefonnummer" in r.get_data(as_text=True)
    app.config.update(CODE_SENDER="smtp")
    r = client.post("/login", {"identifier": user.phone}, target="login-form")
    assert r.status_code == 422 and "e-mailadresse" in r.get_data(as_text=True)


def test_a_wrong_token_is_retried_then_given_up_and_logged_without_the_token(
        app, client, make_citizen, gateway, caplog):
    app.config.update(SMS_TOKEN="wrong-token")
    user = make_citizen(language="da")
    gateway.expect_language[user.phone] = "da"
    client.post("/login", {"identifier": user.phone}, target="login-form")
    later = utcnow()
    for attempt in range(services.OUTBOX_MAX_ATTEMPTS):
        assert _send(app, now=later) == 0
        later += services.OUTBOX_RETRY * (attempt + 1)
    assert [status for status, _ in gateway.refused] == [401] * services.OUTBOX_MAX_ATTEMPTS
    with app.app_context():
        assert _outbox_rows() == []
    assert "JOBLOG_SMS_TOKEN" in caplog.text and "given up" in caplog.text
    assert "wrong-token" not in caplog.text and user.phone not in caplog.text


def test_rate_limit_429_waits_as_long_as_retry_after_says(app, client, make_citizen, gateway):
    user = make_citizen(language="en")
    gateway.expect_language[user.phone] = "en"
    gateway.script = [Scripted(429, {"Retry-After": "90"})]
    client.post("/login", {"identifier": user.phone}, target="login-form")
    now = utcnow()
    assert _send(app, now=now) == 0
    with app.app_context():
        [row] = _outbox_rows()
        # 90 s from the gateway, not the outbox's own 20 s.
        assert row.next_attempt_at >= now + timedelta(seconds=89)
    assert _send(app, now=now + timedelta(seconds=30)) == 0 and gateway.received == []
    assert _send(app, now=now + timedelta(seconds=91)) == 1
    assert gateway.received[0].problems == []


def test_server_errors_and_a_slow_gateway_are_retried_and_the_code_still_arrives(
        app, client, make_citizen, gateway):
    user = make_citizen(language="ar")
    gateway.expect_language[user.phone] = "ar"
    # A 500, then an answer slower than JOBLOG_SMS_TIMEOUT (0.5 s), then it works.
    gateway.script = [Scripted(500), Scripted(202, delay=1.5)]
    client.post("/login", {"identifier": user.phone}, target="login-form")
    now = utcnow()
    assert _send(app, now=now) == 0
    assert _send(app, now=now + services.OUTBOX_RETRY) == 0
    assert _send(app, now=now + services.OUTBOX_RETRY * 3) == 1
    [message] = gateway.wait_for(1)
    assert message.problems == []
    r = client.post("/login/code", {"code": message.code}, target="code-form")
    assert r.status_code == 200


def test_a_number_the_gateway_refuses_is_given_up_at_once(app, client, make_citizen, gateway,
                                                          caplog):
    user = make_citizen(language="da")
    gateway.script = [Scripted(400)]
    client.post("/login", {"identifier": user.phone}, target="login-form")
    assert _send(app) == 0
    with app.app_context():
        assert _outbox_rows() == []
    assert "refused by the gateway" in caplog.text


def test_known_and_unknown_numbers_get_the_same_answer_and_only_the_citizen_a_text(
        app, client, make_citizen, gateway):
    gateway.script = [Scripted(202, delay=2.0)]  # a slow gateway must not show in the answer
    user = make_citizen(language="da")
    gateway.expect_language[user.phone] = "da"
    answers = []
    for number in (user.phone, "+4529998877"):
        started = time.perf_counter()
        r = client.post("/login", {"identifier": number}, target="login-form")
        answers.append((r.status_code, r.headers.get("HX-Location"), r.get_data(as_text=True),
                        time.perf_counter() - started))
    assert answers[0][:3] == answers[1][:3]
    assert all(seconds < 1.0 for *_, seconds in answers)
    gateway.script = []
    assert _send(app) == 1
    assert [m.recipient for m in gateway.received] == [user.phone]


def test_sms_sender_reads_the_delivery_answer(app, gateway, caplog):
    caplog.set_level(logging.INFO, "joblog.login")
    gateway.expect_language["+4520304050"] = "en"
    with app.test_request_context():
        SmsCodeSender(gateway.url, gateway.token, "Kommune").send("+4520304050", "123456", "en", 7)
    assert "accepted: message" in caplog.text and "+4520304050" not in caplog.text
    [message_id] = gateway.statuses
    assert gateway.statuses[message_id] == "delivered"


def test_a_code_leaves_within_a_second_of_the_request_with_a_running_worker(
        app, client, make_citizen, gateway, database_url, capsys):
    """``flask worker`` in its own process, idle: the request wakes it (PostgreSQL NOTIFY)
    or it looks again within its 1 s interval (SQLite). Measures request → gateway."""
    citizens = [make_citizen(language="da") for _ in range(6)]
    for user in citizens:
        gateway.expect_language[user.phone] = "da"
    db.session.commit()
    env = {**os.environ, "JOBLOG_ENV_NAME": "testing", "JOBLOG_DATABASE_URL": database_url,
           "JOBLOG_SECRET_KEY": app.secret_key, "JOBLOG_CODE_SENDER": "smtp,sms",
           "JOBLOG_SMS_URL": gateway.url, "JOBLOG_SMS_TOKEN": gateway.token,
           "JOBLOG_CPR_KEY": app.config["CPR_KEY"], "JOBLOG_TOTP_KEY": app.config["TOTP_KEY"],
           "JOBLOG_CPR_INDEX_KEY": app.config["CPR_INDEX_KEY"],
           "FLASK_APP": "wsgi"}
    worker = subprocess.Popen([sys.executable, "-m", "flask", "worker", "--job", "login-codes"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        # The first code also waits for the worker to start.
        client.post("/login", {"identifier": citizens[0].phone}, target="login-form")
        gateway.wait_for(1, timeout=30)
        latencies = []
        for n, user in enumerate(citizens[1:], start=2):
            time.sleep(0.3)  # the worker is idle again, waiting
            started = time.perf_counter()
            client.post("/login", {"identifier": user.phone}, target="login-form")
            message = gateway.wait_for(n, timeout=10)[-1]
            latencies.append(message.at - started)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=15)
    assert all(m.problems == [] for m in gateway.received)
    with capsys.disabled():
        print(f"\n  request → SMS gateway on {database_url.split(':')[0]}: "
              + ", ".join(f"{s * 1000:.0f} ms" for s in latencies))
    assert max(latencies) < 2.0
