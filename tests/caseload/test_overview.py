"""The caseworker's citizen overview (both engines): the purpose asked once per citizen per
day and audited, the page's parts, and its actions (requirement, CPR number, retry), with
bad input, forged ids and another municipality's citizen."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from joblog_app.activities.models import Activity, ActivityKind, RecordState
from joblog_app.activities.services import create_activity
from joblog_app.audit import services as audit_services
from joblog_app.audit.models import AuditAction, AuditEntry, AuditOutcome
from joblog_app.audit.presenter import PURPOSE_LABELS
from joblog_app.auth.models import Municipality, Role, User
from joblog_app.caseload import overview
from joblog_app.caseload.models import OverviewPurpose, PurposeGiven
from joblog_app.citizens.models import BenefitGroup, CitizenProfile, RequirementPeriod
from joblog_app.citizens.services import new_profile
from joblog_app.core.clock import today
from joblog_app.extensions import db
from joblog_app.progress.services import Smiley
from tests.caseload.conftest import made_days_ago
from tests.conftest import acting
from tests.core.test_access import _login_as

CPR = "0101904321"
CPR_DASHED = "010190-4321"


@pytest.fixture
def caseworker_language() -> str:
    return "en"


def _old(user: User, days: int = 400) -> User:
    return made_days_ago(user, days)


def _apply(citizen: User, on=None, n: int = 1) -> list[int]:  # type: ignore[no-untyped-def]
    return [create_activity(citizen.id, ActivityKind.APPLICATION,
                            {"organisation": "Netto", "title": "Kasse",
                             "occurred_on": on or today(), "method": "advertised",
                             "status": "applied"}, actor=acting(citizen)).activity_id
            for _ in range(n)]


def _rows(**where) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    q = sa.select(AuditEntry).order_by(AuditEntry.id)
    for k, v in where.items():
        q = q.where(getattr(AuditEntry, k) == v)
    return list(db.session.scalars(q))


def _give(client, citizen_id: int, purpose: str = "prepare_conversation", text: str = ""):  # type: ignore[no-untyped-def]
    return client.post(f"/staff/citizens/{citizen_id}/purpose",
                       {"purpose": purpose, "text": text}, htmx=False)


def test_the_purpose_is_asked_once_a_day_then_every_opening_is_audited(client, caseworker,
                                                                       citizen):
    url = f"/staff/citizens/{citizen.id}"
    first = client.get(url)
    text = first.get_data(as_text=True)
    assert first.status_code == 200 and 'name="purpose"' in text
    assert citizen.name not in text  # nothing of the citizen before the purpose
    assert _rows(citizen_id=citizen.id) == []
    bad = _give(client, citizen.id, "other", "")
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    assert _give(client, citizen.id, "nope").status_code == 422
    assert _give(client, citizen.id).status_code == 303
    page = client.get(url)
    assert page.status_code == 200 and citizen.name in page.get_data(as_text=True)
    assert client.get(url).status_code == 200
    reads = _rows(citizen_id=citizen.id, action=AuditAction.READ)
    assert len(reads) == 2 and {r.purpose for r in reads} == {"prepare_conversation"}
    assert "prepare_conversation" in PURPOSE_LABELS
    # The citizen reads it in words in their access log.
    [line] = audit_services.citizen_log(citizen.id)
    assert line.purpose == "prepare_conversation" and line.times == 2
    # Another purpose, in the caseworker's own words.
    assert client.get(f"{url}/purpose").status_code == 200
    long = "x" * 121
    refused = _give(client, citizen.id, "other", long)
    assert refused.status_code == 422 and long in refused.get_data(as_text=True)
    assert _give(client, citizen.id, "other", "Samtale om praktik").status_code == 303
    client.get(url)
    assert _rows(citizen_id=citizen.id)[-1].purpose == "Samtale om praktik"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PurposeGiven)) == 1


def test_yesterdays_purpose_is_asked_again_and_old_rows_go(app_ctx, caseworker, citizen,
                                                           make_citizen):
    other = make_citizen()
    overview.give_purpose(caseworker.id, other.id, today() - timedelta(days=1),
                          OverviewPurpose.WORK_LIST, None)
    assert overview.purpose_today(caseworker.id, other.id, today()) is None
    overview.give_purpose(caseworker.id, citizen.id, today(), OverviewPurpose.REFUSED, None)
    db.session.commit()
    assert [p.citizen_id for p in db.session.scalars(sa.select(PurposeGiven))] == [citizen.id]


def test_the_page_shows_months_entries_visits_requests_and_exemptions(client, caseworker,
                                                                      make_citizen):
    from joblog_app.assisted import services as assisted
    from joblog_app.cafes import services as cafes
    from joblog_app.permissions import Actor, Channel

    person = _old(make_citizen())
    helper = make_citizen(role=Role.HELPER, email="helper@example.org")
    _apply(person, n=6)
    last_month = today().replace(day=1) - timedelta(days=3)
    _apply(person, on=last_month)
    helper_actor = Actor.of(helper, Channel.ASSISTED)
    assisted.record_request(helper_actor, person, basis="il_26a_6", asked=True, today=today())
    assisted.save_entry(helper_actor, person, ActivityKind.APPLICATION,
                        {"organisation": "Hjulpet A/S", "title": "Lager",
                         "occurred_on": last_month, "method": "advertised",
                         "status": "applied"}, client_uuid=uuid.uuid4(), today=today())
    create_activity(person.id, ActivityKind.PLANNED_JOB,
                    {"organisation": "Planlagt ApS", "title": "Bager"}, actor=acting(person))
    failed = _apply(person, on=last_month)[0]
    db.session.execute(sa.update(Activity).where(Activity.id == failed).values(
        record_state=RecordState.FAILED, record_error="CPR unknown to the record"))
    cafe = cafes.create_cafe(person.municipality_id, {
        "name": "Jobcafé Nord", "place": "Biblioteket", "weekday": "0", "opens": "10:00",
        "closes": "12:00", "languages": ["da"]})
    session = cafes.open_session(helper_actor, cafe, today())
    cafes.add_item(cafes.check_in(session, person), "cv")
    db.session.commit()

    lines = overview.months(person.id, today())
    assert len(lines) == 12
    assert lines[-1].group == Smiley.GREEN and lines[-1].goal == 6
    assert lines[-2].group == Smiley.LIGHT_GREEN and lines[-2].searches == 3

    _give(client, person.id)
    text = client.get(f"/staff/citizens/{person.id}").get_data(as_text=True)
    for expected in ("Planlagt ApS", "Jobcafé Nord", "Update the CV", "CPR unknown to the record",
                     "Entered by the citizen", "Integrationsloven", "6 of 6",
                     "Entered at the job café (Job café helper)", "Hjulpet A/S",
                     f"/staff/citizens/{person.id}/exemptions"):
        assert expected in text, expected


def test_months_are_read_in_one_statement(app_ctx, citizen):
    statements = []

    def count(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append(statement)

    citizen_id = citizen.id
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        overview.months(citizen_id, today())
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements


def test_the_requirement_is_edited_with_errors_kept_and_audited(client, caseworker, citizen):
    _give(client, citizen.id)
    url = f"/staff/citizens/{citizen.id}/requirement"
    for count, period in (("abc", "month"), ("0", "month"), ("31", "week"), ("6", "year"),
                          ("1.55", "week"), ("٣", "week")):
        r = client.post(url, {"count": count, "period": period}, htmx=False)
        assert r.status_code == 422, (count, period)
        assert f'value="{count}"' in r.get_data(as_text=True)
    assert _rows(action=AuditAction.CHANGE) == []
    ok = client.post(url, {"count": "1,5", "period": "week"}, htmx=False)
    assert ok.status_code == 303
    db.session.expire_all()
    profile = db.session.get(CitizenProfile, citizen.id)
    assert profile.requirement_count == Decimal("1.5")
    assert profile.requirement_period == RequirementPeriod.WEEK
    assert client.post(url, {"use_default": "1"}, htmx=False).status_code == 303
    db.session.expire_all()
    profile = db.session.get(CitizenProfile, citizen.id)
    assert (profile.requirement_count, profile.requirement_period) == (
        Decimal("6"), RequirementPeriod.MONTH)
    changes = _rows(action=AuditAction.CHANGE)
    assert len(changes) == 2 and {c.purpose for c in changes} == {"requirement"}


def test_a_cpr_number_releases_waiting_entries_and_is_never_echoed(client, caseworker,
                                                                   citizen, caplog):
    caplog.set_level(logging.DEBUG)
    waiting = _apply(citizen, n=2)
    db.session.execute(sa.update(Activity).where(Activity.id.in_(waiting)).values(
        record_state=RecordState.WAITING, record_error="no_cpr"))
    db.session.commit()
    _give(client, citizen.id)
    url = f"/staff/citizens/{citizen.id}/cpr"
    bodies = []
    bad = client.post(url, {"cpr": "3201904321"}, htmx=False)
    assert bad.status_code == 422 and 'id="cpr-error"' in bad.get_data(as_text=True)
    bodies.append(bad.get_data(as_text=True))
    assert "3201904321" not in bodies[-1]
    assert _rows(action=AuditAction.CHANGE) == []
    ok = client.post(url, {"cpr": CPR_DASHED}, htmx=False, follow_redirects=True)
    assert ok.status_code == 200
    bodies.append(ok.get_data(as_text=True))
    assert "010190-XXXX" in bodies[-1]
    bodies.append(client.get(f"/staff/citizens/{citizen.id}").get_data(as_text=True))
    db.session.expire_all()
    states = {a.record_state for a in db.session.scalars(
        sa.select(Activity).where(Activity.id.in_(waiting)))}
    assert states == {RecordState.PENDING}
    for body in bodies:
        assert CPR not in body and CPR_DASHED not in body and "90-4321" not in body
    for record in caplog.records:
        assert "4321" not in record.getMessage()
    for row in _rows():
        assert "4321" not in f"{row.search_term} {row.purpose} {row.unit}"
    [change] = _rows(action=AuditAction.CHANGE)
    assert change.citizen_id == citizen.id and change.purpose == "cpr_number"
    assert "4321" not in ok.request.url


def test_another_citizens_cpr_number_is_refused_and_nothing_changes(client, caseworker,
                                                                    citizen, make_citizen):
    """The blind index keeps a CPR number on one citizen: a second is told so, kept apart."""
    from joblog_app.citizens.services import store_cpr

    other = make_citizen()
    store_cpr(other.id, CPR)
    db.session.commit()
    _give(client, citizen.id)
    refused = client.post(f"/staff/citizens/{citizen.id}/cpr", {"cpr": CPR_DASHED}, htmx=False)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="cpr-error"' in body and CPR_DASHED not in body
    db.session.expire_all()
    assert db.session.get(CitizenProfile, citizen.id).cpr_encrypted is None
    assert _rows(action=AuditAction.CHANGE) == []  # the citizen's log never says "changed"


def test_refused_entries_are_sent_again_for_this_citizen_only(client, caseworker, citizen,
                                                              make_citizen):
    other = make_citizen()
    mine, theirs = _apply(citizen)[0], _apply(other)[0]
    db.session.execute(sa.update(Activity).where(Activity.id.in_([mine, theirs])).values(
        record_state=RecordState.FAILED, record_error="refused"))
    db.session.commit()
    url = f"/staff/citizens/{citizen.id}/retry"
    assert client.post(url, {}, htmx=False).status_code == 303
    db.session.expire_all()
    assert db.session.get(Activity, mine).record_state == RecordState.PENDING
    assert db.session.get(Activity, theirs).record_state == RecordState.FAILED
    assert client.post(url, {}, htmx=False).status_code == 303  # nothing left: a read
    rows = _rows(citizen_id=citizen.id)
    assert [r.action for r in rows] == [AuditAction.CHANGE, AuditAction.READ]


def test_another_municipalitys_citizen_and_forged_ids_are_404_and_logged(client, caseworker,
                                                                          make_citizen):
    other = Municipality(code="102", name="Anden")
    db.session.add(other)
    db.session.flush()
    stranger = User(name="Fremmed", phone="+4530999999", municipality_id=other.id)
    db.session.add(stranger)
    db.session.flush()
    db.session.add(new_profile(stranger.id, BenefitGroup.KONTANTHJAELP))
    db.session.commit()
    base = f"/staff/citizens/{stranger.id}"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/purpose").status_code == 404
    assert _give(client, stranger.id).status_code == 404
    assert _give(client, stranger.id, "other", "").status_code == 404
    for path, form in (("requirement", {"count": "6", "period": "month"}),
                       ("requirement", {"count": "x", "period": "month"}),
                       ("requirement", {"use_default": "1"}),
                       ("cpr", {"cpr": CPR}), ("cpr", {"cpr": "nope"}), ("retry", {})):
        assert client.post(f"{base}/{path}", form, htmx=False).status_code == 404, path
    denied = _rows(outcome=AuditOutcome.DENIED)
    assert len(denied) == 10 and {d.citizen_id for d in denied} == {stranger.id}
    db.session.expire_all()
    assert db.session.get(CitizenProfile, stranger.id).cpr_encrypted is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PurposeGiven)) == 0
    for forged in ("/staff/citizens/999999", "/staff/citizens/0", "/staff/citizens/-1",
                   "/staff/citizens/abc"):
        assert client.get(forged).status_code == 404, forged
    caseworker_self = f"/staff/citizens/{caseworker.id}"
    assert client.get(caseworker_self).status_code == 404


def test_hostile_input_to_every_overview_route_is_never_a_500(client, caseworker, citizen):
    from hypothesis import given
    from hypothesis import strategies as st

    from tests.fuzz.test_fuzz import HOSTILE_TEXT, SETTINGS

    _give(client, citizen.id)
    routes = [("purpose", ("purpose", "text")), ("requirement", ("count", "period", "use_default")),
              ("cpr", ("cpr",)), ("retry", ())]

    @SETTINGS
    @given(st.sampled_from(routes), st.lists(HOSTILE_TEXT, min_size=3, max_size=3),
           st.sampled_from([str(citizen.id), str(2**31), str(2**63), "0"]))
    def hostile(route, values, target):  # type: ignore[no-untyped-def]
        path, names = route
        form = dict(zip(names, values, strict=False))
        r = client.post(f"/staff/citizens/{target}/{path}", form, htmx=False)
        assert r.status_code < 500, (path, form, target)
        assert client.get(f"/staff/citizens/{target}").status_code < 500

    hostile()


def test_a_purpose_given_twice_the_same_day_is_one_row(app_ctx, caseworker, citizen):
    overview.give_purpose(caseworker.id, citizen.id, today(), OverviewPurpose.WORK_LIST, None)
    given = overview.give_purpose(caseworker.id, citizen.id, today(), OverviewPurpose.OTHER,
                                  "Opfølgning")
    db.session.commit()
    assert (given.purpose, given.text) == (OverviewPurpose.OTHER, "Opfølgning")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PurposeGiven)) == 1


def test_the_work_list_and_the_find_page_link_to_the_overview(client, caseworker, citizen):
    _old(citizen, 60)
    link = f'href="/staff/citizens/{citizen.id}"'
    assert link in client.get("/staff/worklist").get_data(as_text=True)
    assert link in client.get(f"/staff/citizens?q={citizen.name}").get_data(as_text=True)
    assert link in client.get(f"/staff/citizens/{citizen.id}/exemptions").get_data(as_text=True)


def test_a_helper_finds_citizens_without_the_overview_link(app_ctx, client, make_citizen,
                                                           citizen):
    helper = make_citizen(role=Role.HELPER, email="helper@example.org")
    _login_as(client, helper)
    page = client.get(f"/staff/citizens?q={citizen.name}").get_data(as_text=True)
    assert f"/staff/citizens/{citizen.id}/assist" in page
    assert f'href="/staff/citizens/{citizen.id}"' not in page
    assert client.get(f"/staff/citizens/{citizen.id}").status_code == 403
