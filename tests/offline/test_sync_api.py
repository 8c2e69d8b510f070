"""The replay endpoint for entries queued on a phone, and the installable app's resources.

Both database engines (the ``app`` fixture is parametrized)."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa
from werkzeug.serving import make_server

from joblog_app.activities.models import Activity, Channel, RecordState
from joblog_app.core.clock import today
from joblog_app.extensions import db


def _session(client):  # type: ignore[no-untyped-def]
    r = client.get("/sync/session")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    return r.get_json()


def _replay(client, payload, csrf):  # type: ignore[no-untyped-def]
    return client.http.post("/sync/entries", data=json.dumps(payload),
                            headers={"Content-Type": "application/json", "X-CSRFToken": csrf})


def _application(**fields: str) -> dict[str, object]:
    base = {"organisation": "Netto", "title": "Kassemedarbejder",
            "occurred_on": today().isoformat(), "method": "advertised", "status": "applied"}
    return {"kind": "application", "client_uuid": str(uuid.uuid4()), "fields": base | fields}


def _rows(citizen_id: int) -> list[Activity]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Activity).where(Activity.citizen_id == citizen_id)))


def test_session_needs_login_and_names_the_owner_without_the_user_id(client, make_citizen):
    assert client.get("/sync/session").status_code == 401
    citizen = make_citizen(language="en")
    client.login(citizen)
    session = _session(client)
    assert session["csrf"] and len(session["owner"]) == 24 and str(citizen.id) != session["owner"]
    assert _session(client)["owner"] == session["owner"]  # stable: the queue survives reloads


def test_replay_saves_once_and_answers_the_same_again(client, make_citizen, app_ctx):
    citizen = make_citizen(language="en")
    client.login(citizen)
    csrf = _session(client)["csrf"]
    payload = _application()
    first = _replay(client, payload, csrf)
    assert first.status_code == 201 and first.get_json()["status"] == "saved"
    again = _replay(client, payload, csrf)
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    (row,) = _rows(citizen.id)
    assert row.channel == Channel.OFFLINE and row.record_state == RecordState.PENDING
    assert str(row.client_uuid) == payload["client_uuid"]


def test_same_uuid_other_content_is_a_conflict_and_nothing_is_overwritten(client, make_citizen,
                                                                           app_ctx):
    citizen = make_citizen(language="da")
    client.login(citizen)
    csrf = _session(client)["csrf"]
    payload = _application()
    assert _replay(client, payload, csrf).status_code == 201
    other = dict(payload, fields=dict(payload["fields"], organisation="Lidl"))
    r = _replay(client, other, csrf)
    assert r.status_code == 409 and r.get_json()["status"] == "conflict"
    assert "ikke ændret" in r.get_json()["message"]  # in the citizen's language (Danish)
    (row,) = _rows(citizen.id)
    assert row.organisation == "Netto"


def test_invalid_fields_are_a_422_with_localized_messages_and_nothing_saved(client, make_citizen,
                                                                             app_ctx):
    citizen = make_citizen(language="en")
    client.login(citizen)
    csrf = _session(client)["csrf"]
    r = _replay(client, _application(organisation="", occurred_on="2001-01-01"), csrf)
    body = r.get_json()
    assert r.status_code == 422 and set(body["errors"]) == {"organisation", "occurred_on"}
    assert _rows(citizen.id) == []


@pytest.mark.parametrize("payload", [
    None, [], {"kind": "network_lead"}, {"kind": "nonsense", "client_uuid": str(uuid.uuid4())},
    {"kind": "application", "client_uuid": "not-a-uuid", "fields": {}},
    {"kind": "application", "client_uuid": str(uuid.uuid4()), "fields": {"title": ["x"]}},
    {"kind": "application", "client_uuid": str(uuid.uuid4()), "fields": {"title": "x" * 6000}},
])
def test_unreadable_payloads_are_refused_clearly(client, make_citizen, payload):
    client.login(make_citizen(language="en"))
    csrf = _session(client)["csrf"]
    r = _replay(client, payload, csrf)
    assert r.status_code == 422 and r.get_json()["message"]
    assert "Traceback" not in r.get_data(as_text=True)


def test_replay_needs_csrf_and_login(client, make_citizen):
    assert _replay(client, _application(), "forged").status_code in (400, 401, 403)
    client.login(make_citizen(language="en"))
    assert _replay(client, _application(), "forged").status_code in (400, 403)


def test_another_citizens_source_is_not_revealed(client, make_citizen, app_ctx):
    other = make_citizen(language="en")
    client.login(other)
    csrf = _session(client)["csrf"]
    lead = {"kind": "network_lead", "client_uuid": str(uuid.uuid4()),
            "fields": {"person": "Lars", "relation": "friend"}}
    assert _replay(client, lead, csrf).status_code == 201
    lead_id = _rows(other.id)[0].id
    client.http.delete_cookie(client.http.application.config["SESSION_COOKIE_NAME"])
    client.login(make_citizen(language="en"))
    r = _replay(client, _application(source_id=str(lead_id)), _session(client)["csrf"])
    assert r.status_code == 422 and "Lars" not in r.get_data(as_text=True)


def test_ten_concurrent_identical_posts_make_one_row(app, client, make_citizen, app_ctx):
    citizen = make_citizen(language="en")
    client.login(citizen)
    csrf = _session(client)["csrf"]
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.http.get_cookie(name).value
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    payload = json.dumps(_application())
    barrier = threading.Barrier(10)

    def post(_: int) -> int:
        with requests.Session() as http:
            http.cookies.set(name, cookie, domain="127.0.0.1")
            barrier.wait()
            return http.post(f"http://127.0.0.1:{server.server_port}/sync/entries", data=payload,
                             headers={"Content-Type": "application/json", "X-CSRFToken": csrf},
                             timeout=30).status_code

    try:
        with ThreadPoolExecutor(10) as pool:
            statuses = list(pool.map(post, range(10)))
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
    assert sorted(statuses) == [200] * 9 + [201], statuses
    assert len(_rows(citizen.id)) == 1


def test_manifest_is_installable_and_named_in_the_language(client):
    for lang, short in (("en", "Job search"), ("da", "Jobsøgning"), ("ar", None)):
        r = client.get(f"/manifest.webmanifest?lang={lang}")
        assert r.status_code == 200 and r.mimetype == "application/manifest+json"
        m = r.get_json()
        assert m["display"] == "standalone" and m["start_url"] == "/" and m["scope"] == "/"
        assert m["lang"] == lang and m["dir"] == ("rtl" if lang == "ar" else "ltr")
        assert "orientation" not in m  # the installed app turns with the phone (WCAG 1.3.4)
        assert "Joblog" not in m["name"]  # the national record's name, not ours
        if short:
            assert m["short_name"] == short
        else:
            assert m["short_name"] != "Job search"  # translated
        sizes = {(i["sizes"], i.get("purpose")) for i in m["icons"]}
        assert {("any", "any"), ("192x192", "maskable"), ("512x512", "maskable")} <= sizes
        assert [s["url"] for s in m["shortcuts"]] == ["/activities/new/application",
                                                      "/activities/new/coffee_meeting"]
        for icon in m["icons"]:
            with client.get(icon["src"]) as reply:
                assert reply.status_code == 200 and reply.mimetype == icon["type"]


def test_service_worker_is_revalidated_and_lists_the_shell(client):
    r = client.get("/sw.js")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-cache"
    assert r.mimetype == "text/javascript"
    config = json.loads(r.get_data(as_text=True).split("\n", 1)[0][len("self.JOBLOG = "):-1])
    assert len(config["version"]) == 12
    assert set(config["offlineUrls"]) == {"da", "uk", "ar", "en"}
    for url in config["shell"]:
        with client.get(url) as reply:
            assert reply.status_code == 200, url


@pytest.mark.parametrize("lang", ["da", "uk", "ar", "en"])
def test_offline_page_per_language_holds_nothing_personal(client, make_citizen, lang):
    client.login(make_citizen(language="en"))
    r = client.get(f"/offline/{lang}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Content-Language"] == lang
    assert f'lang="{lang}"' in html and ('dir="rtl"' in html) == (lang == "ar")
    assert "csrf" not in html and "Citizen" not in html
    assert client.get("/offline/xx").status_code == 404
