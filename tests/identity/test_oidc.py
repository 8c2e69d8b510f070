"""Login through an OpenID Connect provider against a real, certified one (npm oidc-provider,
tests/support/oidc_provider): the citizen matched through the CPR blind index, the session a
code login makes, RP-initiated logout, staff with and without a second factor in ``amr``,
and every refusal: a clear localized page, no session, logged without the CPR number."""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import sqlalchemy as sa

from joblog_app.audit.models import AuditEntry
from joblog_app.auth.models import LoginSession, Role, User
from joblog_app.citizens.services import store_cpr
from joblog_app.core.security import csp_for
from joblog_app.extensions import db
from joblog_app.identity import services
from tests.support.oidc_provider import (
    CPR_CLAIM,
    LOA_CLAIM,
    SUBSTANTIAL,
    LocalProvider,
    login_at_provider,
    new_key,
)

CALLBACK = "http://localhost/login/oidc/callback"
CPR = "0101901111"  # the test provider's "citizen" and "low-level" identities
STRANGER_CPR = "0201902222"


@pytest.fixture(scope="module")
def provider():  # type: ignore[no-untyped-def]
    local = LocalProvider([CALLBACK], ["http://localhost/login"]).start()
    yield local
    local.stop()


@pytest.fixture
def oidc(app, app_ctx, provider, caplog):  # type: ignore[no-untyped-def]
    app.config.update(provider.settings(), OIDC_STAFF=True)
    app.config["CSP"] = csp_for(app.config)
    services.forget_cached()
    caplog.set_level(logging.INFO)
    return provider


@pytest.fixture
def olena(make_citizen):  # type: ignore[no-untyped-def]
    user = make_citizen(language="uk")
    store_cpr(user.id, CPR)
    db.session.commit()
    return user.id


def _start(client) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    r = client.get("/login/mitid")
    assert r.status_code == 303
    url = r.headers["Location"]
    return url, {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def _callback(client, url: str, language: str = "en"):  # type: ignore[no-untyped-def]
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}", headers={"Accept-Language": language})


def _sessions() -> int:
    return db.session.scalar(sa.select(sa.func.count(LoginSession.id))) or 0


def _assert_refused(client, r, status: int, text: str, reason: str, caplog) -> None:  # type: ignore[no-untyped-def]
    page = r.get_data(as_text=True)
    assert r.status_code == status, page
    assert text in page
    assert f"oidc login refused reason={reason}" in caplog.text
    db.session.remove()
    assert _sessions() == 0
    assert client.get("/").status_code == 302  # not logged in
    for number in (CPR, STRANGER_CPR, CPR[:6], STRANGER_CPR[:6]):
        assert number not in caplog.text
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_login_page_offers_mitid_only_when_a_provider_is_configured(app, client, provider):
    assert "/login/mitid" not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/mitid").status_code == 404
    assert client.get("/login/oidc/callback?state=x&code=y").status_code == 404
    app.config.update(provider.settings())
    page = client.get("/login", headers={"Accept-Language": "da"}).get_data(as_text=True)
    assert "/login/mitid" in page and "Log ind med MitID" in page


def test_a_citizen_logs_in_with_mitid_and_logging_out_ends_the_brokers_session(
        app, client, oidc, olena, caplog):
    url, query = _start(client)
    assert url.startswith(oidc.issuer + "/auth?")
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["client_id"] == "joblog" and query["redirect_uri"] == CALLBACK
    assert len(query["state"]) >= 40 and len(query["nonce"]) >= 40
    callback = login_at_provider(url, "citizen", until=CALLBACK)
    assert CPR not in callback and CPR[:6] not in callback
    r = _callback(client, callback)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    db.session.remove()
    [row] = db.session.scalars(sa.select(LoginSession)).all()
    assert row.user_id == olena
    home = client.get("/")
    assert home.status_code == 200 and 'lang="uk"' in home.get_data(as_text=True)
    assert f"login ok user={olena} method=oidc" in caplog.text
    assert CPR not in caplog.text and CPR[:6] not in caplog.text
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0

    r = client.post("/logout", {}, htmx=False)
    assert r.status_code == 303
    logout = urlsplit(r.headers["Location"])
    assert f"{logout.scheme}://{logout.netloc}{logout.path}" == oidc.issuer + "/session/end"
    params = parse_qs(logout.query)
    assert params == {"client_id": ["joblog"], "post_logout_redirect_uri": ["http://localhost/login"]}
    db.session.remove()
    assert db.session.scalars(sa.select(LoginSession)).one().revoked_at is not None
    # The page's policy lets the logout form lead on to the provider.
    assert f"form-action 'self' {oidc.issuer}" in home.headers["Content-Security-Policy"]


def test_a_wrong_state_is_refused(app, client, oidc, olena, caplog):
    url, _query = _start(client)
    callback = login_at_provider(url, "citizen", until=CALLBACK)
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = "forged-" + query["state"][7:]
    r = _callback(client, urlunsplit(parts._replace(query=urlencode(query))))
    _assert_refused(client, r, 400, "Start the login again", "state", caplog)


def test_an_answer_without_a_login_started_in_this_browser_is_refused(app, client, oidc, caplog):
    r = _callback(client, "/login/oidc/callback?state=abc&code=def")
    _assert_refused(client, r, 400, "started in another window", "state", caplog)


def test_a_wrong_nonce_is_refused(app, client, oidc, olena, caplog):
    url, query = _start(client)
    # The provider is asked for another nonce than the one this browser keeps.
    query["nonce"] = "another-nonce-" + query["nonce"][14:]
    tampered = urlunsplit(urlsplit(url)._replace(query=urlencode(query)))
    r = _callback(client, login_at_provider(tampered, "citizen", until=CALLBACK))
    _assert_refused(client, r, 403, "We could not check your login with MitID", "token", caplog)
    assert "nonce is not the one sent" in caplog.text


def test_too_low_an_assurance_level_is_refused(app, client, oidc, olena, caplog):
    url, _query = _start(client)
    r = _callback(client, login_at_provider(url, "low-level", until=CALLBACK))
    _assert_refused(client, r, 403, "not safe enough", "level", caplog)


def test_an_unknown_cpr_number_gets_what_to_do_and_nothing_is_created(app, client, oidc, olena,
                                                                       caplog):
    users = db.session.scalar(sa.select(sa.func.count(User.id)))
    url, _query = _start(client)
    r = _callback(client, login_at_provider(url, "stranger", until=CALLBACK), language="da")
    _assert_refused(client, r, 403, "Dit jobcenter har ikke skrevet dig op", "unknown_cpr", caplog)
    assert "jobcafé" in r.get_data(as_text=True)  # what to do
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == users


def test_the_provider_stopping_the_login_is_refused(app, client, oidc, caplog):
    _url, query = _start(client)
    r = _callback(client, f"/login/oidc/callback?error=access_denied&state={query['state']}")
    _assert_refused(client, r, 403, "was stopped", "provider", caplog)


def _hand_built(client, provider, monkeypatch, key=None, **overrides):  # type: ignore[no-untyped-def]
    """The callback of a login whose ID token is built here and signed with the provider's
    key (or ``key``): discovery and JWKS still come from the real provider."""
    _url, query = _start(client)
    now = int(time.time())
    claims = {"iss": provider.issuer, "aud": "joblog", "sub": "citizen", "iat": now,
              "exp": now + 600, "nonce": query["nonce"], CPR_CLAIM: CPR, LOA_CLAIM: SUBSTANTIAL,
              **overrides}
    token = provider.sign(claims, key)
    monkeypatch.setattr(services, "exchange_code", lambda *args: {"id_token": token})
    return _callback(client, f"/login/oidc/callback?state={query['state']}&code=hand-built")


def test_a_hand_built_token_signed_by_the_provider_logs_in(app, client, oidc, olena,
                                                           monkeypatch):
    """The control for the three below: the harness itself is not what refuses."""
    r = _hand_built(client, oidc, monkeypatch)
    assert r.status_code == 303 and r.headers["Location"] == "/"


def test_an_expired_id_token_is_refused(app, client, oidc, olena, monkeypatch, caplog):
    r = _hand_built(client, oidc, monkeypatch, iat=int(time.time()) - 7200,
                    exp=int(time.time()) - 3600)
    _assert_refused(client, r, 403, "The login took too long", "expired", caplog)


def test_an_id_token_for_another_audience_is_refused(app, client, oidc, olena, monkeypatch,
                                                     caplog):
    r = _hand_built(client, oidc, monkeypatch, aud="another-service")
    _assert_refused(client, r, 403, "We could not check your login", "token", caplog)
    assert "aud is not this client" in caplog.text


def test_an_id_token_signed_by_another_key_is_refused(app, client, oidc, olena, monkeypatch,
                                                      caplog):
    r = _hand_built(client, oidc, monkeypatch, key=new_key("provider-key-1"))  # same kid
    _assert_refused(client, r, 403, "We could not check your login", "token", caplog)
    assert "signature" in caplog.text


def test_staff_with_a_second_factor_in_amr_skip_the_passkey_step(app, client, oidc,
                                                                 make_citizen):
    hanne = make_citizen(role=Role.HELPER, email="hanne@kommune.example").id
    r = client.get("/login/sso")
    assert r.status_code == 303
    r = _callback(client, login_at_provider(r.headers["Location"], "helper-mfa", until=CALLBACK))
    assert r.status_code == 303 and r.headers["Location"] == "/staff"
    db.session.remove()
    row = db.session.scalars(sa.select(LoginSession)).one()
    assert row.user_id == hanne and row.second_factor_at is not None
    assert client.get("/staff").status_code == 200


def test_staff_without_a_second_factor_in_amr_are_still_asked_for_it(app, client, oidc,
                                                                     make_citizen):
    make_citizen(role=Role.HELPER, email="hanne@kommune.example")
    r = client.get("/login/sso")
    r = _callback(client, login_at_provider(r.headers["Location"], "helper-pwd", until=CALLBACK))
    assert r.status_code == 303 and r.headers["Location"] == "/login/second-factor"
    db.session.remove()
    assert db.session.scalars(sa.select(LoginSession)).one().second_factor_at is None
    assert client.get("/staff").status_code == 302


def test_a_citizens_identity_never_opens_a_staff_session(app, client, oidc, olena, caplog):
    r = client.get("/login/sso")
    r = _callback(client, login_at_provider(r.headers["Location"], "citizen", until=CALLBACK))
    _assert_refused(client, r, 403, "no staff account", "staff_unknown", caplog)


def test_a_broker_that_does_not_answer_gets_a_clear_page(app, app_ctx, client, caplog):
    from tests.support.oidc_provider import free_port

    app.config.update(OIDC_ISSUER=f"http://127.0.0.1:{free_port()}", OIDC_CLIENT_ID="joblog",
                      OIDC_TIMEOUT=2)
    services.forget_cached()
    r = client.get("/login/mitid", headers={"Accept-Language": "en"})
    assert r.status_code == 503 and "does not work just now" in r.get_data(as_text=True)
    assert "oidc login refused reason=unavailable" in caplog.text
