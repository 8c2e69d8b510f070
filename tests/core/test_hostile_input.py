"""Hostile input found by the security review (issue 9): a clear 4xx, never a 500; a
localized page for pages and htmx, JSON for the sync API; nothing half-saved."""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from joblog_app.activities.models import Activity
from joblog_app.core.clock import today
from joblog_app.extensions import db

HUGE = "9" * 30  # beyond 64 bits


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Activity.id))) or 0


@pytest.mark.parametrize("path", [
    f"/activities/{HUGE}/edit", f"/activities/{2**63}/delete", f"/activities/{2**31}/then/coffee_meeting",
    "/activities/²/edit", "/activities/٣/edit",
])
def test_ids_out_of_range_or_not_ascii_are_404_pages(logged_in, path):
    r = logged_in.get(path)
    assert r.status_code == 404 and 'lang="da"' in r.get_data(as_text=True)


@pytest.mark.parametrize("source_id", [HUGE, "²", "٣", "-1", "0"])
def test_a_bad_source_id_in_a_form_is_a_4xx_and_saves_nothing(logged_in, source_id):
    r = logged_in.new_entry("coffee_meeting", organisation="Netto", occurred_on=today().isoformat(),
                            source_id=source_id)
    assert r.status_code in (400, 404)
    assert "<html" not in r.get_data(as_text=True)  # htmx gets the fragment
    assert _count() == 0


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "1-1", "2026-13", "２０２６-０１",
                                   "2026-1²", "-", "1999-12", "x" * 5000])
@pytest.mark.parametrize("page", ["/activities/history", "/activities/history/print"])
def test_months_out_of_range_are_a_localized_400(logged_in, page, month):
    r = logged_in.get(page, query_string={"month": month})
    assert r.status_code == 400
    assert "Noget var galt med det, der blev sendt" in r.get_data(as_text=True)
    r = logged_in.get(page, query_string={"month": month}, headers={"HX-Request": "true"})
    assert r.status_code == 400 and "<html" not in r.get_data(as_text=True)


@pytest.mark.parametrize("page", ["/activities/history", "/activities/history/print"])
def test_a_good_month_and_no_month_still_work(logged_in, page):
    assert logged_in.get(page).status_code == 200
    assert logged_in.get(page, query_string={"month": today().strftime("%Y-%m")}).status_code == 200
    assert logged_in.get(page, query_string={"month": "2020-02"}).status_code == 200


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    return client.get("/sync/session").get_json()["csrf"]


def test_deeply_nested_json_is_a_json_4xx(logged_in):
    body = "[" * 100_000 + "]" * 100_000
    r = logged_in.http.post("/sync/entries", data=body, headers={
        "Content-Type": "application/json", "X-CSRFToken": _csrf(logged_in)})
    assert 400 <= r.status_code < 500 and r.is_json and r.get_json()["message"]
    nested = '{"kind": "other", "fields": ' + '{"a":' * 50_000 + "1" + "}" * 50_001
    r = logged_in.http.post("/sync/entries", data=nested, headers={
        "Content-Type": "application/json", "X-CSRFToken": _csrf(logged_in)})
    assert 400 <= r.status_code < 500 and r.is_json
    assert _count() == 0


@pytest.mark.parametrize("source_id", [HUGE, "²", "٣"])
def test_a_bad_source_id_on_the_sync_api_is_a_json_4xx(logged_in, source_id):
    payload = {"kind": "coffee_meeting", "client_uuid": str(uuid.uuid4()),
               "fields": {"organisation": "Netto", "occurred_on": today().isoformat(),
                          "source_id": source_id}}
    r = logged_in.http.post("/sync/entries", data=json.dumps(payload), headers={
        "Content-Type": "application/json", "X-CSRFToken": _csrf(logged_in)})
    assert r.status_code == 422 and r.is_json
    assert _count() == 0


def test_the_sync_api_answers_errors_in_json_never_html(logged_in, client):
    r = logged_in.http.post("/sync/entries", data="{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 403 and r.is_json  # no CSRF token
    r = logged_in.get("/sync/nothing-here")
    assert r.status_code == 404 and r.is_json
    r = logged_in.http.get("/sync/entries")
    assert r.status_code == 405 and r.is_json


@pytest.mark.parametrize("target", ["/\r\nSet-Cookie: evil=1", "/activities/history\n", "/\\evil.example",
                                    "/%0d%0aX: y", "\x00/"])
def test_language_switch_next_with_control_characters_goes_home(client, target):
    r = client.post("/language", {"lang": "en", "next": target}, htmx=False)
    assert r.status_code == 303
    location = r.headers["Location"]
    assert "\r" not in location and "\n" not in location and "evil" not in location.replace("%0d%0aX", "")
    assert "Set-Cookie" not in str(r.headers.get("Set-Cookie", "")).replace("joblog_lang", "")


def test_a_huge_form_is_a_localized_413_and_saves_nothing(logged_in):
    r = logged_in.new_entry("other", description="x" * (5 * 1024 * 1024), occurred_on=today().isoformat())
    assert r.status_code == 413
    assert "Det er for stort" in r.get_data(as_text=True)
    assert _count() == 0


def test_a_huge_json_body_is_a_json_413(logged_in):
    body = json.dumps({"kind": "other", "client_uuid": str(uuid.uuid4()),
                       "fields": {"description": "x" * (5 * 1024 * 1024)}})
    r = logged_in.http.post("/sync/entries", data=body, headers={
        "Content-Type": "application/json", "X-CSRFToken": _csrf(logged_in)})
    assert r.status_code == 413 and r.is_json
    assert _count() == 0


def test_a_real_long_arabic_entry_fits_the_size_limit(logged_in):
    r = logged_in.new_entry("application", organisation="ن" * 120, title="ع" * 120,
                            occurred_on=today().isoformat(), method="advertised", status="applied",
                            notes="م" * 2000, ad_url="https://example.org/" + "a" * 450)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    assert _count() == 1
