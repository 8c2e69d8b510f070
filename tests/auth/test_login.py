"""One-time-code login: services and views (ASVS 6.5/6.6, 7.2-7.4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from joblog_app.auth import services
from joblog_app.auth.models import LoginCode, LoginSession, Role
from joblog_app.extensions import db
from joblog_app.models_base import utcnow

SECRET = "s3cret-for-tests"


class Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send(self, identifier: str, code: str, language: str, user_id: int) -> None:
        self.sent.append((identifier, code, language))


@pytest.mark.parametrize(("raw", "normalized"), [
    ("20 30 40 50", "+4520304050"), ("+45 2030-4050", "+4520304050"),
    ("004520304050", "+4520304050"), ("+380501234567", "+380501234567"),
    (" Olena@Example.ORG ", "olena@example.org"),
])
def test_identifiers_are_normalized(raw, normalized):
    assert services.normalize_identifier(raw) == normalized


@pytest.mark.parametrize("raw", ["", "123", "abc", "a@b", "@example.org", "2030405O"])
def test_bad_identifiers_get_a_message(raw):
    with pytest.raises(services.LoginError) as err:
        services.normalize_identifier(raw)
    assert str(err.value.message)


def test_code_is_six_digits_hashed_single_use(citizen):
    out = Outbox()
    services.request_code(citizen.phone, "10.0.0.1", SECRET, out)
    (_, code, language), = out.sent
    assert len(code) == 6 and code.isdigit() and language == citizen.language
    stored = db.session.scalar(sa.select(LoginCode))
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    assert stored.expires_at - stored.created_at == timedelta(minutes=10)
    assert services.verify_code(citizen.phone, code, "10.0.0.1", SECRET).id == citizen.id
    with pytest.raises(services.LoginError):
        services.verify_code(citizen.phone, code, "10.0.0.1", SECRET)


def test_code_expires_after_ten_minutes(citizen):
    out = Outbox()
    past = utcnow() - timedelta(minutes=11)
    services.request_code(citizen.phone, "ip", SECRET, out, now=past)
    with pytest.raises(services.LoginError):
        services.verify_code(citizen.phone, out.sent[0][1], "ip", SECRET)


def test_five_wrong_guesses_burn_the_code_but_a_new_code_works(citizen):
    out = Outbox()
    services.request_code(citizen.phone, "ip", SECRET, out)
    right = out.sent[-1][1]
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(5):
        with pytest.raises(services.LoginError):
            services.verify_code(citizen.phone, wrong, "ip", SECRET)
    with pytest.raises(services.LoginError):
        services.verify_code(citizen.phone, right, "ip", SECRET)
    services.request_code(citizen.phone, "ip", SECRET, out)  # the real user is not locked out
    assert services.verify_code(citizen.phone, out.sent[-1][1], "ip", SECRET).id == citizen.id


def test_sending_is_throttled_per_identifier_and_ip_without_locking_the_user(citizen):
    out = Outbox()
    for _ in range(3):
        services.request_code(citizen.phone, "attacker", SECRET, out)
    with pytest.raises(services.LoginError):
        services.request_code(citizen.phone, "attacker", SECRET, out)
    # The citizen on their own phone (another IP) still gets a code.
    services.request_code(citizen.phone, "citizen-phone", SECRET, out)
    assert len(out.sent) == 4
    # And after the window the attacker's IP may ask again.
    later = utcnow() + timedelta(minutes=16)
    services.request_code(citizen.phone, "attacker", SECRET, out, now=later)


def test_sending_is_capped_per_identifier_across_addresses(citizen):
    out = Outbox()
    for n in range(services.MAX_SENDS_PER_IDENTIFIER):
        services.request_code(citizen.phone, f"ip-{n}", SECRET, out)
    with pytest.raises(services.LoginError):
        services.request_code(citizen.phone, "ip-new", SECRET, out)
    later = utcnow() + timedelta(minutes=16)  # the window passes: codes again
    services.request_code(citizen.phone, "ip-new", SECRET, out, now=later)


def test_sending_is_capped_per_address_across_identifiers(make_citizen):
    out = Outbox()
    citizens = [make_citizen() for _ in range(2)]
    for n in range(services.MAX_SENDS_PER_IP):
        services.request_code(f"2099{n:04d}", "cafe-ip", SECRET, out)  # unknown numbers count too
    with pytest.raises(services.LoginError):
        services.request_code(citizens[0].phone, "cafe-ip", SECRET, out)
    services.request_code(citizens[1].phone, "home-ip", SECRET, out)  # elsewhere: fine
    assert len(out.sent) == 1


def test_wrong_codes_are_capped_per_address(citizen, make_citizen):
    """Codes asked for from one address and guessed wrong there: after the cap, no code is
    accepted from that address for a while; the citizen elsewhere is not affected."""
    out = Outbox()
    others = [make_citizen() for _ in range(services.MAX_FAILED_VERIFICATIONS_PER_IP // 5 + 1)]
    for other in others:  # five wrong guesses each: below the per-code limit every time
        services.request_code(other.phone, "guesser", SECRET, out)
        for _ in range(5):
            with pytest.raises(services.LoginError):
                services.verify_code(other.phone, "000000", "guesser", SECRET)
    services.request_code(citizen.phone, "own", SECRET, out)
    with pytest.raises(services.LoginError):  # even the right code, from the guessing address
        services.verify_code(citizen.phone, out.sent[-1][1], "guesser", SECRET)
    assert services.verify_code(citizen.phone, out.sent[-1][1], "own", SECRET).id == citizen.id


@pytest.mark.parametrize(("hops", "expected"), [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_proxy_hops_make_the_forwarded_address_the_client(database_url, hops, expected):
    from flask import request

    from tests.conftest import make_app

    app = make_app(database_url, PROXY_HOPS=hops)
    seen: dict[str, str | None] = {}

    @app.get("/_whoami")
    def whoami():  # type: ignore[no-untyped-def]
        seen["ip"] = request.remote_addr
        return ""

    app.test_client().get("/_whoami", headers={"X-Forwarded-For": "203.0.113.7"},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert seen["ip"] == expected


def test_unknown_identifier_sends_nothing_and_reveals_nothing(app_ctx):
    out = Outbox()
    result = services.request_code("20999999", "ip", SECRET, out)
    assert not result.sent and out.sent == []
    with pytest.raises(services.LoginError) as err:
        services.verify_code("+4520999999", "123456", "ip", SECRET)
    # The same answer as for an expired code: nothing tells whether the number is known.
    assert "ny kode" in str(err.value.message)


def test_staff_cannot_use_citizen_codes(make_citizen):
    helper = make_citizen(role=Role.HELPER)
    out = Outbox()
    assert not services.request_code(helper.phone, "ip", SECRET, out).sent


def test_inactive_user_gets_no_code(make_citizen):
    user = make_citizen(active=False)
    out = Outbox()
    assert not services.request_code(user.phone, "ip", SECRET, out).sent


def test_sessions_end_on_logout_idle_and_expiry(citizen):
    token = services.start_session(citizen, timedelta(days=180))
    assert services.user_for_session(token, timedelta(days=60)).id == citizen.id
    later = utcnow() + timedelta(days=61)
    assert services.user_for_session(token, timedelta(days=60), now=later) is None
    services.end_session(token)
    assert services.user_for_session(token, timedelta(days=60)) is None
    assert db.session.scalar(sa.select(LoginSession.revoked_at)) is not None


# -- views ------------------------------------------------------------------

def test_login_flow_and_new_session(client, citizen, outbox):
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    before = client.http.get_cookie("session")
    client.login(citizen)
    after = client.http.get_cookie("session")
    assert after is not None and (before is None or before.value != after.value)
    assert after.http_only and after.same_site == "Lax"
    home = client.get("/")
    assert home.status_code == 200 and home.headers["Cache-Control"] == "no-store"


def test_login_code_page_needs_a_pending_login(client):
    assert client.get("/login/code").status_code == 302


def test_wrong_code_is_a_422_with_a_message(client, citizen, outbox):
    client.post("/login", {"identifier": citizen.phone}, target="login-form")
    r = client.post("/login/code", {"code": "12"}, target="code-form")
    assert r.status_code == 422 and 'aria-invalid="true"' in r.get_data(as_text=True)
    assert "<html" not in r.get_data(as_text=True)  # a fragment, not a page


def test_bad_identifier_is_a_422_fragment(client):
    r = client.post("/login", {"identifier": "abc"}, target="login-form")
    assert r.status_code == 422 and 'id="identifier-error"' in r.get_data(as_text=True)


def test_logout_ends_the_session_server_side(client, citizen):
    client.login(citizen)
    stolen = client.http.get_cookie("session").value
    r = client.post("/logout", htmx=False)
    assert r.status_code == 303
    client.http.set_cookie("session", stolen)  # replaying the old cookie does not work
    assert client.get("/").status_code == 302


def test_disabling_a_user_ends_their_sessions(client, citizen):
    client.login(citizen)
    citizen.is_active = False
    db.session.commit()
    assert client.get("/").status_code == 302
