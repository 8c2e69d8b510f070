"""Security headers, CSRF, access control, configuration (ASVS 3.x, 8.x)."""

from __future__ import annotations

import re
import uuid

import pytest

from joblog_app import create_app
from joblog_app.config import ConfigError
from joblog_app.core.clock import today
from tests.conftest import make_app


def test_headers_on_every_page(client):
    r = client.get("/login")
    csp = r.headers["Content-Security-Policy"]
    for part in ("script-src 'self'", "object-src 'none'", "base-uri 'none'",
                 "frame-ancestors 'none'"):
        assert part in csp
    assert "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert r.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in r.headers["Vary"]
    assert "Strict-Transport-Security" not in r.headers  # local development only


def test_no_inline_script_in_pages(logged_in):
    for url in ["/", "/activities/new/application", "/activities/history", "/accessibility"]:
        html = logged_in.get(url).get_data(as_text=True)
        assert "<script>" not in html and " on" + "click=" not in html


# Production also needs the staff second factor's key and the passkeys' site (config.py).
STAFF_SETTINGS = {"TOTP_KEY": "x1Yq2cQ2m0m4ZQ0cR6oZ8k7P1tq9xkq9b3m8hO2d5yA=",
                  "CPR_INDEX_KEY": "i" * 64,
                  "WEBAUTHN_RP_ID": "localhost", "WEBAUTHN_ORIGIN": "https://localhost"}


def test_production_refuses_to_start_without_staff_second_factor_settings():
    settings = {"ENV_NAME": "production", "DATABASE_URL": "sqlite://", "SECRET_KEY": "s" * 32,
                "CPR_KEY": "x1Yq2cQ2m0m4ZQ0cR6oZ8k7P1tq9xkq9b3m8hO2d5yA=", "CODE_SENDER": "smtp",
                **STAFF_SETTINGS}
    with pytest.raises(ConfigError, match="JOBLOG_TOTP_KEY"):
        create_app({**settings, "TOTP_KEY": ""})
    with pytest.raises(ConfigError, match="JOBLOG_CPR_INDEX_KEY"):
        create_app({**settings, "CPR_INDEX_KEY": ""})
    with pytest.raises(ConfigError, match="JOBLOG_OIDC_ISSUER must be an https"):
        create_app({**settings, "OIDC_ISSUER": "http://broker.example", "OIDC_CLIENT_ID": "x"})
    with pytest.raises(ConfigError, match="JOBLOG_WEBAUTHN_RP_ID"):
        create_app({**settings, "WEBAUTHN_ORIGIN": ""})


def test_production_refuses_to_start_without_a_secret(monkeypatch):
    monkeypatch.delenv("JOBLOG_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        create_app({"ENV_NAME": "production", "DATABASE_URL": "sqlite://"})


def test_production_refuses_to_write_login_codes_to_the_log():
    settings = {"ENV_NAME": "production", "DATABASE_URL": "sqlite://", "SECRET_KEY": "s" * 32,
                "CPR_KEY": "x1Yq2cQ2m0m4ZQ0cR6oZ8k7P1tq9xkq9b3m8hO2d5yA=", **STAFF_SETTINGS}
    with pytest.raises(ConfigError, match="JOBLOG_CODE_SENDER"):
        create_app({**settings, "CODE_SENDER": "log"})
    with pytest.raises(ConfigError, match="log, smtp, sms"):
        create_app({**settings, "CODE_SENDER": "sms-gateway-not-built"})
    assert create_app({**settings, "CODE_SENDER": "smtp"}).config["CODE_SENDER"] == "smtp"
    # SMS needs its gateway; with it, phone numbers work in production (tests/auth/test_sms.py).
    with pytest.raises(ConfigError, match="JOBLOG_SMS_URL"):
        create_app({**settings, "CODE_SENDER": "smtp,sms"})
    assert create_app({**settings, "CODE_SENDER": "smtp,sms", "SMS_URL": "https://sms.example",
                       "SMS_TOKEN": "t"}).config["CODE_SENDER"] == "smtp,sms"
    # Benchmarks on throw-away data say so explicitly.
    assert create_app({**settings, "CODE_SENDER": "log", "INSECURE_LOG_CODES": True})


def test_production_sets_hsts_and_host_cookie(database_url):
    app = make_app(database_url, ENV_NAME="production", CODE_SENDER="smtp",
                   CPR_KEY="x1Yq2cQ2m0m4ZQ0cR6oZ8k7P1tq9xkq9b3m8hO2d5yA=", **STAFF_SETTINGS)
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    r = app.test_client().get("/login", base_url="https://localhost")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_state_change_without_csrf_is_403_and_saves_nothing(logged_in):
    r = logged_in.post("/activities/new/application",
                       {"organisation": "Netto", "title": "Kasse"}, csrf=False)
    assert r.status_code == 403
    r = logged_in.post("/activities/new/application",
                       {"organisation": "Netto", "title": "Kasse", "csrf_token": "forged"},
                       csrf=False)
    assert r.status_code == 403
    assert "Netto" not in logged_in.get("/activities/history").get_data(as_text=True)


def test_csrf_token_of_another_session_is_refused(app, client, make_citizen, outbox):
    other = type(client)(app.test_client(), outbox)
    foreign_token = other.csrf_token()
    client.login(make_citizen())
    r = client.post("/activities/new/application",
                    {"organisation": "Netto", "title": "Kasse", "csrf_token": foreign_token},
                    csrf=False)
    assert r.status_code == 403


def test_another_citizens_entry_is_404_everywhere(client, make_citizen):
    owner, intruder = make_citizen(), make_citizen()
    client.login(owner)
    client.new_entry("application", organisation="Hemmelig ApS", title="Kasse",
                     occurred_on=today().isoformat(), method="advertised", status="applied")
    history = client.get(f"/activities/history?month={today():%Y-%m}").get_data(as_text=True)
    activity_id = int(re.search(r"/activities/(\d+)/edit", history).group(1))
    client.post("/logout", htmx=False)
    client.login(intruder)
    for method, url in [
        ("get", f"/activities/{activity_id}/edit"),
        ("post", f"/activities/{activity_id}/edit"),
        ("get", f"/activities/{activity_id}/delete"),
        ("post", f"/activities/{activity_id}/delete"),
        ("post", f"/activities/{activity_id}/applied"),
        ("get", f"/activities/{activity_id}/then/coffee_meeting"),
    ]:
        r = client.get(url) if method == "get" else client.post(url, {}, htmx=False)
        assert r.status_code == 404, url
        assert "Hemmelig" not in r.get_data(as_text=True)


def test_pages_need_login(client):
    for url in ["/", "/activities/new/application", "/activities/history",
                "/activities/history/print", "/activities/1/edit"]:
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url
    r = client.get("/activities/history", headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["HX-Redirect"].endswith("/login")


def test_language_switch_is_not_an_open_redirect(client):
    r = client.post("/language", {"lang": "ar", "next": "https://evil.example/"}, htmx=False)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    r = client.post("/language", {"lang": "ar", "next": "//evil.example/"}, htmx=False)
    assert r.headers["Location"] == "/"


def test_server_ignores_a_client_sent_citizen_id(client, make_citizen):
    me, other = make_citizen(), make_citizen()
    client.login(me)
    client.new_entry("other", description="Jobmesse", occurred_on=today().isoformat(),
                     citizen_id=str(other.id), entered_by_id=str(other.id),
                     client_uuid=str(uuid.uuid4()))
    from joblog_app.activities.models import Activity
    from joblog_app.extensions import db
    a = db.session.scalar(db.select(Activity))
    assert a.citizen_id == me.id and a.entered_by_id == me.id


def test_a_save_after_the_cookies_were_cleared_leads_to_the_login_page(client):
    """Accessibility audit: a 403 "try again" after cleared cookies left no way to log in."""
    r = client.post("/activities/new/application", {"title": "Kasse"}, csrf=False)
    assert r.status_code == 401 and r.headers["HX-Redirect"] == "/login"
    r = client.post("/activities/new/application", {"title": "Kasse"}, csrf=False, htmx=False)
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
