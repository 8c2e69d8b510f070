"""The access matrix: every route × every kind of user, with the answer each must get.

A route that is not in ``MATRIX`` fails ``test_every_route_is_in_the_matrix``, and a view
without a declared rule (``permissions.public`` / ``requires``) fails
``test_every_route_declares_who_may_use_it``: a new route is placed here when it is added.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from joblog_app.activities import services as activities
from joblog_app.activities.models import ActivityKind
from joblog_app.auth import services as auth
from joblog_app.auth.models import LoginSession, Municipality, Role, User
from joblog_app.caseload.models import SavedFilter
from joblog_app.citizens.models import Exemption, LegalBasis
from joblog_app.core.clock import today
from joblog_app.extensions import db
from joblog_app.models_base import utcnow
from joblog_app.permissions import declared_access
from joblog_app.reminders.models import PushSubscription
from tests.conftest import Client, acting

USERS = ("anonymous", "citizen_a", "citizen_b", "helper", "caseworker", "admin",
         "other_municipality_staff", "disabled_citizen", "staff_before_second_factor")
STAFF = ("helper", "caseworker", "admin", "other_municipality_staff")
# A staff user who passed the e-mail code but not yet the second factor: sent there first.
SECOND_FACTOR = "second_factor"

# Expected answers by kind of route. "login" = sent to the login page (302 to /login).
OWN_PAGE = {"anonymous": "login", "citizen_a": 200, "citizen_b": 200,
            **{s: 403 for s in STAFF}, "disabled_citizen": "login",
            "staff_before_second_factor": SECOND_FACTOR}
# A page or action about one of citizen A's entries: another citizen gets 404, no data.
OWN_ENTRY = {**OWN_PAGE, "citizen_b": 404}
OWN_ENTRY_CHANGE = {**OWN_ENTRY, "citizen_a": 303}  # done, then sent on (303 See Other)
OWN_CREATE = {**OWN_PAGE, "citizen_a": 303, "citizen_b": 303}
OWN_API = {"anonymous": 401, "citizen_a": 200, "citizen_b": 200, **{s: 401 for s in STAFF},
           "disabled_citizen": 401, "staff_before_second_factor": 401}
OWN_API_CREATE = {**OWN_API, "citizen_a": 201, "citizen_b": 201}


def anyone(status: int | str) -> dict[str, int | str]:
    return {user: status for user in USERS}


def staff_only(status: int | str, *, admin_only: bool = False,
               roles: frozenset[str] | None = None) -> dict[str, int | str]:
    """Staff pages: every staff role (or administrators only, or the ``roles`` named), after
    the second factor."""
    allowed = {"admin"} if admin_only else set(roles) if roles is not None else set(STAFF)
    return {"anonymous": "login", "citizen_a": 403, "citizen_b": 403,
            **{s: status if s in allowed else 403 for s in STAFF},
            "disabled_citizen": "login", "staff_before_second_factor": SECOND_FACTOR}


# A citizen-facing café page (the café's check-in code): citizens only, staff 403.
CITIZEN_CAFE = {**OWN_PAGE, "staff_before_second_factor": 403}
CASEWORKER = frozenset({"caseworker"})
FIGURES = frozenset({"caseworker", "admin"})

# The login's second step: any logged-in staff user (second factor passed or not).
STAFF_LOGIN_STEP = {"anonymous": "login", "citizen_a": 403, "citizen_b": 403,
                    "disabled_citizen": "login"}


def assist_only(status: int | str, other: int | str = 404) -> dict[str, int | str]:
    """Job café sessions and assisted registration: helpers and caseworkers (not
    administrators); staff of another municipality get ``other`` (404 for a café, session or
    citizen that is not theirs: nothing revealed)."""
    return {**staff_only(status), "admin": 403, "other_municipality_staff": other}


def login_step(status: int | str, before: int | str | None = None) -> dict[str, int | str]:
    return {**STAFF_LOGIN_STEP, **{s: status for s in STAFF},
            "staff_before_second_factor": status if before is None else before}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {application}, {planned}, {meeting}: citizen A's entries
    expected: dict[str, int | str]
    form: dict[str, str] | None = None
    json: bool = False
    # Staff who may see citizen A's entries here (helpers and caseworkers, under a request).
    staff_may_see: bool = False


def _application_form() -> dict[str, str]:
    return {"client_uuid": str(uuid.uuid4()), "organisation": "Netto", "title": "Kasse",
            "occurred_on": today().isoformat(), "method": "advertised", "status": "applied"}


MATRIX: dict[str, Route] = {
    "static": Route("GET", "/static/css/app.css", anyone(200)),
    "home.home": Route("GET", "/", OWN_PAGE),
    "core.set_language": Route("POST", "/language", anyone(303), {"lang": "uk", "next": "/"}),
    "core.accessibility": Route("GET", "/accessibility", anyone(200)),
    "core.health": Route("GET", "/healthz", anyone(200)),
    "auth.login": Route("GET", "/login", {**anyone(302), "anonymous": 200,
                                          "disabled_citizen": 200}),
    # The second factor (staff): enrolling more factors only after one has passed; the
    # session of the user "before" has no factor yet, so enrolment is open to it.
    "second_factor.start": Route("GET", "/login/second-factor", login_step(302, before=200)),
    "second_factor.verify_app": Route("POST", "/login/second-factor/app", login_step(422),
                                      {"code": "123456"}),
    "second_factor.verify_recovery": Route("POST", "/login/second-factor/recovery",
                                           login_step(422), {"code": "abcde-fghjk"}),
    "second_factor.passkey_options": Route("POST", "/login/second-factor/passkey/options",
                                           login_step(200), {}),
    "second_factor.verify_passkey": Route("POST", "/login/second-factor/passkey",
                                          login_step(422), {}),
    "second_factor.enrol_passkey_options": Route(
        "POST", "/login/second-factor/enrol/passkey/options", login_step(200), {}),
    "second_factor.enrol_passkey": Route("POST", "/login/second-factor/enrol/passkey",
                                         login_step(422), {}),
    "second_factor.begin_app": Route("POST", "/login/second-factor/enrol/app", login_step(200),
                                     {}),
    # After begin_app above: a wrong code for the app being set up.
    "second_factor.confirm_app": Route("POST", "/login/second-factor/enrol/app/confirm",
                                       login_step(422), {"code": "123456"}),
    "staff.home": Route("GET", "/staff", staff_only(200)),
    "staff.recovery_codes": Route("POST", "/staff/recovery-codes", staff_only(200), {}),
    "staff.accounts": Route("GET", "/staff/accounts", staff_only(200, admin_only=True)),
    "staff.create_account": Route("POST", "/staff/accounts", staff_only(303, admin_only=True),
                                  {"email": "new.person@example.org", "name": "Ny Person",
                                   "role": "helper"}),
    "staff.disable_account": Route("POST", "/staff/accounts/{colleague}/disable",
                                   staff_only(303, admin_only=True), {}),
    "cafes.cafes": Route("GET", "/staff/cafes", staff_only(200, admin_only=True)),
    "cafes.create_cafe": Route("POST", "/staff/cafes", staff_only(303, admin_only=True),
                               {"name": "Jobcafé Nord", "place": "Biblioteket", "weekday": "2",
                                "opens": "10:00", "closes": "13:00", "languages": "uk"}),
    "cafes.edit_cafe": Route("GET", "/staff/cafes/{cafe}", staff_only(200, admin_only=True)),
    "cafes.update_cafe": Route("POST", "/staff/cafes/{cafe}", staff_only(303, admin_only=True),
                               {"name": "Jobcafé Syd", "place": "Rådhuset", "weekday": "4",
                                "opens": "09:00", "closes": "12:00", "languages": "ar"}),
    "cafes.sessions_today": Route("GET", "/staff/sessions",
                                  {**assist_only(200), "other_municipality_staff": 200}),
    "cafes.open_session": Route("POST", "/staff/cafes/{cafe}/open", assist_only(303), {}),
    "cafes.session": Route("GET", "/staff/sessions/{cafe_session}", assist_only(200)),
    "cafes.session_qr": Route("GET", "/staff/sessions/{cafe_session}/qr", assist_only(200)),
    "cafes.close_session": Route("POST", "/staff/sessions/{cafe_session}/close",
                                 assist_only(303), {}),
    "cafes.check_in_citizen": Route("POST", "/staff/sessions/{cafe_session}/check-ins",
                                    assist_only(303), {"citizen_id": "{citizen_b}"}),
    "cafes.add_item": Route("POST", "/staff/sessions/{cafe_session}/check-ins/{check_in}/items",
                            assist_only(303), {"suggestion": "cv"}),
    "cafes.tick_item": Route("POST", "/staff/sessions/{cafe_session}/items/{item}",
                             assist_only(303), {"done": "1"}),
    "cafes.pair_phone": Route("POST", "/staff/sessions/{cafe_session}/check-ins/{check_in}/pair",
                              assist_only(200), {}),
    "cafes.checkin": Route("GET", "/checkin/{checkin_token}", CITIZEN_CAFE),
    "cafes.confirm_checkin": Route("POST", "/checkin/{checkin_token}", OWN_CREATE, {}),
    "cafes.tick_own_item": Route("POST", "/checkin/items/{item}", OWN_ENTRY_CHANGE,
                                 {"done": "1"}),
    # A pairing code logs in whoever opens it (the helper checked who they are in person).
    "cafes.pair": Route("GET", "/pair/{pair_token}", anyone(200)),
    "cafes.redeem_pairing": Route("POST", "/pair/{pair_token}", anyone(303), {}),
    # Caseworkers (issue 12): the work list and exemptions; figures for caseworkers and
    # administrators. The other municipality's staff user is a helper: 403 before any look-up.
    "caseload.work_list": Route("GET", "/staff/worklist", staff_only(200, roles=CASEWORKER)),
    "caseload.work_list_csv": Route("GET", "/staff/worklist.csv",
                                    staff_only(200, roles=CASEWORKER)),
    "caseload.citizen_exemptions": Route("GET", "/staff/citizens/{citizen_a}/exemptions",
                                         staff_only(200, roles=CASEWORKER)),
    "caseload.grant_exemption": Route(
        "POST", "/staff/citizens/{citizen_a}/exemptions", staff_only(303, roles=CASEWORKER),
        {"legal_basis": "las_75_5", "starts_on": today().isoformat(),
         "ends_on": (today() + timedelta(days=10)).isoformat()}),
    "caseload.end_exemption": Route("POST", "/staff/citizens/{citizen_a}/exemptions/{exemption}/end",
                                    staff_only(303, roles=CASEWORKER), {}),
    # The citizen overview: the purpose step first (a 200 form, nothing of the citizen),
    # the actions each a POST; another municipality's staff never reach citizen A.
    "caseload.overview_page": Route("GET", "/staff/citizens/{citizen_a}",
                                    staff_only(200, roles=CASEWORKER), staff_may_see=True),
    "caseload.change_purpose": Route("GET", "/staff/citizens/{citizen_a}/purpose",
                                     staff_only(200, roles=CASEWORKER)),
    "caseload.give_purpose": Route("POST", "/staff/citizens/{citizen_a}/purpose",
                                   staff_only(303, roles=CASEWORKER),
                                   {"purpose": "prepare_conversation"}),
    "caseload.set_requirement": Route("POST", "/staff/citizens/{citizen_a}/requirement",
                                      staff_only(303, roles=CASEWORKER),
                                      {"count": "6", "period": "month"}),
    "caseload.put_cpr": Route("POST", "/staff/citizens/{citizen_a}/cpr",
                              staff_only(303, roles=CASEWORKER), {"cpr": "010190-1234"}),
    "caseload.retry_refused": Route("POST", "/staff/citizens/{citizen_a}/retry",
                                    staff_only(303, roles=CASEWORKER), {}),
    "caseload.save_filter": Route("POST", "/staff/worklist/filters",
                                  staff_only(303, roles=CASEWORKER),
                                  {"name": "Mine", "query": "mine=1&cafe_days=30"}),
    "caseload.delete_filter": Route("POST", "/staff/worklist/filters/{saved_filter}/delete",
                                    staff_only(303, roles=CASEWORKER), {}),
    "caseload.citizen_case": Route("GET", "/staff/citizens/{citizen_a}/case",
                                   staff_only(200, roles=CASEWORKER)),
    "caseload.update_case": Route("POST", "/staff/citizens/{citizen_a}/case",
                                  staff_only(303, roles=CASEWORKER),
                                  {"needs_interpreter": "1", "note": "Ring om mandagen",
                                   "follow_up_on": today().isoformat()}),
    "caseload.take_citizen": Route("POST", "/staff/citizens/{citizen_a}/case/take",
                                   staff_only(303, roles=CASEWORKER), {}),
    "caseload.figures": Route("GET", "/staff/figures", staff_only(200, roles=FIGURES)),
    "caseload.figures_csv": Route("GET", "/staff/figures.csv", staff_only(200, roles=FIGURES)),
    "auth.request_code": Route("POST", "/login", anyone(303), {"identifier": "20999999"}),
    "auth.enter_code": Route("GET", "/login/code", anyone(302)),  # no login pending: back
    "auth.verify_code": Route("POST", "/login/code", anyone(303), {"code": "123456"}),
    "auth.logout": Route("POST", "/logout", anyone(303)),
    # Login through an OpenID provider: off (404 for everyone) until one is configured;
    # with one, tests/identity/test_oidc.py.
    "identity.start": Route("GET", "/login/mitid", anyone(404)),
    "identity.start_staff": Route("GET", "/login/sso", anyone(404)),
    "identity.callback": Route("GET", "/login/oidc/callback", anyone(404)),
    "activities.new": Route("GET", "/activities/new/application", OWN_PAGE),
    "activities.create": Route("POST", "/activities/new/application", OWN_CREATE,
                               _application_form()),
    "activities.edit": Route("GET", "/activities/{application}/edit", OWN_ENTRY),
    "activities.update": Route("POST", "/activities/{application}/edit", OWN_ENTRY_CHANGE,
                               _application_form()),
    "activities.confirm_delete": Route("GET", "/activities/{application}/delete", OWN_ENTRY),
    "activities.delete": Route("POST", "/activities/{application}/delete", OWN_ENTRY_CHANGE, {}),
    "activities.applied": Route("POST", "/activities/{planned}/applied", OWN_ENTRY_CHANGE, {}),
    "activities.follow_on": Route("GET", "/activities/{meeting}/then/coffee_meeting", OWN_ENTRY),
    "activities.history": Route("GET", "/activities/history", OWN_PAGE),
    "home.print_month": Route("GET", "/activities/history/print", OWN_PAGE),
    "offline.service_worker": Route("GET", "/sw.js", anyone(200)),
    "offline.manifest": Route("GET", "/manifest.webmanifest", anyone(200)),
    "offline.offline_page": Route("GET", "/offline/da", anyone(200)),
    "offline.install": Route("GET", "/install", anyone(200)),
    "offline.sync_session": Route("GET", "/sync/session", OWN_API),
    "offline.sync_entry": Route("POST", "/sync/entries", OWN_API_CREATE, json=True),
    "home.access_log": Route("GET", "/access-log", OWN_PAGE),
    "reminders.settings": Route("GET", "/reminders", OWN_PAGE),
    "reminders.save_settings": Route("POST", "/reminders/settings", OWN_CREATE, {"follow_up": "on"}),
    "reminders.pause": Route("POST", "/reminders/pause", OWN_CREATE, {}),
    "reminders.resume": Route("POST", "/reminders/resume", OWN_CREATE, {}),
    "reminders.send_test": Route("POST", "/reminders/test", OWN_CREATE, {}),
    # The body sent is an entry, not a subscription: a citizen gets the 422 that explains it.
    "reminders.subscribe": Route("POST", "/reminders/subscriptions",
                                 {**OWN_API, "citizen_a": 422, "citizen_b": 422}, json=True),
    # Assisted registration: {citizen_a} has an active request (recorded per route below),
    # {citizen_b} none, until the helper records one.
    "assisted.find": Route("GET", "/staff/citizens?q=Citizen", assist_only(200, other=200)),
    "assisted.start": Route("GET", "/staff/citizens/{citizen_a}/assist", assist_only(200),
                            staff_may_see=True),
    "assisted.record_request": Route("POST", "/staff/citizens/{citizen_b}/assist/request",
                                     assist_only(303), {"basis": "il_26a_6", "asked": "1"}),
    "assisted.renew_request": Route("POST", "/staff/citizens/{citizen_a}/assist/renew",
                                    assist_only(303), {"asked": "1"}),
    "assisted.end_request": Route("POST", "/staff/citizens/{citizen_a}/assist/end",
                                  assist_only(303), {}),
    "assisted.new_entry": Route("GET", "/staff/citizens/{citizen_a}/new/application",
                                assist_only(200), staff_may_see=True),
    "assisted.create_entry": Route("POST", "/staff/citizens/{citizen_a}/new/application",
                                   assist_only(303), _application_form()),
    "assisted.mine": Route("GET", "/assistance", OWN_PAGE),
    "assisted.withdraw": Route("POST", "/assistance/withdraw", OWN_CREATE, {}),
    "reminders.delete_device": Route("POST", "/reminders/subscriptions/{device}/delete",
                                     OWN_ENTRY_CHANGE, {}),
}


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - MATRIX.keys() == set(), "new routes: place them in the access matrix"
    assert MATRIX.keys() - endpoints == set(), "routes that no longer exist"


def test_every_route_declares_who_may_use_it(app):
    undeclared = [endpoint for endpoint, view in app.view_functions.items()
                  if endpoint != "static" and declared_access(view) is None]
    assert undeclared == [], "declare access with @public or @requires(Permission.X)"


def _login_as(client, user: User, second_factor: bool = True) -> None:  # type: ignore[no-untyped-def]
    """A server-side session as after a real login, for staff with the second factor passed
    unless said (the real logins are tested in tests/auth)."""
    token = auth.start_session(user, timedelta(hours=1))
    if user.role != Role.CITIZEN and second_factor:
        db.session.execute(sa.update(LoginSession).where(LoginSession.user_id == user.id)
                           .values(second_factor_at=utcnow()))
    db.session.commit()
    with client.http.session_transaction() as session:
        session["sid"] = token
        session["_user_id"] = str(user.id)
        session["_fresh"] = True


def _people(make_citizen) -> dict[str, User]:  # type: ignore[no-untyped-def]
    other = Municipality(code="102", name="Anden Kommune")
    db.session.add(other)
    db.session.flush()
    people = {
        "citizen_a": make_citizen(),
        "citizen_b": make_citizen(),
        "helper": make_citizen(role=Role.HELPER, email="helper@example.org"),
        "caseworker": make_citizen(role=Role.CASEWORKER, email="case@example.org"),
        "admin": make_citizen(role=Role.ADMIN, email="admin@example.org"),
        "disabled_citizen": make_citizen(),
    }
    stranger = User(name="Other", email="other@example.org", role=Role.HELPER,
                    municipality_id=other.id)
    db.session.add(stranger)
    db.session.commit()
    people["other_municipality_staff"] = stranger
    people["staff_before_second_factor"] = make_citizen(role=Role.CASEWORKER,
                                                        email="new.staff@example.org")
    return people


def _colleague(admin: User) -> User:
    """A fresh helper in the administrator's municipality (the one disabled by the route)."""
    colleague = User(name="Kollega", email=f"colleague-{uuid.uuid4().hex[:8]}@example.org",
                     role=Role.HELPER, municipality_id=admin.municipality_id)
    db.session.add(colleague)
    db.session.commit()
    return colleague


def _entries_of(citizen: User) -> dict[str, int]:
    day = today()

    def add(kind, **data):  # type: ignore[no-untyped-def]
        return activities.create_activity(citizen.id, kind, data,
                                          actor=acting(citizen)).activity_id

    ids = {
        "application": add(ActivityKind.APPLICATION, organisation="Hemmelig A/S", title="Kok",
                           occurred_on=day, method="advertised", status="applied"),
        "planned": add(ActivityKind.PLANNED_JOB, organisation="Hemmelig A/S", title="Bager"),
        "meeting": add(ActivityKind.COFFEE_MEETING, organisation="Hemmelig A/S", person="Lis",
                       occurred_on=day),
    }
    exemption = Exemption(citizen_id=citizen.id, municipality_id=citizen.municipality_id,
                          legal_basis=LegalBasis.LAS_75_5, starts_on=day + timedelta(days=200),
                          ends_on=day + timedelta(days=210), granted_by_id=citizen.id)
    db.session.add(exemption)
    device = PushSubscription(user_id=citizen.id, endpoint=f"https://push.example.org/{uuid.uuid4()}",
                              origin="https://push.example.org", p256dh="x" * 87, auth="y" * 22,
                              device="Hemmelig phone")
    db.session.add(device)
    db.session.flush()
    ids["device"] = device.id
    ids["exemption"] = exemption.id
    ids["citizen_a"] = citizen.id
    db.session.commit()
    return ids


def _cafe_of(citizen: User, helper: User, other: User) -> dict[str, int | str]:
    """A café of the citizen's municipality with today's open session, where the citizen
    is checked in with one checklist item, and a fresh pairing code for them."""
    from flask import current_app

    from joblog_app.cafes import services as cafes
    from joblog_app.permissions import Channel

    actor = acting(helper, Channel.ASSISTED)
    cafe = cafes.create_cafe(citizen.municipality_id, {
        "name": "Jobcafé Matrix", "place": "Biblioteket", "weekday": "0", "opens": "10:00",
        "closes": "12:00", "languages": ["da", "uk"]})
    session = cafes.open_session(actor, cafe, today())
    check_in = cafes.check_in(session, citizen)
    item = cafes.add_item(check_in, "cv")
    token = cafes.create_pairing(actor, session, citizen, timedelta(minutes=2))
    db.session.commit()
    return {"cafe": cafe.id, "cafe_session": session.id, "check_in": check_in.id,
            "item": item.id, "pair_token": token, "citizen_b": other.id,
            "checkin_token": cafes.checkin_token(session, current_app.secret_key)}


def _under_request(citizen: User, helper: User) -> dict[str, int]:
    """Citizen A under an active request (recorded again when a route ended it)."""
    from joblog_app.assisted import services as assisted
    from joblog_app.permissions import Actor, Channel

    if assisted.active_request(citizen.id, today()) is None:
        assisted.record_request(Actor.of(helper, Channel.ASSISTED), citizen, basis="il_26a_6",
                                asked=True, today=today())
        db.session.commit()
    return {"citizen_a": citizen.id}


def _saved_filter_of(caseworker: User) -> int:
    row = SavedFilter(owner_id=caseworker.id, name=f"Filter {uuid.uuid4().hex[:8]}",
                      query="mine=1")
    db.session.add(row)
    db.session.commit()
    return row.id


def _answer(client, route: Route, ids: dict[str, int]):  # type: ignore[no-untyped-def]
    path = route.path.format(**ids)
    if route.method == "GET":
        return client.get(path)
    if route.json:
        body = {"kind": "application", "client_uuid": str(uuid.uuid4()),
                "fields": {k: v for k, v in _application_form().items() if k != "client_uuid"}}
        return client.http.post(path, json=body, headers={"X-CSRFToken": client.csrf_token()})
    form = {k: v.format(**ids) for k, v in (route.form or {}).items()}
    return client.post(path, form, htmx=False)


@pytest.mark.parametrize("who", USERS)
def test_access_matrix(app, client, make_citizen, who):
    people = _people(make_citizen)
    wrong = []
    for endpoint, route in MATRIX.items():
        # A fresh browser and fresh entries per route: earlier routes log out or delete.
        client = Client(app.test_client(), client.outbox)
        if who != "anonymous":
            _login_as(client, people[who], second_factor=who != "staff_before_second_factor")
        if who == "disabled_citizen":
            db.session.execute(sa.update(User).where(User.id == people[who].id)
                               .values(is_active=False))
            db.session.commit()
        ids = _entries_of(people["citizen_a"])
        ids["colleague"] = _colleague(people["admin"]).id
        ids.update(_cafe_of(people["citizen_a"], people["helper"], people["citizen_b"]))
        ids |= _under_request(people["citizen_a"], people["helper"])
        if "{saved_filter}" in route.path:
            ids["saved_filter"] = _saved_filter_of(people["caseworker"])
        response = _answer(client, route, ids)
        expected = route.expected[who]
        got: int | str = response.status_code
        location = response.headers.get("Location", "")
        if got == 302 and location.endswith("/login/second-factor") and expected == SECOND_FACTOR:
            got = SECOND_FACTOR
        elif got == 302 and "/login" in location and expected == "login":
            got = "login"
        if got != expected:
            wrong.append(f"{endpoint} {route.method} {route.path}: {got}, expected {expected}")
        if who != "citizen_a" and "{" in route.path and not (
                route.staff_may_see and who in ("helper", "caseworker")):
            assert "Hemmelig" not in response.get_data(as_text=True), endpoint
    assert wrong == [], "\n".join(wrong)


def test_staff_reach_citizens_of_their_own_municipality_only(app_ctx, make_citizen):
    """The loader every staff view uses: another municipality's citizen is 404, as is a
    staff user or an unknown id; a citizen reaches only themself."""
    from werkzeug.exceptions import NotFound

    from joblog_app.activities.models import Channel
    from joblog_app.permissions import Actor, citizen_for

    people = _people(make_citizen)
    a, b = people["citizen_a"], people["citizen_b"]
    helper = Actor.of(people["helper"], Channel.ASSISTED, purpose="job café")
    assert citizen_for(helper, a.id) is a
    stranger = Actor.of(people["other_municipality_staff"], Channel.ASSISTED)
    for actor, citizen_id in ((stranger, a.id), (helper, people["caseworker"].id),
                              (helper, 999_999), (Actor.of(b, Channel.WEB), a.id)):
        with pytest.raises(NotFound):
            citizen_for(actor, citizen_id)
    assert citizen_for(Actor.of(a, Channel.WEB), a.id) is a


def test_a_citizen_cannot_change_another_citizens_entry_through_a_service(app_ctx, make_citizen):
    from joblog_app.activities.models import Channel
    from joblog_app.permissions import Actor

    a, b = make_citizen(), make_citizen()
    entry = _entries_of(a)["application"]
    with pytest.raises(PermissionError):
        activities.delete_activity(Actor.of(b, Channel.WEB), activities.get_for_citizen(a.id, entry))
