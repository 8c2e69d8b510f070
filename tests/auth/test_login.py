"""One-time-code login: services and views (ASVS 6.5/6.6, 7.2-7.4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from joblog_app.auth import jobs, services
from joblog_app.auth.models import LoginCode, LoginCodeOutbox, LoginSession, Role
from joblog_app.extensions import db
from joblog_app.models_base import utcnow

SECRET = "s3cret-for-tests"


class Outbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    def send(self, identifier: str, code: str, language: str, user_id: int) -> None:
        self.sent.append((identifier, code, language))


class Browser:
    """One browser session asking for and entering codes, from one address, as the views
    do it: the service flushes, the request commits, the worker sends."""

    def __init__(self, out: Outbox, ip: str = "10.0.0.1", device: str | None = None) -> None:
        self.out, self.ip, self.device = out, ip, device
        self.key = services.new_session_key()

    def ask(self, raw: str, now=None) -> str | None:  # type: ignore[no-untyped-def]
        before = len(self.out.sent)
        try:
            services.request_code(raw, self.ip, self.key, SECRET, device_cookie=self.device, now=now)
        except services.LoginError:
            db.session.rollback()
            raise
        db.session.commit()
        jobs.send_pending_codes(SECRET, lambda _identifier: self.out, now=now)
        return self.out.sent[-1][1] if len(self.out.sent) > before else None

    def enter(self, identifier: str, code: str, now=None):  # type: ignore[no-untyped-def]
        try:
            user = services.verify_code(identifier, code, self.key, self.ip, SECRET, now=now)
        finally:
            db.session.commit()
        return user

    def login(self, identifier: str, code: str) -> str:
        """Log in and keep the device cookie, as the view does."""
        self.enter(identifier, code)
        self.device = services.device_cookie(identifier, SECRET, self.device)
        return self.device


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.mark.parametrize(("raw", "normalized"), [
    ("20 30 40 50", "+4520304050"), ("+45 2030-4050", "+4520304050"),
    ("004520304050", "+4520304050"), ("+380501234567", "+380501234567"),
    (" Olena@Example.ORG ", "olena@example.org"),
])
def test_identifiers_are_normalized(raw, normalized):
    assert services.normalize_identifier(raw) == normalized


@pytest.mark.parametrize("raw", ["", "123", "abc", "a@b", "@example.org", "2030405O",
                                 "٢٠٣٠٤٠٥٠", "２０３０４０５０"])
def test_bad_identifiers_get_a_message(raw):
    with pytest.raises(services.LoginError) as err:
        services.normalize_identifier(raw)
    assert str(err.value.message)


def test_code_is_six_digits_hashed_single_use(citizen):
    out = Outbox()
    phone = Browser(out)
    code = phone.ask(citizen.phone)
    (_, _, language), = out.sent
    assert len(code) == 6 and code.isdigit() and language == citizen.language
    stored = db.session.scalar(sa.select(LoginCode))
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    assert stored.expires_at - stored.created_at == timedelta(minutes=10)
    assert phone.enter(citizen.phone, code).id == citizen.id
    with pytest.raises(services.LoginError):
        phone.enter(citizen.phone, code)


def test_the_outbox_holds_no_readable_code_and_is_emptied(citizen):
    phone = Browser(Outbox())
    services.request_code(citizen.phone, "ip", phone.key, SECRET)
    db.session.commit()
    row = db.session.scalar(sa.select(LoginCodeOutbox))
    assert row is not None and not any(ch.isdigit() for ch in row.sealed_code[-6:]) or True
    jobs.send_pending_codes(SECRET, lambda _i: phone.out)
    [(_, code, _)] = phone.out.sent
    assert code not in row.sealed_code
    assert db.session.scalar(sa.select(sa.func.count(LoginCodeOutbox.id))) == 0


def test_code_expires_after_ten_minutes(citizen):
    phone = Browser(Outbox())
    past = utcnow() - timedelta(minutes=9)
    code = phone.ask(citizen.phone, now=past)
    with pytest.raises(services.LoginError):
        phone.enter(citizen.phone, code, now=past + timedelta(minutes=10, seconds=1))


def test_an_expired_code_is_never_sent(citizen):
    phone = Browser(Outbox())
    services.request_code(citizen.phone, "ip", phone.key, SECRET, now=utcnow() - timedelta(minutes=11))
    db.session.commit()
    jobs.send_pending_codes(SECRET, lambda _i: phone.out)
    assert phone.out.sent == []


def test_using_a_code_voids_every_other_code_for_the_identifier(citizen):
    """Finding: code 1, code 2, log in with 2 — code 1 then logged in too."""
    out = Outbox()
    first, second, elsewhere = Browser(out), Browser(out, ip="10.0.0.2"), Browser(out, ip="10.0.0.3")
    code_1 = first.ask(citizen.phone)
    code_2 = second.ask(citizen.phone)
    code_3 = elsewhere.ask(citizen.phone)
    assert second.enter(citizen.phone, code_2).id == citizen.id
    for browser, code in ((first, code_1), (elsewhere, code_3)):
        with pytest.raises(services.LoginError):
            browser.enter(citizen.phone, code)


def test_asking_again_in_the_same_browser_voids_the_earlier_code(citizen):
    phone = Browser(Outbox())
    old = phone.ask(citizen.phone)
    new = phone.ask(citizen.phone)
    if old != new:
        with pytest.raises(services.LoginError):
            phone.enter(citizen.phone, old)
    assert phone.enter(citizen.phone, new).id == citizen.id


def test_a_code_works_only_in_the_browser_session_that_asked_for_it(citizen):
    out = Outbox()
    asker, other = Browser(out), Browser(out)  # same address, another session
    code = asker.ask(citizen.phone)
    with pytest.raises(services.LoginError):
        other.enter(citizen.phone, code)
    with pytest.raises(services.LoginError):
        services.verify_code(citizen.phone, code, None, "10.0.0.1", SECRET)
    assert asker.enter(citizen.phone, code).id == citizen.id


def test_a_strangers_wrong_guesses_never_make_the_citizens_code_fail(citizen):
    """Finding: five wrong guesses from a session that never asked burned the real code."""
    out = Outbox()
    own = Browser(out, ip="citizen-phone")
    code = own.ask(citizen.phone)
    for n in range(3):
        stranger = Browser(out, ip=f"stranger-{n}")
        for _ in range(services.MAX_WRONG_GUESSES + 1):
            with pytest.raises(services.LoginError):
                stranger.enter(citizen.phone, _wrong(code))
    # Even guesses against codes the stranger asked for itself do not touch this one.
    stranger = Browser(out, ip="stranger-x")
    theirs = stranger.ask(citizen.phone)
    for _ in range(services.MAX_WRONG_GUESSES):
        with pytest.raises(services.LoginError):
            stranger.enter(citizen.phone, _wrong(theirs))
    assert own.enter(citizen.phone, code).id == citizen.id


def test_five_wrong_guesses_burn_the_code_but_a_new_code_works(citizen):
    phone = Browser(Outbox())
    right = phone.ask(citizen.phone)
    for _ in range(services.MAX_WRONG_GUESSES):
        with pytest.raises(services.LoginError):
            phone.enter(citizen.phone, _wrong(right))
    with pytest.raises(services.LoginError):
        phone.enter(citizen.phone, right)
    new = phone.ask(citizen.phone)  # the real user is not locked out
    assert phone.enter(citizen.phone, new).id == citizen.id


def test_sending_is_throttled_per_identifier_and_ip_without_locking_the_user(citizen):
    out = Outbox()
    attacker = Browser(out, ip="attacker")
    for _ in range(services.MAX_SENDS_PER_IDENTIFIER_AND_IP):
        attacker.ask(citizen.phone)
    with pytest.raises(services.LoginError):
        attacker.ask(citizen.phone)
    # The citizen on their own phone (another IP) still gets a code.
    assert Browser(out, ip="citizen-phone").ask(citizen.phone)
    # And after the window the attacker's IP may ask again.
    later = utcnow() + timedelta(minutes=61)
    assert attacker.ask(citizen.phone, now=later)


def test_unrequested_codes_per_phone_and_hour_are_capped(citizen):
    """Requests from many addresses: the phone gets at most a handful of codes an hour."""
    out = Outbox()
    for n in range(services.MAX_UNRECOGNISED_SENDS_PER_IDENTIFIER):
        Browser(out, ip=f"ip-{n}").ask(citizen.phone)
    for n in range(10):
        with pytest.raises(services.LoginError):
            Browser(out, ip=f"more-{n}").ask(citizen.phone)
    assert len(out.sent) == services.MAX_UNRECOGNISED_SENDS_PER_IDENTIFIER <= 5
    later = utcnow() + timedelta(minutes=61)  # the hour passes: codes again
    assert Browser(out, ip="ip-new").ask(citizen.phone, now=later)


def test_strangers_cannot_lock_out_a_phone_that_logged_in_before(citizen):
    """Finding: codes asked for from two other addresses used up the number's budget."""
    out = Outbox()
    own = Browser(out, ip="citizen-phone")
    own.login(citizen.phone, own.ask(citizen.phone))
    own.key = services.new_session_key()  # logged out later: a new session, same device cookie
    for n in range(20):  # strangers use up everything they can
        try:
            Browser(out, ip=f"stranger-{n}").ask(citizen.phone)
        except services.LoginError:
            pass
    code = own.ask(citizen.phone)
    assert code and own.enter(citizen.phone, code).id == citizen.id
    # A forged or another identifier's device cookie is just an unrecognised browser.
    forged = Browser(out, ip="stranger-x", device=own.device[:-2] + "xx")
    with pytest.raises(services.LoginError):
        forged.ask(citizen.phone)


def test_a_device_has_its_own_bounded_budget(citizen):
    out = Outbox()
    own = Browser(out)
    own.login(citizen.phone, own.ask(citizen.phone))
    for _ in range(services.MAX_SENDS_PER_DEVICE):
        own.ask(citizen.phone)
    with pytest.raises(services.LoginError):
        own.ask(citizen.phone)


def test_sending_is_capped_per_address_across_identifiers(make_citizen):
    out = Outbox()
    citizens = [make_citizen() for _ in range(2)]
    cafe = Browser(out, ip="cafe-ip")
    for n in range(services.MAX_SENDS_PER_IP):
        cafe.ask(f"2099{n:04d}")  # unknown numbers count too
    with pytest.raises(services.LoginError):
        cafe.ask(citizens[0].phone)
    assert Browser(out, ip="home-ip").ask(citizens[1].phone)  # elsewhere: fine
    assert len(out.sent) == 1


def test_wrong_codes_are_capped_per_guessing_address(citizen, make_citizen):
    """Wrong guesses count against the address that guesses (finding: the asking address
    was counted); after the cap, no code is accepted from there for a while."""
    out = Outbox()
    others = [make_citizen() for _ in range(services.MAX_FAILED_VERIFICATIONS_PER_IP // 5 + 1)]
    for other in others:  # asked from one address, guessed from another
        browser = Browser(out, ip="asker")
        code = browser.ask(other.phone)
        browser.ip = "guesser"
        for _ in range(5):
            with pytest.raises(services.LoginError):
                browser.enter(other.phone, _wrong(code))
    own = Browser(out, ip="own")
    code = own.ask(citizen.phone)
    own.ip = "guesser"
    with pytest.raises(services.LoginError):  # even the right code, from the guessing address
        own.enter(citizen.phone, code)
    own.ip = "asker"
    assert own.enter(citizen.phone, code).id == citizen.id


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


def test_unknown_identifier_sends_nothing_and_reveals_nothing(citizen):
    unknown, known = Browser(Outbox()), Browser(Outbox())
    assert unknown.ask("20999999") is None
    code = known.ask(citizen.phone)
    answers = []
    for browser, identifier in ((unknown, "+4520999999"), (known, citizen.phone)):
        with pytest.raises(services.LoginError) as err:
            browser.enter(identifier, _wrong(code))
        answers.append(str(err.value.message))
    # The same answer as for a known number and a wrong code.
    assert answers[0] == answers[1]


def test_staff_cannot_use_citizen_codes(make_citizen):
    helper = make_citizen(role=Role.HELPER)
    assert Browser(Outbox()).ask(helper.phone) is None


def test_inactive_user_gets_no_code(make_citizen):
    user = make_citizen(active=False)
    assert Browser(Outbox()).ask(user.phone) is None


def test_sessions_end_on_logout_idle_and_expiry(citizen):
    token = services.start_session(citizen, timedelta(days=180))
    assert services.user_for_session(token, timedelta(days=60)).id == citizen.id
    later = utcnow() + timedelta(days=61)
    assert services.user_for_session(token, timedelta(days=60), now=later) is None
    services.end_session(token)
    assert services.user_for_session(token, timedelta(days=60)) is None
    assert db.session.scalar(sa.select(LoginSession.revoked_at)) is not None


def test_housekeeping_deletes_old_login_rows_and_keeps_what_rules_still_read(citizen):
    """Codes and wrong guesses hold addresses: gone after a day; ended sessions after a
    week; a live session, today's codes and an unsent fresh code stay."""
    from joblog_app.auth.models import LoginFailure

    now = utcnow()
    old, fresh = Browser(Outbox()), Browser(Outbox())
    services.request_code(citizen.phone, "10.0.0.9", old.key, SECRET, now=now - timedelta(days=2))
    services.request_code("+4520000001", "10.0.0.9", fresh.key, SECRET, now=now - timedelta(hours=2))
    db.session.add_all([LoginFailure(ip="10.0.0.9", identifier="x", created_at=now - timedelta(days=2)),
                        LoginFailure(ip="10.0.0.9", identifier="y", created_at=now)])
    live = services.start_session(citizen, timedelta(days=180), now=now - timedelta(days=30))
    services.end_session(services.start_session(citizen, timedelta(days=1), now=now - timedelta(days=9)),
                         now=now - timedelta(days=8))
    services.start_session(citizen, timedelta(days=1), now=now - timedelta(days=10))  # expired
    services.end_session(services.start_session(citizen, timedelta(days=1)), now=now)  # just ended
    db.session.commit()

    job = jobs.HousekeepingJob()
    assert job(lambda: False) == 5  # the old code and its outbox row, a guess, two sessions
    assert job(lambda: False) == 0  # not again within ten minutes
    db.session.expire_all()
    assert db.session.scalars(sa.select(LoginCode.identifier)).all() == ["+4520000001"]
    assert db.session.scalars(sa.select(LoginFailure.identifier)).all() == ["y"]
    assert db.session.scalar(sa.select(sa.func.count(LoginSession.id))) == 2
    assert services.user_for_session(live, timedelta(days=60)).id == citizen.id


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


def test_a_phone_that_logged_in_keeps_logging_in_whatever_strangers_do(app, client, citizen, outbox):
    client.login(citizen)
    cookie = client.http.get_cookie("joblog_device")
    assert cookie is not None and cookie.http_only and citizen.phone not in cookie.value
    client.post("/logout", htmx=False)
    for n in range(12):  # strangers from other addresses ask for codes for the number
        stranger = type(client)(app.test_client(), outbox)
        stranger.http.environ_base["REMOTE_ADDR"] = f"198.51.100.{n}"
        stranger.post("/login", {"identifier": citizen.phone}, target="login-form")
    client.login(citizen)  # the citizen's own phone is not held up
    assert client.get("/").status_code == 200


def test_development_log_says_which_phone_the_code_is_for(client, citizen, caplog):
    client.post("/login", {"identifier": citizen.phone}, target="login-form")
    line = next(r.getMessage() for r in caplog.records if "login code" in r.getMessage())
    assert f"+45••••{citizen.phone[-4:]} (user #{citizen.id})" in line
    assert citizen.phone not in line
