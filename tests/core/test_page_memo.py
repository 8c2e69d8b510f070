"""Rendered pages reused while nothing they show has changed (core/page_memo.py)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from joblog_app.activities import services as activities
from joblog_app.activities.models import Activity, ActivityKind, RecordState
from joblog_app.core.clock import today
from joblog_app.core.page_memo import memo_for_app
from joblog_app.extensions import db


def _memo(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        return memo_for_app()


def _add(user, title="Lagerarbejder"):  # type: ignore[no-untyped-def]
    return activities.create_activity(
        user.id, ActivityKind.APPLICATION,
        {"organisation": "Salling", "title": title, "occurred_on": today(),
         "method": "advertised", "status": "applied"}, entered_by_id=user.id).activity


def _without_token(html: str) -> str:
    return re.sub(r'(csrf_token" value="|X-CSRFToken": ")[^"]+', r"\1", html)


def test_an_unchanged_home_screen_is_rendered_once(app, client, make_citizen):
    user = make_citizen(language="en")
    _add(user)
    client.login(user)
    memo = _memo(app)
    first = client.get("/").get_data(as_text=True)  # puts the CSRF secret into the session
    second = client.get("/").get_data(as_text=True)
    hits = memo.hits
    third = client.get("/").get_data(as_text=True)
    assert memo.hits == hits + 1
    assert third == second and _without_token(first) == _without_token(third)


def test_any_change_is_shown_at_once(app, client, make_citizen):
    user = make_citizen(language="en")
    entry = _add(user)
    client.login(user)
    client.get("/")
    assert "Sending to Joblog" in client.get("/").get_data(as_text=True)
    # The worker delivers it (no request of the citizen's in between).
    db.session.execute(sa.update(Activity).where(Activity.id == entry.id).values(
        record_state=RecordState.SYNCED, record_synced_at=sa.func.current_timestamp()))
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "Sending to Joblog" not in html and "In Joblog" in html
    # A new entry, and an edit of one.
    _add(user, title="Truckfører")
    assert "Truckfører" in client.get("/").get_data(as_text=True)
    db.session.execute(sa.update(Activity).where(Activity.id == entry.id).values(title="Chauffør"))
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "Chauffør" in html and "Lagerarbejder" not in html


def test_language_and_user_are_part_of_the_key(app, client, make_citizen):
    user = make_citizen(language="en")
    client.login(user)
    client.get("/")
    assert '<html lang="en"' in client.get("/").get_data(as_text=True)
    client.post("/language", {"lang": "ar", "next": "/"}, htmx=False)
    assert '<html lang="ar" dir="rtl"' in client.get("/").get_data(as_text=True)
    other = make_citizen(language="ar")
    _add(other, title="Kun for den anden")
    client.post("/logout", htmx=False)
    client.login(other)
    client.get("/")
    assert "Kun for den anden" in client.get("/").get_data(as_text=True)
    client.post("/logout", htmx=False)
    client.login(user)
    assert "Kun for den anden" not in client.get("/").get_data(as_text=True)


def test_a_flash_message_is_shown_once_and_never_kept(app, client, make_citizen):
    client.login(make_citizen(language="en"))
    client.get("/")
    client.new_entry("other", description="Jobmesse", occurred_on=today().isoformat())
    assert "<p class=\"flash flash-" in client.get("/").get_data(as_text=True)
    assert "<p class=\"flash flash-" not in client.get("/").get_data(as_text=True)
    assert "<p class=\"flash flash-" not in client.get("/").get_data(as_text=True)


def test_another_session_gets_its_own_csrf_token(app, client, make_citizen):
    """Two phones of the same citizen: each page carries a token of its own session."""
    user = make_citizen(language="en")
    client.login(user)
    client.get("/")
    token_a = re.search(r'X-CSRFToken": "([^"]+)', client.get("/").get_data(as_text=True))
    phone_b = type(client)(app.test_client(), client.outbox)
    phone_b.login(user)
    phone_b.get("/")
    page_b = phone_b.get("/").get_data(as_text=True)
    token_b = re.search(r'X-CSRFToken": "([^"]+)', page_b)
    assert token_a and token_b and token_a.group(1) != token_b.group(1)
    # Phone B's token from the page is accepted for phone B's change.
    r = phone_b.http.post("/language", data={"lang": "da", "next": "/",
                                            "csrf_token": token_b.group(1)})
    assert r.status_code == 303


def test_it_can_be_turned_off(app, client, make_citizen):
    app.config["PAGE_MEMO_SIZE"] = 0
    client.login(make_citizen(language="en"))
    for _ in range(3):
        client.get("/")
    assert len(_memo(app)) == 0 and _memo(app).hits == 0


def test_the_store_is_bounded(app, client, make_citizen):
    app.config["PAGE_MEMO_SIZE"] = 2
    client.login(make_citizen(language="en"))
    client.get("/")
    for query in ("a", "b", "c", "d"):
        client.get(f"/?from={query}")
    assert len(_memo(app)) == 2
