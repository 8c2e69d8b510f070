"""Staff login: the e-mail code, then a second factor on the same session row (passkey,
authenticator app or recovery code), enrolment on the first login, staff session limits."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa
from flask import current_app

from joblog_app.auth import jobs, services
from joblog_app.auth import second_factor as factors
from joblog_app.auth.models import LoginSession, Role, StaffPasskey, StaffTotp, User
from joblog_app.extensions import db
from joblog_app.models_base import utcnow

SECRET = "s3cret-for-tests"
RP = factors.RelyingParty(id="localhost", name="Joblog", origin="http://localhost")


def key() -> str:
    return current_app.config["TOTP_KEY"]  # type: ignore[no-any-return]


@pytest.fixture
def helper(make_citizen) -> User:  # type: ignore[no-untyped-def]
    return make_citizen(role=Role.HELPER, email="hanne@example.org", phone=None)


def _session(user: User, now=None) -> LoginSession:  # type: ignore[no-untyped-def]
    token = services.start_session(user, timedelta(hours=12), now=now)
    return services.session_for_token(token, timedelta(days=60), now=now)[1]  # type: ignore[index]


def _enrol_app(user: User, now=None) -> str:  # type: ignore[no-untyped-def]
    now = now or utcnow()
    secret = factors.begin_totp(user.id, key(), now=now)
    factors.confirm_totp(_session(user, now), pyotp.TOTP(secret).at(now), key(), now=now)
    return secret


# -- services ---------------------------------------------------------------------------

def test_staff_receive_codes_by_email_only(helper, make_citizen):
    sent: list[str] = []

    class Out:
        def send(self, identifier, code, language, user_id):  # type: ignore[no-untyped-def]
            sent.append(identifier)

    services.request_code("hanne@example.org", "ip", services.new_session_key(), SECRET)
    phoned = make_citizen(role=Role.CASEWORKER, phone="+4529999999")
    services.request_code(phoned.phone[3:], "ip", services.new_session_key(), SECRET)
    jobs.send_pending_codes(SECRET, lambda _identifier: Out())
    assert sent == ["hanne@example.org"]  # the caseworker's phone number got nothing
    assert services.find_citizen("hanne@example.org") is None  # the citizen look-up stays so


def test_app_enrolment_then_codes_once_per_step(helper):
    now = utcnow()
    secret = _enrol_app(helper, now)
    stored = db.session.get(StaffTotp, helper.id)
    assert stored.confirmed_at is not None and secret not in stored.secret_encrypted
    later = now + timedelta(seconds=90)
    code = pyotp.TOTP(secret).at(later)
    row = _session(helper, later)
    factors.verify_totp(row, code, key(), now=later)
    assert row.second_factor_at == later
    replay = _session(helper, later)
    with pytest.raises(factors.SecondFactorError):  # the same code again, same step: refused
        factors.verify_totp(replay, code, key(), now=later)
    assert replay.second_factor_at is None and replay.second_factor_failures == 1


def test_a_wrong_app_code_is_refused_and_five_end_the_session(helper):
    now = utcnow()
    secret = _enrol_app(helper, now)
    row = _session(helper, now)
    right = pyotp.TOTP(secret).at(now + timedelta(minutes=5))
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(factors.MAX_FAILURES):
        with pytest.raises(factors.SecondFactorError) as err:
            factors.verify_totp(row, wrong, key(), now=now + timedelta(minutes=5))
    assert "new e-mail code" in str(err.value.message) or "ny" in str(err.value.message)
    assert row.revoked_at is not None and row.second_factor_at is None
    with pytest.raises(factors.SecondFactorError):
        factors.verify_totp(row, "12", key())


def test_recovery_codes_are_ten_hashed_and_single_use(helper):
    codes = factors.new_recovery_codes(helper.id, SECRET)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert factors.factors_of(helper.id).recovery_codes_left == 10
    row = _session(helper)
    factors.use_recovery_code(row, codes[3].upper().replace("-", " "), SECRET)
    assert row.second_factor_at is not None
    again = _session(helper)
    with pytest.raises(factors.SecondFactorError):
        factors.use_recovery_code(again, codes[3], SECRET)
    assert again.second_factor_at is None
    assert factors.factors_of(helper.id).recovery_codes_left == 9
    factors.new_recovery_codes(helper.id, SECRET)  # new codes: the old ones stop working
    with pytest.raises(factors.SecondFactorError):
        factors.use_recovery_code(again, codes[0], SECRET)


def test_forged_passkey_answers_change_nothing(helper):
    row = _session(helper)
    json.loads(factors.registration_options(helper, RP, row))
    for forged in ("", "not json", "[]", json.dumps({"id": "AAAA", "rawId": "AAAA",
                                                      "type": "public-key", "response": {}})):
        factors.registration_options(helper, RP, row)
        with pytest.raises(factors.SecondFactorError):
            factors.register_passkey(helper, RP, row, forged)
    with pytest.raises(factors.SecondFactorError):  # no challenge pending: refused as well
        factors.authenticate_passkey(helper, RP, row, json.dumps({"id": "AAAA"}))
    assert db.session.scalar(sa.select(sa.func.count(StaffPasskey.id))) == 0
    assert row.second_factor_at is None and row.webauthn_challenge is None


def test_staff_sessions_end_after_30_idle_minutes_and_12_hours(helper, citizen):
    now = utcnow()
    staff_token = services.start_session(helper, timedelta(hours=12), now=now)
    citizen_token = services.start_session(citizen, timedelta(days=180), now=now)
    idle = now + timedelta(minutes=31)
    assert services.session_for_token(staff_token, timedelta(days=60), now=idle) is None
    assert services.session_for_token(citizen_token, timedelta(days=60), now=idle) is not None
    # Active all along (a visit every 20 minutes) still ends at 12 hours.
    token = services.start_session(helper, timedelta(hours=12), now=now)
    moment = now
    while moment < now + timedelta(hours=11, minutes=50):
        moment += timedelta(minutes=20)
        alive = services.session_for_token(token, timedelta(days=60), now=moment)
        assert (alive is not None) == (moment < now + timedelta(hours=12)), moment - now
        db.session.flush()
    assert services.session_for_token(token, timedelta(days=60),
                                      now=now + timedelta(hours=12, minutes=1)) is None


# -- views ------------------------------------------------------------------------------

def staff_login(client, user: User) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/login", {"identifier": user.email}, target="login-form")
    assert r.status_code == 200, r.get_data(as_text=True)
    r = client.post("/login/code", {"code": client.outbox.last_for(user.id)}, target="code-form")
    assert r.headers.get("HX-Redirect") == "/login/second-factor", r.get_data(as_text=True)


def enrol_app_through_pages(client) -> str:  # type: ignore[no-untyped-def]
    page = client.post("/login/second-factor/enrol/app", htmx=False).get_data(as_text=True)
    secret = re.search(r'<code class="secret" dir="ltr">([A-Z2-7]+)</code>', page).group(1)
    assert 'src="data:image/svg+xml' in page
    r = client.post("/login/second-factor/enrol/app/confirm",
                    {"code": pyotp.TOTP(secret).now()}, htmx=False)
    assert r.status_code == 303 and r.headers["Location"] == "/staff"
    return secret


def test_first_login_must_enrol_before_anything_else(client, helper):
    staff_login(client, helper)
    for url in ("/staff", "/"):
        r = client.get(url)
        assert r.status_code == 302 and r.headers["Location"] == "/login/second-factor"
    assert client.get("/sync/session").status_code == 401
    page = client.get("/login/second-factor").get_data(as_text=True)
    assert 'data-passkey="register"' in page and "/login/second-factor/enrol/app" in page
    enrol_app_through_pages(client)
    assert client.get("/staff").status_code == 200


def test_an_enrolled_user_cannot_add_a_factor_with_the_email_code_alone(client, helper):
    _enrol_app(helper)
    db.session.commit()
    staff_login(client, helper)
    r = client.post("/login/second-factor/enrol/app", htmx=False)
    assert r.status_code == 303 and r.headers["Location"] == "/login/second-factor"
    r = client.post("/login/second-factor/enrol/passkey/options", htmx=False)
    assert r.status_code == 403
    page = client.get("/login/second-factor").get_data(as_text=True)
    assert 'id="app-form"' in page and 'data-passkey="register"' not in page


def test_wrong_app_code_and_reused_recovery_code_get_a_clear_422(client, helper):
    secret = _enrol_app(helper)
    codes = factors.new_recovery_codes(helper.id, client.http.application.secret_key)
    db.session.commit()
    staff_login(client, helper)
    right = pyotp.TOTP(secret).now()
    r = client.post("/login/second-factor/app", {"code": f"{(int(right) + 1) % 10**6:06d}"},
                    htmx=False)
    assert r.status_code == 422 and 'aria-invalid="true"' in r.get_data(as_text=True)
    r = client.post("/login/second-factor/recovery", {"code": codes[0]}, htmx=False)
    assert r.status_code == 303 and client.get("/staff").status_code == 200
    client.post("/logout", htmx=False)
    staff_login(client, helper)
    r = client.post("/login/second-factor/recovery", {"code": codes[0]}, htmx=False)
    assert r.status_code == 422 and "recovery-code-error" in r.get_data(as_text=True)
    assert client.get("/staff").status_code == 302


def test_forged_passkey_is_a_json_422(client, helper):
    staff_login(client, helper)
    r = client.post("/login/second-factor/enrol/passkey/options", htmx=False)
    options = r.get_json()
    assert r.status_code == 200 and options["rp"]["id"] == "localhost"
    r = client.http.post("/login/second-factor/enrol/passkey",
                         data=json.dumps({"id": "AAAA", "response": {"clientDataJSON": "e30"}}),
                         headers={"X-CSRFToken": client.csrf_token(),
                                  "Content-Type": "application/json"})
    assert r.status_code == 422 and r.get_json()["status"] == "error"
    assert client.get("/staff").status_code == 302


def test_a_citizen_cannot_pass_as_staff(logged_in):
    assert logged_in.get("/login/second-factor").status_code == 403
    assert logged_in.post("/login/second-factor/enrol/app", htmx=False).status_code == 403
    assert logged_in.post("/login/second-factor/recovery", {"code": "x"},
                          htmx=False).status_code == 403
    assert logged_in.get("/staff").status_code == 403


def test_staff_without_csrf_token_change_nothing(client, helper):
    staff_login(client, helper)
    r = client.post("/login/second-factor/enrol/app", csrf=False, htmx=False)
    assert r.status_code == 403
    assert db.session.get(StaffTotp, helper.id) is None
