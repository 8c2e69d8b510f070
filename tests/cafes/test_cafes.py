"""Job cafés (issue 11): cafés, sessions and their rotating check-in code, check-in by code
or search, the session screen, the visit checklist, and pairing a phone — services on both
database engines, then the pages."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import current_app

from joblog_app.audit.models import AuditAction, AuditEntry, AuditOutcome
from joblog_app.auth.models import LoginSession, Municipality, Role, User
from joblog_app.cafes import services as cafes
from joblog_app.cafes.models import Cafe, CheckIn, ChecklistItem, PairingCode
from joblog_app.core.clock import today
from joblog_app.extensions import db
from joblog_app.models_base import utcnow
from joblog_app.permissions import Actor, Channel
from joblog_app.staff.services import disable_staff
from tests.conftest import Client
from tests.core.test_access import _login_as

CAFE_FORM = {"name": "Jobcafé Nord", "place": "Biblioteket", "weekday": "1", "opens": "10:00",
             "closes": "13:00", "languages": ["da", "uk"]}


@pytest.fixture
def helper(make_citizen) -> User:  # type: ignore[no-untyped-def]
    return make_citizen(role=Role.HELPER, email="helper@example.org", phone=None, language="en")


@pytest.fixture
def session(helper):  # type: ignore[no-untyped-def]
    cafe = cafes.create_cafe(helper.municipality_id, CAFE_FORM)
    opened = cafes.open_session(Actor.of(helper, Channel.ASSISTED), cafe, today())
    db.session.commit()
    return opened


def _audit() -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))


def _stranger_municipality() -> Municipality:
    other = Municipality(code="102", name="Anden Kommune")
    db.session.add(other)
    db.session.flush()
    return other


# --- Services ---------------------------------------------------------------------------
@pytest.mark.parametrize(("field", "change"), [
    ("name", {"name": ""}), ("name", {"name": "x" * 121}), ("place", {"place": "  "}),
    ("weekday", {"weekday": "7"}), ("weekday", {"weekday": "٣"}), ("opens", {"opens": "25:00"}),
    ("closes", {"closes": "09:00"}), ("languages", {"languages": ["fr"]}),
])
def test_a_wrong_cafe_form_names_the_field(app_ctx, municipality, field, change):
    with pytest.raises(cafes.CafeError) as refused:
        cafes.create_cafe(municipality.id, {**CAFE_FORM, **change})
    assert refused.value.field == field
    assert db.session.scalar(sa.select(sa.func.count(Cafe.id))) == 0


def test_each_session_has_its_own_code_and_closing_ends_it(app_ctx, helper, session):
    secret = current_app.secret_key
    token = cafes.checkin_token(session, secret)
    assert cafes.session_for_token(token, secret, today()) is session
    assert cafes.open_session(Actor.of(helper, Channel.ASSISTED), session.cafe, today()) is session
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (forged, "", "1", f"{session.id}.", "x." + token.split(".")[1], token + "x"):
        assert cafes.session_for_token(bad, secret, today()) is None, bad
    assert cafes.session_for_token(token, "another-secret", today()) is None
    assert cafes.session_for_token(token, secret, today() + timedelta(days=1)) is None
    cafes.close_session(session)
    assert cafes.session_for_token(token, secret, today()) is None
    again = cafes.open_session(Actor.of(helper, Channel.ASSISTED), session.cafe, today())
    assert again.id != session.id and cafes.checkin_token(again, secret) != token  # rotated


def test_checking_in_twice_is_one_check_in(app_ctx, session, citizen):
    first = cafes.check_in(session, citizen)
    second = cafes.check_in(session, citizen)
    db.session.commit()
    assert first.id == second.id
    assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) == 1


def test_search_finds_own_municipality_citizens_and_is_audited(app_ctx, helper, make_citizen):
    anna = make_citizen(phone="+4520304050")
    anna.name = "Anna 100%_Jensen"
    other = _stranger_municipality()
    db.session.add(User(name="Anna Fremmed", phone="+4520304051", municipality_id=other.id))
    db.session.commit()
    actor = Actor.of(helper, Channel.ASSISTED)
    assert cafes.search_citizens(actor, "20 30 40 50", "Jobcafé Nord") == [anna]
    assert cafes.search_citizens(actor, "anna", "Jobcafé Nord") == [anna]
    assert cafes.search_citizens(actor, "100%_", None) == [anna]
    assert cafes.search_citizens(actor, "%", None) == []  # too short: not even audited
    assert cafes.search_citizens(actor, "helper", None) == []  # staff are not found
    rows = _audit()
    assert [(r.action, r.search_term, r.citizen_id) for r in rows] == [
        (AuditAction.SEARCH, "20 30 40 50", None), (AuditAction.SEARCH, "anna", None),
        (AuditAction.SEARCH, "100%_", None), (AuditAction.SEARCH, "helper", None)]


def test_the_checklist_suggestions_text_and_limits(app_ctx, session, citizen):
    row = cafes.check_in(session, citizen)
    item = cafes.add_item(row, "cv")
    typed = cafes.add_item(row, "", "  Ring til \u202eNetto  ")
    assert (item.suggestion, item.text, typed.suggestion, typed.text) == (
        "cv", None, None, "Ring til Netto")
    for suggestion, text in (("", ""), ("nope", ""), ("", "x" * 81)):
        with pytest.raises(cafes.CafeError):
            cafes.add_item(row, suggestion, text)
    for _ in range(8):
        cafes.add_item(row, "coffee_meeting")
    with pytest.raises(cafes.CafeError):
        cafes.add_item(row, "cv")
    cafes.set_done(item, True)
    db.session.commit()
    visit = cafes.todays_visit(citizen.id, today())
    assert visit.cafe_name == "Jobcafé Nord" and len(visit.items) == 10
    assert visit.items[0].done_at is not None
    assert cafes.todays_visit(citizen.id, today() + timedelta(days=1)) is None


def test_the_session_screen_reads_are_audited_per_citizen(app_ctx, helper, session, make_citizen):
    here = [make_citizen(), make_citizen()]
    gone = make_citizen()
    for c in [*here, gone]:
        cafes.check_in(session, c)
    gone.is_active = False
    db.session.commit()
    people = cafes.visitors(Actor.of(helper, Channel.ASSISTED), session, today())
    assert [v.citizen.id for v in people] == [c.id for c in here]
    rows = _audit()
    assert [(r.action, r.citizen_id, r.unit) for r in rows] == [
        (AuditAction.READ, c.id, "Jobcafé Nord") for c in here]


def _pairing(helper, session, citizen, minutes=2):  # type: ignore[no-untyped-def]
    token = cafes.create_pairing(Actor.of(helper, Channel.ASSISTED), session, citizen,
                                 timedelta(minutes=minutes))
    db.session.commit()
    return token


def test_a_pairing_code_works_once_and_only_for_a_short_time(app_ctx, helper, session, citizen):
    token = _pairing(helper, session, citizen)
    stored = db.session.scalar(sa.select(PairingCode))
    assert token not in stored.token_hash and len(stored.token_hash) == 64  # only its hash
    with pytest.raises(cafes.PairingRefused) as late:
        cafes.redeem_pairing(token, utcnow() + timedelta(minutes=3))
    assert late.value.reason == "expired"
    assert cafes.redeem_pairing(token) is citizen
    with pytest.raises(cafes.PairingRefused) as again:
        cafes.redeem_pairing(token)
    assert again.value.reason == "used"
    for forged in ("", "x" * 65, token[:-1]):
        with pytest.raises(cafes.PairingRefused) as unknown:
            cafes.redeem_pairing(forged)
        assert unknown.value.reason == "unknown"


def test_pairing_refuses_a_disabled_helper_or_citizen_or_another_municipality(
        app_ctx, helper, session, make_citizen):
    citizen = make_citizen()
    token = _pairing(helper, session, citizen)
    citizen.is_active = False
    db.session.commit()
    with pytest.raises(cafes.PairingRefused, match="citizen"):
        cafes.pairing_for(token)
    citizen.is_active = True
    citizen.municipality_id = _stranger_municipality().id
    db.session.commit()
    with pytest.raises(cafes.PairingRefused, match="citizen"):
        cafes.pairing_for(token)
    fresh = make_citizen()
    token = _pairing(helper, session, fresh)
    disable_staff(helper)
    db.session.commit()
    with pytest.raises(cafes.PairingRefused, match="helper"):
        cafes.redeem_pairing(token)
    assert db.session.scalar(sa.select(PairingCode.used_at).where(
        PairingCode.citizen_id == fresh.id)) is None


# --- Pages ------------------------------------------------------------------------------
def _staff_client(app, client, user):  # type: ignore[no-untyped-def]
    browser = Client(app.test_client(), client.outbox)
    _login_as(browser, user)
    return browser


def test_admin_creates_and_changes_a_cafe_with_localized_errors(app, client, make_citizen):
    admin = make_citizen(role=Role.ADMIN, email="admin@example.org", phone=None, language="uk")
    browser = _staff_client(app, client, admin)
    form = {k: v for k, v in CAFE_FORM.items() if k != "languages"}
    r = browser.post("/staff/cafes", {**form, "closes": "09:00"}, htmx=False)
    assert r.status_code == 422
    assert "Джобкафе має зачинятися пізніше" in r.get_data(as_text=True)
    assert 'value="Jobcafé Nord"' in r.get_data(as_text=True)  # nothing typed is lost
    r = browser.post("/staff/cafes", {**form, "languages": "uk"}, htmx=False)
    assert r.status_code == 303
    cafe = db.session.scalar(sa.select(Cafe))
    assert cafe.languages == "uk" and cafe.weekday == 1
    r = browser.post(f"/staff/cafes/{cafe.id}", {**form, "name": "Jobcafé Syd",
                                                 "languages": "ar"}, htmx=False)
    assert r.status_code == 303
    db.session.expire_all()
    cafe = db.session.get(Cafe, cafe.id)
    assert (cafe.name, cafe.languages, cafe.is_active) == ("Jobcafé Syd", "ar", False)
    page = browser.get("/staff/cafes").get_data(as_text=True)
    assert "Jobcafé Syd" in page and "Арабська" in page


def test_cli_creates_a_cafe(app, municipality):
    result = app.test_cli_runner().invoke(args=[
        "cafes", "create", "--municipality", "101", "--name", "Jobcafé Vest", "--place",
        "Kulturhuset", "--weekday", "2", "--opens", "10:00", "--closes", "12:00",
        "--languages", "da,ar"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(Cafe.languages)) == "da,ar"


def _checkin_path(page: str) -> str:
    url = re.search(r'data-checkin-url="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return url.split("localhost", 1)[1]


def test_helper_opens_a_session_and_citizens_check_in(app, client, helper, make_citizen):
    cafe = cafes.create_cafe(helper.municipality_id, CAFE_FORM)
    db.session.commit()
    staff = _staff_client(app, client, helper)
    r = staff.post(f"/staff/cafes/{cafe.id}/open", {}, htmx=False)
    assert r.status_code == 303
    screen = r.headers["Location"]
    page = staff.get(screen).get_data(as_text=True)
    path = _checkin_path(page)
    assert "data:image/svg+xml" in page  # the QR code

    # An anonymous phone: log in first, then back to the check-in, one tap.
    citizen = make_citizen(language="ar")
    phone = Client(app.test_client(), client.outbox)
    r = phone.get(path)
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    phone.post("/login", {"identifier": citizen.phone[3:]}, target="login-form")
    r = phone.post("/login/code", {"code": client.outbox.last_for(citizen.id)}, target="code-form")
    assert r.headers.get("HX-Redirect") == path
    assert "أنا هنا" in phone.get(path).get_data(as_text=True)
    assert phone.post(path, {}, htmx=False).status_code == 303
    assert phone.post(path, {}, htmx=False).status_code == 303  # twice: still one
    assert "تم تسجيل حضورك" in phone.get(path).get_data(as_text=True)
    home = phone.get("/").get_data(as_text=True)
    assert "اليوم في مقهى الوظائف" in home

    # The helper checks another in by search: one search, one tap.
    other = make_citizen()
    page = staff.get(screen, query_string={"q": other.name}).get_data(as_text=True)
    assert f'name="citizen_id" value="{other.id}"' in page
    r = staff.post(screen + "/check-ins", {"citizen_id": str(other.id)}, htmx=False)
    assert r.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) == 2
    page = staff.get(screen).get_data(as_text=True)
    assert citizen.name in page and other.name in page and "Arabic" in page
    assert "Red: 0 job searches this month (goal 6)" in page

    # Closing ends the code: the phone is told, nothing changes.
    staff.post(screen + "/close", {}, htmx=False)
    before = db.session.scalar(sa.select(sa.func.count(CheckIn.id)))
    late = make_citizen(language="en")
    late_phone = Client(app.test_client(), client.outbox)
    late_phone.login(late)
    r = late_phone.get(path)
    assert r.status_code == 404 and "This check-in code does not work" in r.get_data(as_text=True)
    assert late_phone.post(path, {}, htmx=False).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) == before


def test_bad_input_on_the_session_screen(app, client, helper, session, citizen, make_citizen):
    staff = _staff_client(app, client, helper)
    base = f"/staff/sessions/{session.id}"
    for bad in ("", "abc", "-1", "99999999999", "٣"):
        assert staff.post(base + "/check-ins", {"citizen_id": bad}, htmx=False).status_code == 404
    row = cafes.check_in(session, citizen)
    db.session.commit()
    r = staff.post(f"{base}/check-ins/{row.id}/items", {"text": "x" * 300}, htmx=False)
    assert r.status_code == 422 and "at most 80 characters" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ChecklistItem.id))) == 0
    assert staff.post(f"{base}/check-ins/{row.id + 99}/items", {"suggestion": "cv"},
                      htmx=False).status_code == 404
    assert staff.get("/staff/sessions/2147483647").status_code == 404

    # Another municipality's citizen: 404 and a denied audit row.
    other = _stranger_municipality()
    stranger = User(name="Fremmed", phone="+4529999999", municipality_id=other.id)
    db.session.add(stranger)
    db.session.commit()
    assert staff.post(base + "/check-ins", {"citizen_id": str(stranger.id)},
                      htmx=False).status_code == 404
    denied = [r for r in _audit() if r.outcome == AuditOutcome.DENIED]
    assert [(r.action, r.citizen_id) for r in denied] == [(AuditAction.CHANGE, stranger.id)]


def test_the_checklist_is_shared_and_staff_ticks_are_audited(app, client, helper, session,
                                                              citizen):
    staff = _staff_client(app, client, helper)
    row = cafes.check_in(session, citizen)
    db.session.commit()
    base = f"/staff/sessions/{session.id}"
    assert staff.post(f"{base}/check-ins/{row.id}/items", {"text": "Ring til Netto"},
                      htmx=False).status_code == 303
    item = db.session.scalar(sa.select(ChecklistItem))
    phone = Client(app.test_client(), client.outbox)
    phone.login(citizen)
    assert "Ring til Netto" in phone.get("/").get_data(as_text=True)
    assert phone.post(f"/checkin/items/{item.id}", {"done": "1"}, htmx=False).status_code == 303
    db.session.expire_all()
    assert db.session.get(ChecklistItem, item.id).done_at is not None
    assert 'aria-pressed="true"' in staff.get(base).get_data(as_text=True)
    assert staff.post(f"{base}/items/{item.id}", {"done": "0"}, htmx=False).status_code == 303
    db.session.expire_all()
    assert db.session.get(ChecklistItem, item.id).done_at is None
    changes = [r for r in _audit() if r.action == AuditAction.CHANGE]
    assert len(changes) == 2 and {r.citizen_id for r in changes} == {citizen.id}


def test_pairing_logs_the_phone_in_once_and_ends_a_staff_session_there(
        app, client, helper, session, citizen):
    staff = _staff_client(app, client, helper)
    row = cafes.check_in(session, citizen)
    db.session.commit()
    r = staff.post(f"/staff/sessions/{session.id}/check-ins/{row.id}/pair", {}, htmx=False)
    assert r.status_code == 200
    url = re.search(r'data-pair-url="([^"]+)"', r.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    path = url.split("localhost", 1)[1]
    assert [r.action for r in _audit()][-1] == AuditAction.PAIRING

    # Opened on a tablet where a colleague is logged in: that staff session ends.
    colleague = User(name="Kollega", email="k@example.org", role=Role.HELPER,
                     municipality_id=helper.municipality_id)
    db.session.add(colleague)
    db.session.commit()
    tablet = _staff_client(app, client, colleague)
    assert tablet.get(path).status_code == 200
    r = tablet.post(path, {}, htmx=False)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert tablet.get("/").status_code == 200  # now the citizen's home
    assert tablet.get("/staff").status_code == 403
    db.session.expire_all()
    staff_rows = db.session.scalars(sa.select(LoginSession).where(
        LoginSession.user_id == colleague.id)).all()
    assert all(s.revoked_at is not None for s in staff_rows)

    # Used again: refused, logged, nothing changed.
    other = Client(app.test_client(), client.outbox)
    before = db.session.scalar(sa.select(sa.func.count(LoginSession.id)))
    r = other.post(path, {}, htmx=False)
    assert r.status_code == 410 and "Koden virker ikke" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(LoginSession.id))) == before
    last = _audit()[-1]
    assert (last.action, last.outcome, last.citizen_id) == (
        AuditAction.PAIRING, AuditOutcome.DENIED, citizen.id)
    assert other.post("/pair/forged-code", {}, htmx=False).status_code == 404


def test_pairing_stops_when_the_helper_is_disabled(app, client, helper, session, citizen):
    staff = _staff_client(app, client, helper)
    row = cafes.check_in(session, citizen)
    db.session.commit()
    r = staff.post(f"/staff/sessions/{session.id}/check-ins/{row.id}/pair", {}, htmx=False)
    path = re.search(r'data-pair-url="http://localhost([^"]+)"', r.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    disable_staff(db.session.get(User, helper.id))
    db.session.commit()
    phone = Client(app.test_client(), client.outbox)
    assert phone.get(path).status_code == 404
    assert phone.post(path, {}, htmx=False).status_code == 404
    assert db.session.scalar(sa.select(PairingCode.used_at)) is None


def test_staff_home_links_to_the_cafes(app, client, helper, make_citizen):
    page = _staff_client(app, client, helper).get("/staff").get_data(as_text=True)
    assert "/staff/sessions" in page and "/staff/cafes" not in page
    admin = make_citizen(role=Role.ADMIN, email="admin@example.org", phone=None)
    page = _staff_client(app, client, admin).get("/staff").get_data(as_text=True)
    assert "/staff/cafes" in page and 'href="/staff/sessions"' not in page


def test_demo_has_cafes(app_ctx):
    from joblog_app.demo import seed

    seed()
    assert db.session.scalar(sa.select(sa.func.count(Cafe.id))) == 2
    assert isinstance(today(), date)
