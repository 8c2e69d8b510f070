"""Home screen, language choice, errors, health."""

from __future__ import annotations

import pytest

from joblog_app.extensions import db
from joblog_app.progress.models import BenefitGroup


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


def test_health(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "record_queue_depth": 0,
                                                  "record_oldest_pending_seconds": None}
