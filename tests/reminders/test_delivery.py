"""Delivery through a fake push service that checks VAPID and decrypts like a real one:
a real round trip with pywebpush's async path, and every answer a push service gives."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from joblog_app.activities.models import Activity, ActivityKind
from joblog_app.extensions import db
from joblog_app.reminders import jobs, services
from joblog_app.reminders.models import (
    DeliveryState,
    PushDelivery,
    PushService,
    PushSubscription,
    Reminder,
)

DAY = date(2026, 12, 3)
NOON = datetime(2026, 12, 3, 11, 0)  # 12:00 in Copenhagen


def _follow_up(citizen) -> None:  # type: ignore[no-untyped-def]
    db.session.add(Activity(citizen_id=citizen.id, entered_by_id=citizen.id,
                            kind=ActivityKind.COFFEE_MEETING, organisation="Føtex", person="Lis",
                            occurred_on=DAY - timedelta(days=2), follow_up_on=DAY))
    db.session.flush()


def _subscribe(citizen, push_service):  # type: ignore[no-untyped-def]
    data = push_service.subscribe()
    sub = services.save_subscription(citizen.id, data, "test", NOON, allow_http=True)
    db.session.commit()
    return sub, data["endpoint"]


def _planned(citizen, push_service, n_devices: int = 1):  # type: ignore[no-untyped-def]
    _follow_up(citizen)
    endpoints = [_subscribe(citizen, push_service)[1] for _ in range(n_devices)]
    reminder = services.plan_for(citizen, NOON)
    db.session.commit()
    return reminder, endpoints


def _states() -> list[str]:
    db.session.expire_all()
    return [d.state.value for d in db.session.scalars(sa.select(PushDelivery).order_by(PushDelivery.id))]


@pytest.mark.parametrize("lang", ["da", "uk", "ar", "en"])
def test_a_reminder_arrives_encrypted_signed_and_in_the_citizens_language(
        make_citizen, push_service, sender, lang):
    citizen = make_citizen(language=lang)
    reminder, _ = _planned(citizen, push_service)
    stats = jobs.deliver_batch(sender, now=NOON)
    assert stats.sent == 1 and push_service.problems() == []
    got = push_service.accepted()[0]
    assert got.message is not None and got.message["lang"] == lang
    assert got.message == json.loads(reminder.payload)
    assert got.headers["topic"] == "follow-up" and got.headers["urgency"] == "normal"
    # TTL: until 20:00 Danish time, so an offline phone does not show it in the evening.
    assert int(got.headers["ttl"]) == 8 * 3600
    assert _states() == ["sent"]
    assert jobs.deliver_batch(sender, now=NOON + timedelta(minutes=5)).claimed == 0  # not twice


def test_texts_per_language(make_citizen, push_service, sender):
    bodies = {}
    for lang in ("da", "uk", "ar", "en"):
        citizen = make_citizen(language=lang)
        _planned(citizen, push_service)
    jobs.deliver_batch(sender, now=NOON)
    for r in push_service.accepted():
        bodies[r.message["lang"]] = (r.message["title"], r.message["body"])
    assert bodies["en"] == ("My job search", "You planned 1 follow-up for today.")
    assert bodies["da"][1] == "Du har planlagt 1 opfølgning i dag."
    assert bodies["uk"] == ("Мій пошук роботи", "На сьогодні у вас заплановано 1 нагадування.")
    assert bodies["ar"][1] == "خططت لمتابعة واحدة اليوم."


@pytest.mark.parametrize("status", [404, 410])
def test_gone_subscriptions_are_deleted(citizen, push_service, sender, status):
    _reminder, (endpoint,) = _planned(citizen, push_service)
    push_service.answer(endpoint, (status, {}))
    stats = jobs.deliver_batch(sender, now=NOON)
    assert stats.gone == 1 and _states() == ["gone"]
    assert db.session.scalar(sa.select(sa.func.count(PushSubscription.id))) == 0


def test_429_waits_for_retry_after_for_the_whole_push_service(make_citizen, push_service, sender):
    first, second = make_citizen(), make_citizen()
    _r, (endpoint,) = _planned(first, push_service)
    push_service.answer(endpoint, (429, {"Retry-After": "120"}))
    stats = jobs.deliver_batch(sender, now=NOON)
    assert stats.retried == 1 and _states() == ["pending"]
    assert db.session.get(PushService, push_service.origin).not_before >= NOON + timedelta(seconds=119)
    _planned(second, push_service)
    # The other citizen's message goes to the same push service: it waits too.
    assert jobs.deliver_batch(sender, now=NOON + timedelta(seconds=60)).claimed == 0
    later = NOON + timedelta(minutes=10)
    stats = jobs.deliver_batch(sender, now=later)
    assert stats.sent == 2 and _states() == ["sent", "sent"]
    assert len(push_service.accepted()) == 2


def test_5xx_is_retried_with_backoff(citizen, push_service, sender):
    _r, (endpoint,) = _planned(citizen, push_service)
    push_service.answer(endpoint, (503, {}), (500, {}))
    jobs.deliver_batch(sender, now=NOON)
    d = db.session.scalar(sa.select(PushDelivery))
    assert d.state == DeliveryState.PENDING and d.attempts == 1
    assert jobs.deliver_batch(sender, now=NOON).claimed == 0  # not before the backoff
    jobs.deliver_batch(sender, now=NOON + timedelta(minutes=1))
    jobs.deliver_batch(sender, now=NOON + timedelta(minutes=5))
    assert _states() == ["sent"] and len(push_service.accepted()) == 1


def test_a_reminder_past_20_o_clock_is_not_sent(citizen, push_service, sender):
    _planned(citizen, push_service)
    stats = jobs.deliver_batch(sender, now=datetime(2026, 12, 3, 19, 0))  # 20:00 in Copenhagen
    assert stats.expired == 1 and _states() == ["expired"] and push_service.received == []


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_configuration_faults_alert_and_keep_the_subscription(app, citizen, push_service, sender,
                                                              status):
    _r, (endpoint,) = _planned(citizen, push_service)
    push_service.answer(endpoint, (status, {}))
    stats = jobs.deliver_batch(sender, now=NOON)
    assert stats.failed == 1 and _states() == ["failed"]
    assert db.session.scalar(sa.select(sa.func.count(PushSubscription.id))) == 1
    assert db.session.get(PushService, push_service.origin).alert_status == status
    app.config["MONITORING_TOKEN"] = token = "monitor-" + "x" * 24
    health = app.test_client().get("/healthz", headers={"Authorization": f"Bearer {token}"})
    assert health.get_json()["push_config_alerts"] == 1
    result = app.test_cli_runner().invoke(args=["push", "status"])
    assert result.exit_code == 1 and f"ALERT {status}" in result.output
    # A later accepted message clears the alert.
    services.send_test(citizen, NOON)
    db.session.commit()
    jobs.deliver_batch(sender, now=NOON)
    assert db.session.get(PushService, push_service.origin).alert_status is None


def test_a_worker_killed_before_sending_sends_each_message_once_after_the_lease(
        app, make_citizen, push_service, sender):
    for _ in range(5):
        _planned(make_citizen(), push_service)
    token, ids = jobs.claim_deliveries(NOON, 100, timedelta(seconds=120))  # then killed
    assert len(ids) == 5 and _states() == ["sending"] * 5
    assert jobs.deliver_batch(sender, now=NOON + timedelta(seconds=60)).claimed == 0  # leased
    stats = jobs.deliver_batch(sender, now=NOON + timedelta(seconds=121))
    assert stats.sent == 5 and len(push_service.accepted()) == 5
    assert len({r.path for r in push_service.accepted()}) == 5


def test_a_worker_killed_after_sending_is_replaced_not_stacked(
        app, make_citizen, push_service, sender, monkeypatch):
    """Killed between the push service's 201 and our commit: the next worker sends again,
    with the same Topic and the same reminder id, so the push service replaces an
    undelivered copy and the service worker replaces a shown one (tag = Topic)."""
    for _ in range(3):
        _planned(make_citizen(), push_service)

    def killed(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise SystemExit("killed")

    monkeypatch.setattr(jobs, "_record", killed)
    with pytest.raises(SystemExit):
        jobs.deliver_batch(sender, now=NOON)
    db.session.rollback()
    monkeypatch.undo()
    assert _states() == ["sending"] * 3
    jobs.deliver_batch(sender, now=NOON + timedelta(minutes=3))
    assert _states() == ["sent"] * 3
    per_device: dict[str, set[tuple[str, int]]] = {}
    for r in push_service.accepted():
        per_device.setdefault(r.path, set()).add((r.headers["topic"], r.message["id"]))
    assert all(len(shown) == 1 for shown in per_device.values())  # one notification each
    assert jobs.deliver_batch(sender, now=NOON + timedelta(minutes=10)).claimed == 0


def test_plan_job_plans_once_and_drops_unconfirmed_devices(app, make_citizen, push_service):
    active, quiet = make_citizen(), make_citizen()
    _follow_up(active)
    _subscribe(active, push_service)
    sub, _ = _subscribe(quiet, push_service)
    sub.confirmed_at = NOON - timedelta(days=61)
    db.session.commit()
    assert jobs.plan_reminders(lambda: False, now=NOON) == 1
    assert jobs.plan_reminders(lambda: False, now=NOON + timedelta(hours=2)) == 0
    assert db.session.scalar(sa.select(sa.func.count(PushSubscription.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 1


def test_worker_once_runs_both_jobs(app, citizen, push_service):
    _planned(citizen, push_service)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "reminders-plan:" in result.output and "push-deliver:" in result.output
