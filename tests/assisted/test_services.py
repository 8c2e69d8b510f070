"""Recorded requests on both database engines: the six-month cap, renewal with history,
withdrawal, expiry at the day's boundary, and no entry saved without an active request."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from joblog_app.activities.models import Activity, ActivityKind, Channel
from joblog_app.assisted import presenter, services
from joblog_app.assisted.models import AssistanceRequest, Basis
from joblog_app.auth.models import Municipality, Role, User
from joblog_app.extensions import db
from joblog_app.permissions import Actor

DAY = date(2026, 3, 10)
APPLICATION = {"organisation": "Netto", "title": "Kasse", "occurred_on": DAY,
               "method": "advertised", "status": "applied"}


@pytest.fixture
def helper(make_citizen) -> User:  # type: ignore[no-untyped-def]
    return make_citizen(role=Role.HELPER, email="helper@example.org")


def _assist(user: User) -> Actor:
    return Actor.of(user, Channel.ASSISTED, purpose=services.PURPOSE_ASSIST)


def _record(helper: User, citizen: User, day: date = DAY, **kw) -> AssistanceRequest:  # type: ignore[no-untyped-def]
    kw.setdefault("basis", "il_26a_6")
    kw.setdefault("asked", True)
    request = services.record_request(_assist(helper), citizen, today=day, **kw)
    db.session.commit()
    return request


def _entries(citizen: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Activity)
                             .where(Activity.citizen_id == citizen.id)) or 0


@pytest.mark.parametrize(("start", "last"), [
    (date(2026, 1, 1), date(2026, 6, 30)),
    (date(2026, 8, 31), date(2027, 2, 27)),  # 28 February is six months on; the day before
    (date(2027, 12, 15), date(2028, 6, 14)),
])
def test_a_request_lasts_at_most_six_months(start, last):
    assert services.last_day(start) == last


def test_recording_defaults_to_and_is_capped_at_six_months(app_ctx, helper, citizen):
    request = _record(helper, citizen)
    assert (request.valid_from, request.valid_until) == (DAY, services.last_day(DAY))
    assert (request.basis, request.recorded_by_id, request.recorded_by_role,
            request.representative) == (Basis.IL_26A_6, helper.id, "helper", None)
    other = User(name="Anden", phone="+4530001111", municipality_id=citizen.municipality_id)
    db.session.add(other)
    db.session.commit()
    with pytest.raises(services.RequestError) as too_long:
        _record(helper, other, until=services.last_day(DAY) + timedelta(days=1))
    assert too_long.value.field == "until"
    with pytest.raises(services.RequestError):
        _record(helper, other, until=DAY - timedelta(days=1))
    assert _record(helper, other, until=DAY).valid_until == DAY  # one day is allowed


@pytest.mark.parametrize(("form", "field"), [
    ({"basis": "consent"}, "basis"),
    ({"basis": ""}, "basis"),
    ({"basis": "fvl_8"}, "representative"),  # represented: by whom?
    ({"basis": "fvl_8", "representative": "\u202e  "}, "representative"),
    ({"basis": "fvl_8", "representative": "x" * 121}, "representative"),
    ({"until": "31-01-2026"}, "until"),
    ({"until": "2026-02-30"}, "until"),
    ({"asked": False}, "asked"),
])
def test_a_bad_request_is_refused_with_the_field_to_fix(app_ctx, helper, citizen, form, field):
    with pytest.raises(services.RequestError) as refused:
        _record(helper, citizen, **form)
    assert refused.value.field == field and str(refused.value.message)
    assert services.requests_of(citizen.id) == []


def test_representation_keeps_the_representatives_name(app_ctx, helper, citizen):
    request = _record(helper, citizen, basis="fvl_8", representative="  Amal   Haddad ")
    assert (request.basis, request.representative) == (Basis.FVL_8, "Amal Haddad")


def test_only_one_active_request_and_renewal_keeps_the_history(app_ctx, helper, citizen):
    first = _record(helper, citizen, until=DAY + timedelta(days=10))
    with pytest.raises(services.RequestError) as again:
        _record(helper, citizen)
    assert again.value.field == "_form"
    later = DAY + timedelta(days=5)
    renewed = services.renew_request(_assist(helper), citizen, asked=True, today=later)
    db.session.commit()
    assert (renewed.renews_id, renewed.valid_from, renewed.valid_until) == (
        first.id, later, services.last_day(later))
    assert services.active_request(citizen.id, later) == renewed
    # After the first one's last day, the renewal carries on.
    assert services.active_request(citizen.id, DAY + timedelta(days=30)) == renewed
    lines = presenter.citizen_lines(services.requests_of(citizen.id), citizen.id, later)
    assert [line.state for line in lines] == ["active", "renewed"]
    with pytest.raises(services.RequestError):
        services.renew_request(_assist(helper), citizen, today=later)  # not asked
    with pytest.raises(services.NoActiveRequest):
        services.renew_request(_assist(helper), citizen, asked=True,
                               today=services.last_day(later) + timedelta(days=1))


def test_a_request_expires_after_its_last_day(app_ctx, helper, citizen):
    request = _record(helper, citizen, until=DAY + timedelta(days=2))
    assert services.active_request(citizen.id, DAY - timedelta(days=1)) is None  # not yet
    assert services.active_request(citizen.id, DAY) == request
    assert services.active_request(citizen.id, request.valid_until) == request  # included
    after = request.valid_until + timedelta(days=1)
    assert services.active_request(citizen.id, after) is None
    with pytest.raises(services.NoActiveRequest):
        services.save_entry(_assist(helper), citizen, ActivityKind.APPLICATION, APPLICATION,
                            client_uuid=uuid.uuid4(), today=after)
    assert _entries(citizen) == 0
    [line] = presenter.citizen_lines(services.requests_of(citizen.id), citizen.id, after)
    assert line.state == "expired"


def test_without_any_request_nothing_is_saved(app_ctx, helper, citizen):
    with pytest.raises(services.NoActiveRequest):
        services.save_entry(_assist(helper), citizen, ActivityKind.APPLICATION, APPLICATION,
                            client_uuid=uuid.uuid4(), today=DAY)
    assert _entries(citizen) == 0


def test_the_citizen_withdraws_and_staff_can_no_longer_register(app_ctx, helper, citizen):
    _record(helper, citizen)
    saved = services.save_entry(_assist(helper), citizen, ActivityKind.APPLICATION,
                                APPLICATION, client_uuid=uuid.uuid4(), today=DAY)
    db.session.commit()
    entry = saved.activity
    assert (entry.channel, entry.entered_by_id) == (Channel.ASSISTED, helper.id)
    assert services.withdraw(Actor.of(citizen, Channel.WEB), citizen.id, DAY) == 1
    db.session.commit()
    assert services.active_request(citizen.id, DAY) is None
    [request] = services.requests_of(citizen.id)
    assert (request.withdrawn_by_id, request.withdrawn_by_role) == (citizen.id, "citizen")
    with pytest.raises(services.NoActiveRequest):
        services.save_entry(_assist(helper), citizen, ActivityKind.APPLICATION, APPLICATION,
                            client_uuid=uuid.uuid4(), today=DAY)
    assert _entries(citizen) == 1
    [line] = presenter.citizen_lines([request], citizen.id, DAY)
    assert line.state == "withdrawn" and line.recorded_by == "Jobcafé-hjælper"  # no name
    assert services.withdraw(Actor.of(citizen, Channel.WEB), citizen.id, DAY) == 0


def test_staff_end_a_request_and_the_renewed_one_with_it(app_ctx, helper, citizen):
    _record(helper, citizen)
    services.renew_request(_assist(helper), citizen, asked=True, today=DAY)
    assert services.withdraw(_assist(helper), citizen.id, DAY) == 2
    db.session.commit()
    assert services.active_request(citizen.id, DAY) is None
    lines = presenter.citizen_lines(services.requests_of(citizen.id), citizen.id, DAY)
    assert {line.state for line in lines} == {"ended"}


def test_nobody_else_acts_on_the_request(app_ctx, helper, citizen, make_citizen):
    other_citizen = make_citizen()
    with pytest.raises(PermissionError):
        services.withdraw(Actor.of(other_citizen, Channel.WEB), citizen.id, DAY)
    with pytest.raises(PermissionError):  # a citizen cannot record one
        services.record_request(Actor.of(other_citizen, Channel.WEB), citizen,
                                basis="il_26a_6", asked=True, today=DAY)
    elsewhere = Municipality(code="102", name="Anden")
    db.session.add(elsewhere)
    db.session.flush()
    stranger = User(name="S", email="s@example.org", role=Role.HELPER,
                    municipality_id=elsewhere.id)
    db.session.add(stranger)
    db.session.commit()
    with pytest.raises(PermissionError):
        _record(stranger, citizen)
    _record(helper, citizen)
    with pytest.raises(PermissionError):  # an assisted entry goes through the assisted channel
        services.save_entry(Actor.of(helper, Channel.WEB), citizen, ActivityKind.APPLICATION,
                            APPLICATION, client_uuid=uuid.uuid4(), today=DAY)


def test_finding_citizens_by_name_phone_or_email_within_the_municipality(
        app_ctx, make_citizen, citizen):
    amal = make_citizen(phone="+4520304050", email="amal@example.org")
    amal.name = "Amal Haddad"
    staff = make_citizen(role=Role.HELPER, email="haddad.helper@example.org")
    staff.name = "Haddad Helper"
    gone = make_citizen(active=False)
    gone.name = "Amal Gone"
    elsewhere = Municipality(code="102", name="Anden")
    db.session.add(elsewhere)
    db.session.flush()
    db.session.add(User(name="Amal Other", phone="+4520304051", municipality_id=elsewhere.id))
    db.session.commit()
    m = citizen.municipality_id
    assert services.find_citizens(m, "amal") == [amal]
    assert services.find_citizens(m, "haddad") == [amal]  # staff are not citizens
    assert services.find_citizens(m, "2030 4050") == [amal]
    assert services.find_citizens(m, "AMAL@EXAMPLE") == [amal]
    assert services.find_citizens(m, "a") == []  # too short to mean anyone
    assert services.find_citizens(m, "%") == [] and services.find_citizens(m, "_%") == []
    assert services.find_citizens(m, "x" * 5000) == []
