"""Work-list extras (issue 12), both engines: café attendance, interpreter, "assigned to
me" and "follow-up due" filters; saved filters; the citizen's case (assignment, note,
follow-up date) with its audit rows and bad input; the exemption reminder job (once per
exemption, e-mail when configured) and a lapsed exemption putting the citizen back."""

from __future__ import annotations

import logging
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from joblog_app.audit.models import AuditAction, AuditEntry
from joblog_app.auth.models import Municipality, Role, User
from joblog_app.cafes.models import Cafe, CafeSession, CheckIn
from joblog_app.caseload import jobs, reminders, services, worklist
from joblog_app.caseload.models import CaseFile, ExemptionReminder, SavedFilter
from joblog_app.citizens.models import Exemption
from joblog_app.core.clock import today
from joblog_app.extensions import db
from joblog_app.permissions import Actor, Channel
from tests.caseload.conftest import made_days_ago


def _old(user: User, days: int = 60) -> User:
    return made_days_ago(user, days)


def _ids(municipality_id: int, filters: worklist.Filters, me: int | None = None,
         day=None) -> set[int]:  # type: ignore[no-untyped-def]
    return {r.citizen_id for r in worklist.all_rows(municipality_id, day or today(), filters, me)}


def _visit(citizen: User, helper: User, days_ago: int) -> None:
    cafe = Cafe(municipality_id=citizen.municipality_id, name="Café", place="Biblioteket",
                weekday=0, opens_at=time(10), closes_at=time(12), languages="da")
    db.session.add(cafe)
    db.session.flush()
    session = CafeSession(cafe_id=cafe.id, day=today() - timedelta(days=days_ago),
                          opened_by_id=helper.id, checkin_salt="x" * 16)
    db.session.add(session)
    db.session.flush()
    db.session.add(CheckIn(session_id=session.id, citizen_id=citizen.id))
    db.session.commit()


def _actor(user: User) -> Actor:
    return Actor.of(user, Channel.WEB, purpose="test")


def test_filters_cafe_interpreter_mine_and_due(app_ctx, make_citizen):
    worker = make_citizen(role=Role.CASEWORKER, email="w@example.org")
    colleague = make_citizen(role=Role.CASEWORKER, email="c@example.org")
    visitor, recent_far, interp, mine, due = (_old(make_citizen()) for _ in range(5))
    green = _old(make_citizen())
    _visit(visitor, worker, 3)
    _visit(recent_far, worker, 40)
    mid = worker.municipality_id
    services.update_case(_actor(worker), interp.id,
                         services.CaseInput(colleague.id, True, None, None))
    services.assign_to_me(_actor(worker), mine.id)
    services.update_case(_actor(worker), due.id,
                         services.CaseInput(None, False, "Ring", today()))
    db.session.commit()
    assert _ids(mid, worklist.Filters(cafe_days=7)) == {visitor.id}
    assert _ids(mid, worklist.Filters(cafe_days=41)) == {visitor.id, recent_far.id}
    assert _ids(mid, worklist.Filters(interpreter=True)) == {interp.id}
    assert _ids(mid, worklist.Filters(mine=True), me=worker.id) == {mine.id}
    assert _ids(mid, worklist.Filters(mine=True), me=colleague.id) == {interp.id}
    assert _ids(mid, worklist.Filters(mine=True)) == set()
    assert _ids(mid, worklist.Filters(due=True)) == {due.id}
    [row] = worklist.all_rows(mid, today(), worklist.Filters(due=True))
    assert row.note == "Ring" and worklist.Reason.FOLLOW_UP_DUE in row.reasons
    [row] = worklist.all_rows(mid, today(), worklist.Filters(interpreter=True))
    assert row.assigned_to == colleague.name and row.needs_interpreter
    assert green.id in _ids(mid, worklist.Filters())  # nothing registered: red


def test_a_due_follow_up_puts_even_an_exempt_citizen_on_the_list(app_ctx, make_citizen):
    worker = make_citizen(role=Role.CASEWORKER, email="w@example.org")
    exempt = _old(make_citizen())
    db.session.add(Exemption(citizen_id=exempt.id, municipality_id=exempt.municipality_id,
                             legal_basis="las_75_5", starts_on=today() - timedelta(days=5),
                             ends_on=today() + timedelta(days=100), granted_by_id=worker.id))
    db.session.commit()
    mid = worker.municipality_id
    assert exempt.id not in _ids(mid, worklist.Filters())
    services.update_case(_actor(worker), exempt.id,
                         services.CaseInput(None, False, None, today() + timedelta(days=3)))
    db.session.commit()
    assert exempt.id not in _ids(mid, worklist.Filters())
    assert exempt.id in _ids(mid, worklist.Filters(), day=today() + timedelta(days=3))


@pytest.mark.parametrize("query", ["cafe_days=0", "cafe_days=367", "cafe_days=x",
                                   "cafe_days=%D9%A3"])
def test_bad_cafe_days_is_a_400_with_the_page(client, caseworker, query):
    r = client.get(f"/staff/worklist?{query}")
    assert r.status_code == 400 and "flash-error" in r.get_data(as_text=True)


def test_the_work_list_filters_are_in_the_audit_term(client, caseworker):
    assert client.get("/staff/worklist?cafe_days=30&interpreter=1&mine=1&due=1").status_code == 200
    db.session.expire_all()
    term = db.session.scalar(sa.select(AuditEntry.search_term)
                             .where(AuditEntry.action == AuditAction.SEARCH)
                             .order_by(AuditEntry.id.desc()).limit(1))
    assert "cafe=30 interpreter mine due" in term


def test_saved_filters_list_apply_and_delete(client, caseworker, make_citizen):
    r = client.post("/staff/worklist/filters",
                    {"name": "Ukrainsk, café", "query": "language=uk&cafe_days=30&page=3&x=1"},
                    htmx=False)
    assert r.status_code == 303
    assert r.headers["Location"].endswith("/staff/worklist?language=uk&cafe_days=30")
    page = client.get("/staff/worklist").get_data(as_text=True)
    assert "Ukrainsk, café" in page and "?language=uk&amp;cafe_days=30" in page
    # The same name replaces the query.
    client.post("/staff/worklist/filters", {"name": "Ukrainsk, café", "query": "mine=1"},
                htmx=False)
    [saved] = db.session.scalars(sa.select(SavedFilter)).all()
    db.session.refresh(saved)
    assert saved.query == "mine=1" and saved.owner_id == caseworker.id
    # Another caseworker neither sees nor deletes it.
    other = make_citizen(role=Role.CASEWORKER, email="other@example.org")
    assert services.saved_filters(other.id) == []
    assert services.delete_filter(other.id, saved.id) is False
    assert client.post(f"/staff/worklist/filters/{saved.id}/delete", {}, htmx=False
                       ).status_code == 303
    assert client.post(f"/staff/worklist/filters/{saved.id}/delete", {}, htmx=False
                       ).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedFilter)) == 0


@pytest.mark.parametrize("form,field", [
    ({"name": "", "query": "mine=1"}, 'id="f-save-name-error"'),
    ({"name": "x" * 61, "query": "mine=1"}, 'id="f-save-name-error"'),
    ({"name": "Bad", "query": "cafe_days=abc"}, '<p class="error" role="alert">'),
])
def test_a_bad_filter_is_a_422_and_keeps_the_name(client, caseworker, form, field):
    r = client.post("/staff/worklist/filters", form, htmx=False)
    text = r.get_data(as_text=True)
    assert r.status_code == 422 and field in text
    if form["name"] and len(form["name"]) <= 60:
        assert f'value="{form["name"]}"' in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SavedFilter)) == 0


def test_saving_the_case_is_audited_and_bad_input_keeps_everything(client, caseworker,
                                                                  citizen, make_citizen):
    helper = make_citizen(role=Role.HELPER, email="h@example.org")
    url = f"/staff/citizens/{citizen.id}/case"
    assert client.get(url).status_code == 200
    bad = client.post(url, {"assigned_to": str(helper.id), "note": "Husk cv",
                            "follow_up_on": "2026-02-30", "needs_interpreter": "1"}, htmx=False)
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Husk cv" in text and "2026-02-30" in text
    assert 'id="case-assigned_to-error"' in text and 'id="case-follow_up_on-error"' in text
    assert services.case_file(citizen.id) is None
    ok = client.post(url, {"assigned_to": str(caseworker.id), "note": "Husk cv",
                           "follow_up_on": (today() + timedelta(days=7)).isoformat(),
                           "needs_interpreter": "1"}, htmx=False)
    assert ok.status_code == 303
    db.session.expire_all()
    case = db.session.get(CaseFile, citizen.id)
    assert case.assigned_to_id == caseworker.id and case.needs_interpreter
    assert case.note == "Husk cv" and case.updated_by_id == caseworker.id
    changes = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == AuditAction.CHANGE)).all()
    assert [c.citizen_id for c in changes] == [citizen.id] and changes[0].purpose
    too_far = client.post(url, {"follow_up_on": (today() + timedelta(days=400)).isoformat()},
                          htmx=False)
    assert too_far.status_code == 422
    long_note = client.post(url, {"note": "x" * 301}, htmx=False)
    assert long_note.status_code == 422


def test_taking_a_citizen_and_another_municipality(client, caseworker, citizen):
    r = client.post(f"/staff/citizens/{citizen.id}/case/take",
                    {"back": "/staff/worklist?mine=1"}, htmx=False)
    assert r.status_code == 303 and r.headers["Location"].endswith("/staff/worklist?mine=1")
    db.session.expire_all()
    assert db.session.get(CaseFile, citizen.id).assigned_to_id == caseworker.id
    evil = client.post(f"/staff/citizens/{citizen.id}/case/take",
                       {"back": "//evil.example/staff/worklist"}, htmx=False)
    assert evil.headers["Location"].endswith("/staff/worklist")
    assert "evil" not in evil.headers["Location"]
    page = client.get("/staff/worklist?mine=1").get_data(as_text=True)
    assert f"/staff/citizens/{citizen.id}/case" in page
    other = Municipality(code="103", name="Tredje")
    db.session.add(other)
    db.session.flush()
    stranger = User(name="Fremmed", phone="+4530999998", municipality_id=other.id)
    db.session.add(stranger)
    db.session.commit()
    assert client.post(f"/staff/citizens/{stranger.id}/case/take", {}, htmx=False
                       ).status_code == 404
    assert client.get(f"/staff/citizens/{stranger.id}/case").status_code == 404
    assert db.session.get(CaseFile, stranger.id) is None


def _exemption(citizen: User, by: User, last: int, start: int = -10) -> Exemption:
    row = Exemption(citizen_id=citizen.id, municipality_id=citizen.municipality_id,
                    legal_basis="las_75_5", starts_on=today() + timedelta(days=start),
                    ends_on=today() + timedelta(days=last), granted_by_id=by.id)
    db.session.add(row)
    db.session.commit()
    return row


def test_the_reminder_job_reminds_once_per_exemption_in_the_log(app, app_ctx, make_citizen,
                                                                  caplog):
    worker = make_citizen(role=Role.CASEWORKER, email="w@example.org")
    soon = _exemption(_old(make_citizen()), worker, 5)
    _exemption(_old(make_citizen()), worker, 30)  # not yet
    _exemption(_old(make_citizen()), worker, -1, start=-20)  # over
    with caplog.at_level(logging.INFO, logger="joblog.caseload"):
        assert jobs.remind_exemptions_job(lambda: False) == 1
    assert f"exemption #{soon.id}" in caplog.text and "w@example.org" not in caplog.text
    assert jobs.remind_exemptions_job(lambda: False) == 0
    [row] = db.session.scalars(sa.select(ExemptionReminder)).all()
    assert row.exemption_id == soon.id and row.caseworker_id == worker.id
    assert not row.by_email


def test_the_reminder_goes_by_email_to_the_assigned_caseworker(app, app_ctx, make_citizen,
                                                                 monkeypatch):
    granter = make_citizen(role=Role.CASEWORKER, email="g@example.org")
    assigned = make_citizen(role=Role.CASEWORKER, email="a@example.org", language="uk")
    citizen = _old(make_citizen())
    services.update_case(_actor(granter), citizen.id,
                         services.CaseInput(assigned.id, False, None, None))
    exemption = _exemption(citizen, granter, 3)
    sent: list = []
    fail = [True]

    class FakeSMTP:
        def __init__(self, host, port, timeout):  # type: ignore[no-untyped-def]
            if fail[0]:
                raise OSError("down")

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *args):  # type: ignore[no-untyped-def]
            return False

        def send_message(self, msg):  # type: ignore[no-untyped-def]
            sent.append(msg)

    monkeypatch.setattr(jobs.smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "CODE_SENDER", "smtp")
    # The server is down: nothing is marked, the next round tries again.
    assert jobs.remind_exemptions_job(lambda: False) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExemptionReminder)) == 0
    fail[0] = False
    assert jobs.remind_exemptions_job(lambda: False) == 1
    assert jobs.remind_exemptions_job(lambda: False) == 0
    [msg] = sent
    assert msg["To"] == "a@example.org"
    assert citizen.name not in msg.get_content()
    db.session.expire_all()
    row = db.session.get(ExemptionReminder, exemption.id)
    assert row.by_email and row.caseworker_id == assigned.id


def test_a_lapsed_exemption_puts_the_citizen_back_on_the_list(app_ctx, make_citizen):
    worker = make_citizen(role=Role.CASEWORKER, email="w@example.org")
    citizen = _old(make_citizen(), days=120)
    exemption = _exemption(citizen, worker, 20, start=-20)
    last = exemption.ends_on
    mid = worker.municipality_id
    assert citizen.id not in _ids(mid, worklist.Filters())  # exempt, ends in 20 days
    assert citizen.id in _ids(mid, worklist.Filters(), day=last - timedelta(days=3))  # ending
    assert reminders.ending_count(mid, last - timedelta(days=3)) == 1
    after = {r.citizen_id: r for r in worklist.all_rows(mid, last + timedelta(days=1),
                                                        worklist.Filters())}
    assert citizen.id in after and worklist.Reason.EXEMPTION_ENDS not in after[citizen.id].reasons
    assert after[citizen.id].exempt_until is None
    assert reminders.ending_count(mid, last + timedelta(days=1)) == 0


def test_the_staff_home_counts_exemptions_ending_soon(client, caseworker, make_citizen):
    assert "ending-title" not in client.get("/staff").get_data(as_text=True)
    _exemption(_old(make_citizen()), caseworker, 4)
    _exemption(_old(make_citizen()), caseworker, 9)
    text = client.get("/staff").get_data(as_text=True)
    assert '<h2 id="ending-title">2 ' in text


def test_figures_per_cafe_count_each_visitor_once_a_month(client, caseworker, make_citizen):
    from joblog_app.caseload import groups

    visitor = _old(make_citizen())
    _visit(visitor, caseworker, 0)
    _old(make_citizen())  # no visit
    months, cafes = groups.figures_with_cafes(caseworker.municipality_id, today())
    [cafe] = cafes
    assert cafe.visitors(len(months) - 1) == 1
    assert sum(months[-1].counts.values()) == 2
    assert months == groups.municipality_figures(caseworker.municipality_id, today())
    text = client.get("/staff/figures").get_data(as_text=True)
    assert 'id="cafes-title"' in text and f'id="cafe-{cafe.cafe_id}-title"' in text
