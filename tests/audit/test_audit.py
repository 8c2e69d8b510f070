"""The audit log: written in the same transaction, denied attempts too, shown to the citizen
without staff names, deleted after its retention (both database engines)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from joblog_app.audit import services as audit
from joblog_app.audit.jobs import delete_expired_job
from joblog_app.audit.models import AuditAction, AuditEntry, AuditOutcome
from joblog_app.auth.models import Municipality, Role, User
from joblog_app.extensions import db
from joblog_app.models_base import utcnow
from joblog_app.permissions import Actor, Channel, citizen_for


@pytest.fixture
def helper(make_citizen) -> User:  # type: ignore[no-untyped-def]
    return make_citizen(role=Role.HELPER, email="helper@example.org")


def _rows() -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))


def test_a_staff_look_up_is_audited_with_who_what_and_why(app_ctx, helper, citizen):
    actor = Actor.of(helper, Channel.ASSISTED, purpose="Help at the job café")
    assert citizen_for(actor, citizen.id, unit="Jobcafé Nord") is citizen
    db.session.commit()
    [row] = _rows()
    assert (row.staff_user_id, row.staff_role, row.action, row.outcome, row.citizen_id,
            row.purpose, row.unit, row.channel) == (
        helper.id, "helper", AuditAction.READ, AuditOutcome.ALLOWED, citizen.id,
        "Help at the job café", "Jobcafé Nord", "assisted")


def test_another_municipalitys_citizen_is_404_and_the_attempt_is_logged(app_ctx, citizen):
    other = Municipality(code="102", name="Anden Kommune")
    db.session.add(other)
    db.session.flush()
    stranger = User(name="S", email="s@example.org", role=Role.CASEWORKER,
                    municipality_id=other.id)
    db.session.add(stranger)
    db.session.commit()
    with pytest.raises(NotFound):
        citizen_for(Actor.of(stranger, Channel.WEB, "Check"), citizen.id, action="change")
    db.session.commit()  # as the request does for its 404 answer
    [row] = _rows()
    assert (row.outcome, row.action, row.citizen_id) == (AuditOutcome.DENIED,
                                                          AuditAction.CHANGE, citizen.id)
    assert audit.citizen_log(citizen.id) == []  # a denied attempt showed nothing


def test_the_audit_row_rolls_back_with_what_it_records(app_ctx, helper, citizen):
    citizen_for(Actor.of(helper, Channel.ASSISTED, "x"), citizen.id)
    db.session.rollback()  # the request failed (5xx): nothing of it stays, nor its audit row
    assert _rows() == []


def test_citizens_are_not_audited_for_their_own_data(app_ctx, citizen):
    citizen_for(Actor.of(citizen, Channel.WEB), citizen.id)
    with pytest.raises(ValueError):
        audit.record(Actor.of(citizen, Channel.WEB), AuditAction.READ, citizen_id=citizen.id)
    assert _rows() == []


def test_the_citizen_sees_when_what_role_where_and_why_never_who(app_ctx, helper, citizen):
    actor = Actor.of(helper, Channel.ASSISTED, purpose="Registering two applications")
    audit.record(actor, AuditAction.READ, citizen_id=citizen.id, unit="Jobcafé Nord")
    audit.record(actor, AuditAction.CHANGE, citizen_id=citizen.id, unit="Jobcafé Nord")
    audit.record(actor, AuditAction.SEARCH, search_term="Hansen " * 40)
    db.session.commit()
    log = audit.citizen_log(citizen.id)
    assert [e.action for e in log] == [AuditAction.CHANGE, AuditAction.READ]
    assert {(e.role, e.unit, e.purpose) for e in log} == {
        ("helper", "Jobcafé Nord", "Registering two applications")}
    assert not hasattr(log[0], "staff_user_id")
    assert len(_rows()[-1].search_term) == audit.MAX_TERM
    # The same look-up again the same day is one line with a count.
    audit.record(actor, AuditAction.READ, citizen_id=citizen.id, unit="Jobcafé Nord")
    audit.record(actor, AuditAction.READ, citizen_id=citizen.id, unit="Jobcafé Syd")
    db.session.commit()
    assert [(e.action, e.unit, e.times) for e in audit.citizen_log(citizen.id)] == [
        (AuditAction.READ, "Jobcafé Syd", 1), (AuditAction.READ, "Jobcafé Nord", 2),
        (AuditAction.CHANGE, "Jobcafé Nord", 1)]


def test_rows_past_their_retention_are_deleted_by_the_worker_job(app, app_ctx, helper, citizen):
    actor = Actor.of(helper, Channel.WEB, "x")
    old = audit.record(actor, AuditAction.READ, citizen_id=citizen.id)
    old.at = utcnow() - timedelta(days=731)
    kept = audit.record(actor, AuditAction.READ, citizen_id=citizen.id)
    kept.at = utcnow() - timedelta(days=729)
    db.session.commit()
    assert delete_expired_job(lambda: False) == 1
    assert [r.id for r in _rows()] == [kept.id]
    app.config["AUDIT_RETENTION_DAYS"] = 1
    assert delete_expired_job(lambda: False) == 1 and _rows() == []


def test_the_citizen_reads_the_access_log_in_their_language(app, client, make_citizen, helper):
    """The page lists when, what, which role, where and why; never the staff member's name,
    and never another citizen's look-ups."""
    citizen, other = make_citizen(language="uk"), make_citizen()
    actor = Actor.of(helper, Channel.ASSISTED, purpose="Допомога з двома заявками")
    audit.record(actor, AuditAction.CHANGE, citizen_id=citizen.id, unit="Jobcafé Nord")
    audit.record(actor, AuditAction.READ, citizen_id=other.id, unit="Jobcafé Syd")
    db.session.commit()
    client.login(citizen)
    html = client.get("/access-log").get_data(as_text=True)
    assert "Змінили ваші дані" in html and "Jobcafé Nord" in html
    assert "Допомога з двома заявками" in html
    assert helper.name not in html and "Jobcafé Syd" not in html
    client.login(other)
    html = client.get("/access-log").get_data(as_text=True)
    assert "Jobcafé Syd" in html and "Jobcafé Nord" not in html
