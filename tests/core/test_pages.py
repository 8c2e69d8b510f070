"""Home screen, language choice, errors, health."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from joblog_app.activities import services as activities
from joblog_app.activities.models import ActivityKind
from joblog_app.auth.models import LoginSession
from joblog_app.citizens.models import BenefitGroup
from joblog_app.core.clock import today
from joblog_app.extensions import db
from joblog_app.models_base import utcnow
from tests.conftest import acting


@pytest.mark.parametrize(("lang", "direction"), [("da", "ltr"), ("uk", "ltr"), ("ar", "rtl"),
                                                  ("en", "ltr")])
def test_home_in_the_users_language(client, make_citizen, lang, direction):
    client.login(make_citizen(language=lang))
    html = client.get("/").get_data(as_text=True)
    assert f'<html lang="{lang}" dir="{direction}">' in html


def test_accept_language_on_first_visit_then_cookie(client):
    html = client.get("/login", headers={"Accept-Language": "uk,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="uk" dir="ltr">' in html
    client.post("/language", {"lang": "ar", "next": "/login"}, htmx=False)
    html = client.get("/login", headers={"Accept-Language": "uk"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html


def test_language_is_remembered_on_the_user(client, citizen):
    client.login(citizen)
    client.post("/language", {"lang": "en", "next": "/"}, htmx=False)
    db.session.refresh(citizen)
    assert citizen.language == "en"
    client.post("/logout", htmx=False)
    assert '<html lang="en"' in client.get("/login").get_data(as_text=True)


def test_unknown_language_is_ignored(client):
    r = client.post("/language", {"lang": "xx", "next": "/login"}, htmx=False)
    assert r.status_code == 303 and "lang=" not in r.headers.get("Set-Cookie", "")


def test_home_shows_smiley_in_words_and_buttons(client, make_citizen):
    client.login(make_citizen(language="en", group=BenefitGroup.SHO))
    html = client.get("/").get_data(as_text=True)
    assert "progress-red" in html and "Red:" in html
    assert "6 more to reach your goal" in html
    for kind in ("application", "coffee_meeting", "network_lead", "planned_job"):
        assert f"/activities/new/{kind}" in html


def _entries(user):  # type: ignore[no-untyped-def]
    day = today()

    def add(kind, **data):  # type: ignore[no-untyped-def]
        return activities.create_activity(user.id, kind, data, actor=acting(user)).activity

    planned = add(ActivityKind.PLANNED_JOB, organisation="Arla", title="Mejerist",
                  deadline=day + timedelta(days=3))
    meeting = add(ActivityKind.COFFEE_MEETING, organisation="ISS", person="Lars",
                  occurred_on=day, follow_up_on=day)
    add(ActivityKind.APPLICATION, organisation="<b>Netto</b>", title="Kasse", occurred_on=day,
        method="advertised", status="interview")
    db.session.commit()
    return planned, meeting


def test_home_lists_follow_ups_and_record_summary(client, make_citizen):
    user = make_citizen(language="en")
    planned, meeting = _entries(user)
    client.login(user)
    html = client.get("/").get_data(as_text=True)
    # Planned job with its one-tap button, follow-up with its button, latest entries.
    assert "<bdi>Mejerist</bdi> at <bdi>Arla</bdi>" in html
    assert html.count(f'"/activities/{planned.id}/applied"') == 2  # action and hx-post
    assert "Coffee meeting with <bdi>Lars</bdi>, <bdi>ISS</bdi>" in html
    assert f"/activities/{meeting.id}/then/coffee_meeting" in html and "Add a new meeting" in html
    assert "<bdi>Kasse</bdi> at <bdi>&lt;b&gt;Netto&lt;/b&gt;</bdi>" in html  # escaped
    assert '<span class="badge badge-interview">Interview</span>' in html
    assert "Sending to Joblog" in html and "3 are on their way to Joblog." in html
    assert "Light green: good start. Keep going." in html  # 1 job search this month


def test_home_is_four_statements(client, citizen):
    """The login session, the counts, the three lists (see activities/queries.py) and
    today's job café visit (cafes/services.py, todays_visit)."""
    _entries(citizen)
    client.login(citizen)
    client.get("/")
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert client.get("/").status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
    assert len(statements) == 4, statements


def test_session_cookie_is_sent_when_the_session_changes_only(client, citizen):
    client.login(citizen)
    client.get("/")  # the first page after login puts the CSRF token into the session
    page = client.get("/")
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    static = client.get("/static/css/app.css")
    static.close()
    assert static.status_code == 200 and "Set-Cookie" not in static.headers
    saved = client.new_entry("other", description="Kursus", occurred_on=today().isoformat())
    assert "session=" in saved.headers.get("Set-Cookie", "")  # the flash message


def test_session_ends_after_60_idle_days(client, citizen):
    client.login(citizen)

    def last_seen(days_ago: int) -> None:
        db.session.execute(sa.update(LoginSession).values(
            last_seen_at=utcnow() - timedelta(days=days_ago)))
        db.session.commit()

    last_seen(59)
    assert client.get("/").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(sa.select(LoginSession.last_seen_at)) > utcnow() - timedelta(minutes=1)
    last_seen(61)
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")


@pytest.mark.parametrize(("lang", "count", "expected"), [
    ("uk", 1, "1 запис"), ("uk", 2, "2 записи"), ("uk", 5, "5 записів"),
])
def test_ukrainian_plurals(client, make_citizen, lang, count, expected):
    import uuid

    from joblog_app.core.clock import today
    client.login(make_citizen(language=lang))
    for _ in range(count):
        client.new_entry("other", description="Kursus", occurred_on=today().isoformat(),
                         client_uuid=str(uuid.uuid4()))
    html = client.get("/activities/history").get_data(as_text=True)
    assert expected in html


def test_404_is_friendly_and_localized(client, make_citizen):
    client.login(make_citizen(language="en"))
    r = client.get("/no-such-page")
    assert r.status_code == 404 and "We cannot find this page" in r.get_data(as_text=True)
    assert "Traceback" not in r.get_data(as_text=True)


def test_500_shows_no_stack_trace(app, client):
    @app.get("/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    r = client.get("/boom")
    html = r.get_data(as_text=True)
    assert r.status_code == 500 and "secret internals" not in html and "Traceback" not in html


def test_accessibility_statement_linked_from_every_page(client, citizen):
    assert 'href="/accessibility"' in client.get("/login").get_data(as_text=True)
    client.login(citizen)
    assert 'href="/accessibility"' in client.get("/").get_data(as_text=True)
    assert client.get("/accessibility").status_code == 200


def test_health_tells_an_anonymous_caller_only_that_the_app_is_alive(app, client):
    """Issue 9: the queue figures went to anyone."""
    assert client.get("/healthz").get_json() == {"status": "ok"}
    app.config["MONITORING_TOKEN"] = "monitor-" + "x" * 24
    assert client.get("/healthz").get_json() == {"status": "ok"}
    wrong = {"Authorization": "Bearer monitor-wrong"}
    assert client.get("/healthz", headers=wrong).get_json() == {"status": "ok"}


def test_health_gives_the_queue_figures_to_the_monitoring_token(app, client):
    app.config["MONITORING_TOKEN"] = token = "monitor-" + "x" * 24
    r = client.get("/healthz", headers={"Authorization": f"Bearer {token}"})
    assert r.get_json() == {"status": "ok", "record_queue_depth": 0,
                            "record_oldest_pending_seconds": None,
                            "record_waiting": 0, "record_failed": 0,
                            "push_queue_depth": 0, "push_config_alerts": 0}


def test_an_empty_monitoring_token_opens_nothing(app, client):
    app.config["MONITORING_TOKEN"] = ""
    assert client.get("/healthz", headers={"Authorization": "Bearer "}).get_json() == {"status": "ok"}
