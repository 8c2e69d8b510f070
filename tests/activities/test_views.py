"""The job log through HTTP: pages, htmx fragments, 422 errors, conversions."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from joblog_app.activities.models import Activity, ActivityKind
from joblog_app.core.clock import today
from joblog_app.extensions import db

KINDS = ["application", "planned_job", "coffee_meeting", "network_lead", "other"]


def _rows() -> list[Activity]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Activity).order_by(Activity.id)))


def _app_form(**extra: str) -> dict[str, str]:
    return {"organisation": "Netto", "title": "Kassemedarbejder",
            "occurred_on": today().isoformat(), "method": "advertised", "status": "applied",
            "client_uuid": str(uuid.uuid4()), **extra}


@pytest.mark.parametrize("kind", KINDS)
def test_new_entry_page_and_fragment(logged_in, kind):
    page = logged_in.get(f"/activities/new/{kind}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and 'name="client_uuid"' in html
    assert "HX-Request" in page.headers["Vary"]
    frag = logged_in.get(f"/activities/new/{kind}",
                         headers={"HX-Request": "true", "HX-Target": "main"})
    assert frag.status_code == 200 and "<html" not in frag.get_data(as_text=True)


def test_unknown_kind_is_404(logged_in):
    assert logged_in.get("/activities/new/holiday").status_code == 404


def test_form_uuid_is_new_each_time_the_form_opens(logged_in):
    a = logged_in.get("/activities/new/application").get_data(as_text=True)
    b = logged_in.get("/activities/new/application").get_data(as_text=True)
    pick = lambda h: h.split('name="client_uuid" value="')[1].split('"')[0]  # noqa: E731
    assert pick(a) != pick(b)


def test_save_application_and_see_it_on_home(logged_in):
    r = logged_in.post("/activities/new/application", _app_form())
    assert r.status_code == 200 and r.headers["HX-Location"]
    home = logged_in.get("/").get_data(as_text=True)
    assert "Kassemedarbejder" in home and "Netto" in home
    [a] = _rows()
    assert a.kind == ActivityKind.APPLICATION and a.occurred_on == today()


def test_without_htmx_the_form_redirects(logged_in):
    r = logged_in.post("/activities/new/application", _app_form(), htmx=False)
    assert r.status_code == 303 and r.headers["Location"] == "/"


@pytest.mark.parametrize(("field", "value"), [
    ("organisation", ""), ("organisation", "N" * 121), ("occurred_on", "1999-01-01"),
    ("occurred_on", (today() + timedelta(days=1)).isoformat()), ("method", "pigeon"),
    ("status", "<b>x</b>"),
])
def test_bad_input_is_422_inline_and_nothing_saved(logged_in, field, value):
    r = logged_in.post("/activities/new/application", _app_form(**{field: value}))
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert f'id="f-{field}-error"' in html or "error-summary" in html
    assert "<html" not in html
    assert _rows() == []


def test_422_without_htmx_is_the_full_page(logged_in):
    r = logged_in.post("/activities/new/application", _app_form(organisation=""), htmx=False)
    assert r.status_code == 422 and "<html" in r.get_data(as_text=True)


def test_resubmitting_the_same_form_saves_once(logged_in):
    form = _app_form()
    assert logged_in.post("/activities/new/application", form).status_code == 200
    assert logged_in.post("/activities/new/application", form).status_code == 200
    assert len(_rows()) == 1


def test_same_uuid_other_content_is_a_409_the_user_sees(logged_in):
    form = _app_form()
    logged_in.post("/activities/new/application", form)
    r = logged_in.post("/activities/new/application", form | {"title": "Lagermand"})
    assert r.status_code == 409 and "error-summary" in r.get_data(as_text=True)
    assert [a.title for a in _rows()] == ["Kassemedarbejder"]


def test_html_and_script_are_escaped_everywhere(logged_in):
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    logged_in.post("/activities/new/application", _app_form(organisation=evil, title=evil))
    for url in ["/", "/activities/history", "/activities/history/print",
                f"/activities/{_rows()[0].id}/edit", f"/activities/{_rows()[0].id}/delete"]:
        html = logged_in.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_bidi_controls_are_removed_and_names_isolated(logged_in):
    logged_in.post("/activities/new/application",
                   _app_form(organisation="\u202eNetto\u202c", title="Kasse"))
    assert _rows()[0].organisation == "Netto"
    assert "<bdi>Netto</bdi>" in logged_in.get("/").get_data(as_text=True)


def test_edit_keeps_the_entry_and_validates(logged_in):
    logged_in.post("/activities/new/application", _app_form())
    a = _rows()[0]
    r = logged_in.post(f"/activities/{a.id}/edit", _app_form(organisation=""))
    assert r.status_code == 422 and _rows()[0].organisation == "Netto"
    r = logged_in.post(f"/activities/{a.id}/edit", _app_form(status="interview"))
    assert r.status_code == 200
    assert _rows()[0].status.value == "interview" and len(_rows()) == 1


def test_delete_asks_first_then_deletes(logged_in):
    logged_in.post("/activities/new/application", _app_form())
    a = _rows()[0]
    confirm = logged_in.get(f"/activities/{a.id}/delete")
    assert confirm.status_code == 200 and "Kassemedarbejder" in confirm.get_data(as_text=True)
    assert _rows()[0].deleted_at is None
    assert logged_in.get(f"/activities/{a.id}/delete", query_string={"x": 1}).status_code == 200
    r = logged_in.post(f"/activities/{a.id}/delete", {}, target="")
    assert r.status_code == 200 and _rows()[0].deleted_at is not None
    assert "Kassemedarbejder" not in logged_in.get("/activities/history").get_data(as_text=True)


def test_planned_job_to_application_in_one_tap(logged_in):
    logged_in.post("/activities/new/planned_job",
                   {"organisation": "Arla", "title": "Mejerist", "client_uuid": str(uuid.uuid4())})
    planned = _rows()[0]
    home = logged_in.get("/").get_data(as_text=True)
    assert f"/activities/{planned.id}/applied" in home
    r = logged_in.post(f"/activities/{planned.id}/applied", {}, target="")
    assert r.status_code == 200
    logged_in.post(f"/activities/{planned.id}/applied", {}, target="")  # double tap
    rows = _rows()
    assert [r.kind for r in rows] == [ActivityKind.PLANNED_JOB, ActivityKind.APPLICATION]
    assert f"/activities/{planned.id}/applied" not in logged_in.get("/").get_data(as_text=True)


def test_follow_up_from_home(logged_in):
    logged_in.post("/activities/new/coffee_meeting", {
        "organisation": "ISS", "person": "Lars", "occurred_on": today().isoformat(),
        "follow_up_on": today().isoformat(), "client_uuid": str(uuid.uuid4())})
    meeting = _rows()[0]
    home = logged_in.get("/").get_data(as_text=True)
    link = f"/activities/{meeting.id}/then/coffee_meeting"
    assert link in home
    form = logged_in.get(link).get_data(as_text=True)
    assert 'value="ISS"' in form and 'value="Lars"' in form and f'value="{meeting.id}"' in form
    r = logged_in.post("/activities/new/coffee_meeting", {
        "organisation": "ISS", "person": "Lars", "occurred_on": today().isoformat(),
        "outcome": "Samtale næste uge", "source_id": str(meeting.id),
        "client_uuid": str(uuid.uuid4())})
    assert r.status_code == 200
    assert link not in logged_in.get("/").get_data(as_text=True)


def test_history_filters_return_the_list_fragment(logged_in):
    logged_in.post("/activities/new/application", _app_form())
    logged_in.post("/activities/new/other", {"description": "Jobmesse i Bella Center",
                                             "occurred_on": today().isoformat(),
                                             "client_uuid": str(uuid.uuid4())})
    r = logged_in.get("/activities/history?kind=other",
                      headers={"HX-Request": "true", "HX-Target": "history-list"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.lstrip().startswith('<div id="history-list"')
    assert "Jobmesse" in html and "Kassemedarbejder" not in html
    restore = logged_in.get("/activities/history?kind=other",
                            headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_history_filters_by_status_and_by_kind_and_status_together(logged_in):
    logged_in.post("/activities/new/application", _app_form(title="Lagermedarbejder"))
    logged_in.post("/activities/new/application", _app_form(title="Chauffør", status="interview"))
    logged_in.post("/activities/new/planned_job", {"organisation": "Arla", "title": "Mejerist",
                                                    "client_uuid": str(uuid.uuid4())})
    fragment = {"HX-Request": "true", "HX-Target": "history-list"}
    html = logged_in.get("/activities/history?status=interview", headers=fragment).get_data(as_text=True)
    assert "Chauffør" in html and "Lagermedarbejder" not in html and "Mejerist" not in html
    html = logged_in.get("/activities/history?kind=application&status=applied",
                         headers=fragment).get_data(as_text=True)
    assert "Lagermedarbejder" in html and "Chauffør" not in html and "Mejerist" not in html
    html = logged_in.get("/activities/history?kind=planned_job&status=applied",
                         headers=fragment).get_data(as_text=True)
    assert "Mejerist" not in html and "Lagermedarbejder" not in html  # nothing matches both


def test_history_ignores_bad_filters(logged_in):
    r = logged_in.get("/activities/history?kind=x&status=<b>")
    assert r.status_code == 200
    # A month that does not exist is a clear 400 (tests/core/test_hostile_input.py).
    assert logged_in.get("/activities/history?month=2026-13").status_code == 400


def test_print_view_lists_the_month(logged_in):
    logged_in.post("/activities/new/application", _app_form())
    html = logged_in.get(f"/activities/history/print?month={today():%Y-%m}").get_data(as_text=True)
    assert "Kassemedarbejder" in html and "<table" in html
