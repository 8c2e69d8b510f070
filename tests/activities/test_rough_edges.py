"""Rough edges a new user hit (issue 9), and the share target."""

from __future__ import annotations

from datetime import date

from joblog_app.activities import services
from joblog_app.activities.models import ActivityKind
from joblog_app.citizens.models import BenefitGroup
from joblog_app.core.clock import today
from joblog_app.extensions import db
from joblog_app.i18n import LANGUAGE_COOKIE
from joblog_app.progress.services import Smiley, progress_for
from tests.conftest import acting


def test_a_network_contact_without_follow_up_date_converts_from_my_list(logged_in, citizen):
    """Finding: conversion was only offered on the home screen near the follow-up date."""
    lead = services.create_activity(citizen.id, ActivityKind.NETWORK_LEAD, {"person": "Ole"},
                                    actor=acting(citizen)).activity
    db.session.commit()
    html = logged_in.get("/activities/history").get_data(as_text=True)
    assert f"/activities/{lead.id}/then/coffee_meeting" in html
    assert f"/activities/{lead.id}/then/application" in html
    assert logged_in.get(f"/activities/{lead.id}/then/application").status_code == 200
    r = logged_in.new_entry("coffee_meeting", organisation="Netto", occurred_on=today().isoformat(),
                            source_id=str(lead.id))
    assert r.status_code == 200
    html = logged_in.get("/activities/history").get_data(as_text=True)
    assert f"/activities/{lead.id}/then/" not in html  # done: not offered twice


def test_dagpenge_smiley_words_and_meter_tell_one_story(make_citizen, client, monkeypatch):
    """Finding: "Green" next to "5 more to reach your goal this month" and a meter at 2 of 7."""
    user = make_citizen(group=BenefitGroup.DAGPENGE, language="en")
    day = date(2026, 11, 10)  # 10 days in: 1.5 x 10/7 -> 3 due by today
    monkeypatch.setattr("joblog_app.home.views.today", lambda: day)
    for d in (2, 5, 9):
        services.create_activity(user.id, ActivityKind.APPLICATION, {
            "organisation": "Netto", "title": "Bager", "occurred_on": date(2026, 11, d),
            "method": "advertised", "status": "applied"}, actor=acting(user))
    p = progress_for(user.profile, day)
    assert p.smiley == Smiley.GREEN and (p.count, p.due_now, p.left_now) == (3, 3, 0)
    db.session.commit()
    client.login(user)
    html = client.get("/").get_data(as_text=True)
    assert "You are on track" in html and "more to reach your goal this month" not in html
    assert 'max="3" value="3"' in html


def test_dagpenge_behind_pace_is_not_green_and_says_how_many(make_citizen, client, monkeypatch):
    user = make_citizen(group=BenefitGroup.DAGPENGE, language="en")
    day = date(2026, 11, 14)
    monkeypatch.setattr("joblog_app.home.views.today", lambda: day)
    services.create_activity(user.id, ActivityKind.APPLICATION, {
        "organisation": "Netto", "title": "Bager", "occurred_on": date(2026, 11, 3),
        "method": "advertised", "status": "applied"}, actor=acting(user))
    db.session.commit()
    client.login(user)
    html = client.get("/").get_data(as_text=True)
    assert "progress-light_green" in html and "2 more to be on track by today." in html
    assert 'max="3" value="1"' in html


def test_the_code_page_isolates_the_phone_number_left_to_right(client, make_citizen):
    """Finding: in Arabic the number read "4520009998+"."""
    user = make_citizen(language="ar")
    client.http.set_cookie(LANGUAGE_COOKIE, "ar")
    client.post("/login", {"identifier": user.phone[3:]}, target="login-form")
    html = client.get("/login/code").get_data(as_text=True)
    assert 'dir="rtl"' in html and f'<bdi dir="ltr">{user.phone}</bdi>' in html


def test_the_manifest_has_a_share_target_to_the_planned_job_form(client):
    manifest = client.get("/manifest.webmanifest?lang=uk").get_json(force=True)
    assert manifest["share_target"] == {
        "action": "/activities/new/planned_job", "method": "GET",
        "params": {"title": "title", "text": "text", "url": "ad_url"}}


def test_a_shared_link_and_title_fill_the_planned_job_form(logged_in):
    r = logged_in.get("/activities/new/planned_job", query_string={
        "title": "Kassemedarbejder – Netto", "ad_url": "https://job.example/123?a=1&b=2"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'value="Kassemedarbejder – Netto"' in html
    assert 'value="https://job.example/123?a=1&amp;b=2"' in html


def test_a_link_shared_in_the_text_is_found_and_nothing_hostile_is_taken(logged_in):
    html = logged_in.get("/activities/new/planned_job", query_string={
        "text": "Se dette job https://job.example/9 hurtigt", "ad_url": "javascript:alert(1)"}
    ).get_data(as_text=True)
    assert 'value="https://job.example/9"' in html and 'value="javascript:' not in html
    assert 'value="Se dette job hurtigt"' in html


def test_the_printable_month_labels_each_value_for_a_phone(logged_in):
    logged_in.new_entry("application", organisation="Netto", title="Bager",
                        occurred_on=today().isoformat(), method="advertised", status="applied")
    html = logged_in.get("/activities/history/print").get_data(as_text=True)
    assert 'class="print-date" data-label="Dato"' in html and "<table" in html
