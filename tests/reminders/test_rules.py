"""Reminder rules at their edges: quiet hours, daylight saving, month ends, the daily limit,
the goal met, exemptions, pauses, and plurals in every language."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from flask_babel import force_locale

from joblog_app.activities.models import (
    Activity,
    ActivityKind,
    ApplicationMethod,
    ApplicationStatus,
    RecordState,
)
from joblog_app.extensions import db
from joblog_app.reminders import services
from joblog_app.reminders.models import PushDelivery, Reminder, ReminderKind

NOON_UTC = datetime(2026, 12, 3, 11, 0)  # 12:00 in Copenhagen (winter time)


def _dk(day: date, hh: int, mm: int = 0) -> datetime:
    return services.utc_at(day, datetime.min.time().replace(hour=hh, minute=mm))


@pytest.mark.parametrize(("local", "day", "due"), [
    ((2026, 12, 3, 8, 59), date(2026, 12, 3), datetime(2026, 12, 3, 8, 0)),
    ((2026, 12, 3, 9, 0), date(2026, 12, 3), datetime(2026, 12, 3, 8, 0)),
    ((2026, 12, 3, 19, 59), date(2026, 12, 3), datetime(2026, 12, 3, 18, 59)),
    ((2026, 12, 3, 20, 0), date(2026, 12, 4), datetime(2026, 12, 4, 8, 0)),
    ((2026, 12, 31, 23, 30), date(2027, 1, 1), datetime(2027, 1, 1, 8, 0)),  # year end
    # Daylight saving starts on 29 March 2026 (02:00 -> 03:00): 09:00 is 07:00 UTC.
    ((2026, 3, 28, 21, 0), date(2026, 3, 29), datetime(2026, 3, 29, 7, 0)),
    ((2026, 3, 29, 2, 30), date(2026, 3, 29), datetime(2026, 3, 29, 7, 0)),
    # It ends on 25 October 2026 (03:00 -> 02:00): 09:00 is 08:00 UTC again.
    ((2026, 10, 24, 20, 0), date(2026, 10, 25), datetime(2026, 10, 25, 8, 0)),
])
def test_planning_window_keeps_quiet_hours_in_danish_time(local, day, due):
    now = _dk(date(*local[:3]), local[3], local[4])
    window = services.planning_window(now)
    assert window.day == day
    assert window.due_at == due
    assert window.expires_at == _dk(day, 20)
    assert not services.in_quiet_hours(window.due_at)
    assert services.in_quiet_hours(window.expires_at)


def test_expiry_is_twenty_o_clock_on_both_sides_of_the_clock_change():
    assert services.utc_at(date(2026, 3, 29), datetime.min.time().replace(hour=20)) == \
        datetime(2026, 3, 29, 18, 0)
    assert services.utc_at(date(2026, 10, 25), datetime.min.time().replace(hour=20)) == \
        datetime(2026, 10, 25, 19, 0)


@pytest.mark.parametrize(("day", "halfway"), [
    (date(2027, 2, 3), date(2027, 2, 14)),  # 28 days
    (date(2028, 2, 20), date(2028, 2, 15)),  # 29 days
    (date(2026, 4, 30), date(2026, 4, 15)),  # 30 days
    (date(2026, 12, 1), date(2026, 12, 16)),  # 31 days
])
def test_halfway_day_at_every_month_length(day, halfway):
    assert services.halfway_day(day) == halfway


def _apply(citizen_id: int, day: date) -> None:
    db.session.add(Activity(citizen_id=citizen_id, entered_by_id=citizen_id,
                            kind=ActivityKind.APPLICATION, organisation="Netto", title="Kok",
                            occurred_on=day, method=ApplicationMethod.ADVERTISED,
                            status=ApplicationStatus.APPLIED))
    db.session.flush()


def _device(user) -> None:  # type: ignore[no-untyped-def]
    from tests.support.fake_push import DeviceKeys

    keys = DeviceKeys.new()
    services.save_subscription(user.id, {"endpoint": f"https://push.example/{user.id}-{keys.p256dh[:8]}",
                                         "keys": {"p256dh": keys.p256dh,
                                                  "auth": "AAAAAAAAAAAAAAAAAAAAAA"}},
                               "test", NOON_UTC)


def test_behind_on_the_halfway_day_says_how_many_until_the_month_ends(citizen):
    day = date(2026, 12, 16)
    _apply(citizen.id, day)  # 1 of 6: behind
    dues = services.due_reminders(citizen, None, day)
    assert [d.kind for d in dues] == [ReminderKind.BEHIND]
    assert dues[0].num == 5 and dues[0].until == date(2026, 12, 31)
    with force_locale("en"):
        assert services.sentence(dues[0]) == \
            "5 more job searches to reach green by 31 December. You can do it."
    assert services.due_reminders(citizen, None, day - timedelta(days=1)) == []  # not halfway


def test_on_track_is_silent(citizen):
    day = date(2026, 12, 16)
    for _ in range(3):
        _apply(citizen.id, day)
    assert services.due_reminders(citizen, None, day) == []


def test_exempted_citizens_get_no_behind_or_no_entries_reminder(citizen, monkeypatch):
    day = date(2026, 12, 16)
    citizen.created_at = _dk(day - timedelta(days=21), 12)
    assert {d.kind for d in services.due_reminders(citizen, None, day)} == {
        ReminderKind.BEHIND, ReminderKind.INACTIVE}
    monkeypatch.setattr(services, "is_exempt", lambda _citizen_id, _day: True)
    assert services.due_reminders(citizen, None, day) == []


def test_no_entries_reminder_on_day_21_only(citizen):
    day = date(2026, 12, 10)
    citizen.created_at = _dk(day - timedelta(days=21), 12)
    assert [d.kind for d in services.due_reminders(citizen, None, day)] == [ReminderKind.INACTIVE]
    assert services.due_reminders(citizen, None, day + timedelta(days=1)) == []
    assert services.due_reminders(citizen, None, day - timedelta(days=1)) == []


def test_several_due_reminders_become_one_message_once_a_day(citizen):
    day = date(2026, 12, 3)
    db.session.add_all([
        Activity(citizen_id=citizen.id, entered_by_id=citizen.id, kind=ActivityKind.COFFEE_MEETING,
                 organisation="Føtex", person="Lis", occurred_on=day - timedelta(days=3),
                 follow_up_on=day),
        Activity(citizen_id=citizen.id, entered_by_id=citizen.id, kind=ActivityKind.PLANNED_JOB,
                 organisation="Lego", title="Pakker", deadline=day + timedelta(days=2)),
        Activity(citizen_id=citizen.id, entered_by_id=citizen.id, kind=ActivityKind.APPLICATION,
                 organisation="Irma", title="Kasse", occurred_on=day, status=ApplicationStatus.APPLIED,
                 method=ApplicationMethod.ADVERTISED, record_state=RecordState.FAILED),
    ])
    citizen.language = "en"
    _device(citizen)
    first = services.plan_for(citizen, NOON_UTC)
    assert first is not None
    assert first.kinds == "refused,follow-up,deadline" and first.topic == "refused"
    message = json.loads(first.payload)
    assert message["url"] == "/" and message["tag"] == "refused" and message["id"] == first.id
    assert message["body"].split("\n") == [
        "1 entry did not reach Joblog. Have a look at what to change.",
        "You planned 1 follow-up for today.",
        "1 job you want to apply for closes in two days."]
    assert len(first.payload.encode()) < 1000
    assert services.plan_for(citizen, NOON_UTC + timedelta(hours=3)) is None  # once a day
    assert db.session.query(Reminder).count() == 1 and db.session.query(PushDelivery).count() == 1


def test_planned_in_the_evening_it_is_for_the_next_morning(citizen):
    day = date(2026, 12, 3)
    db.session.add(Activity(citizen_id=citizen.id, entered_by_id=citizen.id,
                            kind=ActivityKind.COFFEE_MEETING, organisation="Føtex", person="Lis",
                            occurred_on=day, follow_up_on=day + timedelta(days=1)))
    _device(citizen)
    evening = _dk(day, 21, 15)
    reminder = services.plan_for(citizen, evening)
    assert reminder is not None and reminder.day == day + timedelta(days=1)
    assert reminder.due_at == _dk(day + timedelta(days=1), 9)
    assert json.loads(reminder.payload)["url"].endswith("/then/coffee_meeting")


def test_none_once_the_goal_is_met_except_a_refused_entry(citizen):
    day = date(2026, 12, 3)
    for _ in range(6):
        _apply(citizen.id, day)
    db.session.add(Activity(citizen_id=citizen.id, entered_by_id=citizen.id,
                            kind=ActivityKind.COFFEE_MEETING, organisation="Føtex", person="Lis",
                            occurred_on=day, follow_up_on=day))
    db.session.flush()
    assert services.due_reminders(citizen, None, day) == []
    db.session.query(Activity).filter_by(kind=ActivityKind.APPLICATION).first().record_state = \
        RecordState.FAILED
    db.session.flush()
    assert [d.kind for d in services.due_reminders(citizen, None, day)] == [ReminderKind.REFUSED]


def test_settings_and_pause(citizen):
    day = date(2026, 12, 3)
    db.session.add(Activity(citizen_id=citizen.id, entered_by_id=citizen.id,
                            kind=ActivityKind.COFFEE_MEETING, organisation="Føtex", person="Lis",
                            occurred_on=day, follow_up_on=day))
    db.session.flush()
    settings = services.set_kinds(citizen.id, set())
    assert services.due_reminders(citizen, settings, day) == []
    settings = services.set_kinds(citizen.id, {ReminderKind.FOLLOW_UP})
    assert len(services.due_reminders(citizen, settings, day)) == 1
    until = services.pause(citizen.id, day)
    assert until == day + timedelta(days=6)
    assert services.due_reminders(citizen, settings, day + timedelta(days=6)) == []
    services.resume(citizen.id)
    assert len(services.due_reminders(citizen, settings, day)) == 1


@pytest.mark.parametrize(("lang", "num", "text"), [
    ("uk", 1, "Минув 1 день від вашого останнього запису. Усе, що ви робите, має значення."),
    ("uk", 21, "Минув 21 день від вашого останнього запису. Усе, що ви робите, має значення."),
    ("uk", 3, "Минуло 3 дні від вашого останнього запису. Усе, що ви робите, має значення."),
    ("uk", 5, "Минуло 5 днів від вашого останнього запису. Усе, що ви робите, має значення."),
    ("da", 21, "Der er gået 21 dage siden din seneste registrering. Alt, hvad du gør, tæller."),
    ("en", 1, "It is 1 day since your last entry. Everything you do counts."),
])
def test_plurals_of_the_no_entries_reminder(app_ctx, lang, num, text):
    with force_locale(lang):
        assert services.sentence(services.Due(ReminderKind.INACTIVE, num, "/")) == text


@pytest.mark.parametrize(("num", "start"), [
    (1, "بقي طلب عمل واحد"), (2, "بقي طلبا عمل"), (3, "بقيت 3 طلبات عمل"),
    (11, "بقي 11 طلب عمل"), (100, "بقي 100 طلب عمل"),
])
def test_arabic_plurals_of_the_behind_reminder(app_ctx, num, start):
    with force_locale("ar"):
        text = services.sentence(services.Due(ReminderKind.BEHIND, num, "/", date(2026, 12, 31)))
    assert text.startswith(start), text
