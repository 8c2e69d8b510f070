"""Reminder routes: citizens only (staff 403, anonymous to login), CSRF, own devices only."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from joblog_app.auth.models import LoginSession, Role, User
from joblog_app.extensions import db
from joblog_app.models_base import utcnow
from joblog_app.reminders import services
from joblog_app.reminders.models import PushDelivery, PushSubscription, Reminder, ReminderSettings
from tests.support.fake_push import DeviceKeys

POSTS = ["/reminders/settings", "/reminders/pause", "/reminders/resume", "/reminders/test",
         "/reminders/subscriptions", "/reminders/subscriptions/1/delete"]


def _subscription() -> dict:
    keys = DeviceKeys.new()
    return {"endpoint": f"https://push.example/{keys.p256dh[:12]}",
            "keys": {"p256dh": keys.p256dh, "auth": "q1w2e3r4t5y6u7i8o9p0aA"}}


def _subscribe(client, data=None):  # type: ignore[no-untyped-def]
    return client.http.post("/reminders/subscriptions", json=data or _subscription(),
                            headers={"X-CSRFToken": client.csrf_token()})


@pytest.mark.parametrize("url", ["/reminders", *POSTS])
def test_anonymous_is_sent_to_login(client, url):
    if url == "/reminders":
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"]
    elif url == "/reminders/subscriptions":  # the JSON API: a JSON answer, never a page
        r = client.post(url)
        assert r.status_code == 401 and r.get_json() == {"status": "login"}
    else:
        r = client.post(url)  # with a valid CSRF token of the anonymous session
        assert r.status_code == 401 and r.headers["HX-Redirect"] == "/login"


@pytest.mark.parametrize("url", ["/reminders", *POSTS])
def test_staff_get_403(app, client, citizen, url):
    """A logged-in user becomes a helper who has passed the second factor."""
    client.login(citizen)
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == citizen.id).values(role=Role.HELPER))
        # A staff session counts only once its second factor passed (auth/second_factor.py).
        db.session.execute(sa.update(LoginSession).where(LoginSession.user_id == citizen.id)
                           .values(second_factor_at=utcnow()))
        db.session.commit()
    r = client.get(url) if url == "/reminders" else client.post(url)
    if url == "/reminders/subscriptions":  # the JSON API answers as the sync API does
        assert r.status_code == 401 and r.get_json() == {"status": "login"}
    else:
        assert r.status_code == 403


def test_settings_page_full_and_fragment(logged_in):
    r = logged_in.get("/reminders")
    assert r.status_code == 200 and "Vary" in r.headers
    page = r.get_data(as_text=True)
    assert 'data-push-offer' in page and 'name="kind"' in page


@pytest.mark.parametrize("url", POSTS)
def test_posts_without_csrf_are_refused(logged_in, url):
    assert logged_in.post(url, csrf=False).status_code == 403


def test_subscribe_confirm_and_delete(app, logged_in, citizen):
    data = _subscription()
    r = _subscribe(logged_in, data)
    assert r.status_code == 200, r.get_data(as_text=True)
    sub_id = r.get_json()["id"]
    assert _subscribe(logged_in, data).get_json()["id"] == sub_id  # confirmed, not doubled
    page = logged_in.get("/reminders").get_data(as_text=True)
    assert f"/reminders/subscriptions/{sub_id}/delete" in page
    r = logged_in.post(f"/reminders/subscriptions/{sub_id}/delete")
    assert r.status_code == 200 and r.headers["HX-Location"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PushSubscription.id))) == 0


@pytest.mark.parametrize("bad", [
    None, [], {"endpoint": "ftp://x/y", "keys": {}},
    {"endpoint": "https://push.example/a", "keys": {"p256dh": "x", "auth": "y"}},
    {"endpoint": "https://push.example/a", "keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22}},
    {"endpoint": "https://u:p@push.example/a", "keys": {}},
    {"endpoint": 5, "keys": []},
])
def test_a_broken_subscription_gets_a_clear_422(logged_in, bad):
    r = logged_in.http.post("/reminders/subscriptions", json=bad,
                            headers={"X-CSRFToken": logged_in.csrf_token()})
    assert r.status_code == 422 and r.get_json()["error"]


def test_another_citizens_device_is_404(app, logged_in, make_citizen):
    other = make_citizen()
    with app.app_context():
        sub = services.save_subscription(other.id, _subscription(), "x", services.now())
        db.session.commit()
        sub_id = sub.id
    assert logged_in.post(f"/reminders/subscriptions/{sub_id}/delete").status_code == 404
    assert logged_in.post("/reminders/subscriptions/999999/delete").status_code == 404
    with app.app_context():
        assert db.session.get(PushSubscription, sub_id) is not None


def test_kinds_pause_resume_and_test(app, logged_in, citizen):
    r = logged_in.post("/reminders/settings", {"kind": "follow-up"})
    assert r.status_code == 200
    with app.app_context():
        s = db.session.get(ReminderSettings, citizen.id)
        assert s.follow_up and not s.deadline and not s.behind
    assert logged_in.post("/reminders/pause").status_code == 200
    assert "sat på pause til og med" in logged_in.get("/reminders").get_data(as_text=True)
    assert logged_in.post("/reminders/resume").status_code == 200
    with app.app_context():
        assert db.session.get(ReminderSettings, citizen.id).paused_until is None
    logged_in.post("/reminders/test")  # no device yet: nothing planned, a clear message
    assert "Slå først påmindelser til" in logged_in.get("/reminders").get_data(as_text=True)
    _subscribe(logged_in)
    logged_in.post("/reminders/test")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 1
        assert db.session.scalar(sa.select(sa.func.count(PushDelivery.id))) == 1


def test_home_offers_reminders(logged_in):
    page = logged_in.get("/").get_data(as_text=True)
    assert "data-push-offer" in page and 'data-push-key="B' in page and "/reminders" in page
