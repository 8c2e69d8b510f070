"""The job log's rules, called directly (no request)."""

from __future__ import annotations

import threading
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from joblog_app.activities import queries, services
from joblog_app.activities.forms import clean_text, validate
from joblog_app.activities.models import (
    Activity,
    ActivityKind,
    ApplicationStatus,
    PlanTag,
    RecordState,
)
from joblog_app.extensions import db
from tests.conftest import acting

TODAY = date(2026, 11, 22)
APPLICATION = {"organisation": "Netto", "title": "Kassemedarbejder", "occurred_on": TODAY,
               "method": "advertised", "status": "applied"}


def test_new_entry_is_pending_and_says_who_entered_it(citizen):
    saved = services.create_activity(citizen.id, ActivityKind.APPLICATION, APPLICATION,
                                     actor=acting(citizen))
    a = saved.activity
    assert saved.created and a.id and isinstance(a.client_uuid, uuid.UUID)
    assert a.record_state == RecordState.PENDING
    assert a.entered_by_id == citizen.id and a.channel.value == "web"
    assert a.created_at and a.updated_at


def test_same_uuid_same_content_is_accepted_once(citizen):
    key = uuid.uuid4()
    first = services.create_activity(citizen.id, ActivityKind.APPLICATION, APPLICATION,
                                     actor=acting(citizen), client_uuid=key)
    again = services.create_activity(citizen.id, ActivityKind.APPLICATION, dict(APPLICATION),
                                     actor=acting(citizen), client_uuid=key)
    assert not again.created and again.activity.id == first.activity.id
    assert db.session.scalar(sa.select(sa.func.count(Activity.id))) == 1


def test_same_uuid_other_content_is_a_conflict_and_overwrites_nothing(citizen):
    key = uuid.uuid4()
    services.create_activity(citizen.id, ActivityKind.APPLICATION, APPLICATION,
                             actor=acting(citizen), client_uuid=key)
    with pytest.raises(services.ConflictError):
        services.create_activity(citizen.id, ActivityKind.APPLICATION,
                                 APPLICATION | {"title": "Lager"}, actor=acting(citizen),
                                 client_uuid=key)
    assert db.session.scalar(sa.select(Activity.title)) == "Kassemedarbejder"


def test_uuid_is_unique_per_citizen_not_globally(make_citizen):
    a, b = make_citizen(), make_citizen()
    key = uuid.uuid4()
    services.create_activity(a.id, ActivityKind.APPLICATION, APPLICATION, actor=acting(a),
                             client_uuid=key)
    saved = services.create_activity(b.id, ActivityKind.APPLICATION, APPLICATION,
                                     actor=acting(b), client_uuid=key)
    assert saved.created


def test_concurrent_identical_posts_make_one_row(app, citizen):
    key = uuid.uuid4()
    citizen_id, actor = citizen.id, acting(citizen)
    results: list[bool] = []
    errors: list[BaseException] = []
    start = threading.Barrier(10)

    def post() -> None:
        with app.app_context():
            try:
                start.wait()
                saved = services.create_activity(citizen_id, ActivityKind.APPLICATION,
                                                 APPLICATION, actor=actor,
                                                 client_uuid=key)
                db.session.commit()  # as each request would
                results.append(saved.created)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=post) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert results.count(True) == 1 and len(results) == 10
    assert db.session.scalar(sa.select(sa.func.count(Activity.id))) == 1


def test_planned_job_becomes_application_once(citizen):
    planned = services.create_activity(
        citizen.id, ActivityKind.PLANNED_JOB,
        {"organisation": "Arla", "title": "Mejerist", "deadline": TODAY + timedelta(days=5),
         "plan_tag": "a", "ad_url": "https://example.org/job"},
        actor=acting(citizen)).activity
    first = services.apply_for_planned(acting(citizen), planned, TODAY)
    second = services.apply_for_planned(acting(citizen), planned, TODAY)  # double tap
    app_ = first.activity
    assert first.created and not second.created and second.activity.id == app_.id
    assert (app_.kind, app_.organisation, app_.title, app_.occurred_on, app_.status.value,
            app_.plan_tag.value) == (ActivityKind.APPLICATION, "Arla", "Mejerist", TODAY,
                                     "applied", "a")
    assert planned.converted_to_id == app_.id
    assert queries.home_lists(citizen.id, TODAY).planned == []


def test_follow_up_is_done_when_the_follow_up_meeting_is_logged(citizen):
    meeting = services.create_activity(
        citizen.id, ActivityKind.COFFEE_MEETING,
        {"organisation": "ISS", "person": "Lars", "occurred_on": TODAY - timedelta(days=7),
         "follow_up_on": TODAY}, actor=acting(citizen)).activity
    assert [r.id for r in queries.home_lists(citizen.id, TODAY).follow_ups] == [meeting.id]
    assert services.can_convert(meeting, ActivityKind.COFFEE_MEETING)
    data = services.prefill_from(meeting, ActivityKind.COFFEE_MEETING, TODAY)
    services.create_activity(citizen.id, ActivityKind.COFFEE_MEETING, data,
                             actor=acting(citizen), source=meeting)
    assert queries.home_lists(citizen.id, TODAY).follow_ups == []


def test_network_lead_turns_into_meeting_or_application(citizen):
    lead = services.create_activity(
        citizen.id, ActivityKind.NETWORK_LEAD,
        {"person": "Sara", "relation": "Nabo", "organisation": "Coop"},
        actor=acting(citizen)).activity
    assert services.can_convert(lead, ActivityKind.APPLICATION)
    assert not services.can_convert(lead, ActivityKind.PLANNED_JOB)
    data = services.prefill_from(lead, ActivityKind.APPLICATION, TODAY) | {"title": "Kasse"}
    app_ = services.create_activity(citizen.id, ActivityKind.APPLICATION, data,
                                    actor=acting(citizen), source=lead).activity
    assert app_.method.value == "network" and lead.converted_to_id == app_.id
    assert not services.can_convert(lead, ActivityKind.COFFEE_MEETING)


def test_other_citizens_entries_are_invisible(make_citizen):
    a, b = make_citizen(), make_citizen()
    mine = services.create_activity(a.id, ActivityKind.APPLICATION, APPLICATION,
                                    actor=acting(a)).activity
    assert services.get_for_citizen(a.id, mine.id) is mine
    assert services.get_for_citizen(b.id, mine.id) is None
    services.delete_activity(acting(a), mine)
    assert services.get_for_citizen(a.id, mine.id) is None
    assert queries.home_lists(a.id, TODAY).latest == []


def test_recent_employers_newest_first_without_duplicates(citizen):
    for name in ["Netto", "Arla", "Netto", "DSB"]:
        services.create_activity(citizen.id, ActivityKind.APPLICATION,
                                 APPLICATION | {"organisation": name}, actor=acting(citizen))
    assert services.recent_employers(citizen.id) == ["DSB", "Netto", "Arla"]


def test_month_entries_filters(citizen):
    for kind, data in [
        (ActivityKind.APPLICATION, APPLICATION),
        (ActivityKind.APPLICATION, APPLICATION | {"status": "interview"}),
        (ActivityKind.APPLICATION, APPLICATION | {"occurred_on": date(2026, 10, 5)}),
        (ActivityKind.OTHER, {"description": "Jobmesse", "occurred_on": TODAY}),
    ]:
        services.create_activity(citizen.id, kind, data, actor=acting(citizen))
    start, end = date(2026, 11, 1), date(2026, 11, 30)
    assert len(services.month_entries(citizen.id, start, end)) == 3
    assert len(services.month_entries(citizen.id, start, end, ActivityKind.APPLICATION)) == 2
    assert len(services.month_entries(citizen.id, start, end, status="interview")) == 1


def test_new_entry_reads_back_as_stored_and_the_user_stays_loaded(citizen):
    """Saving expires what it wrote (enums come back, not the form's strings), not the user:
    the flash message after a save reads the user's language without another SELECT."""
    saved = services.create_activity(
        citizen.id, ActivityKind.PLANNED_JOB,
        {"organisation": "Arla", "title": "Mejerist", "plan_tag": "a"}, actor=acting(citizen))
    assert "language" not in sa.inspect(citizen).unloaded
    assert saved.activity.plan_tag is PlanTag.A and saved.activity.kind is ActivityKind.PLANNED_JOB
    followed = services.apply_for_planned(acting(citizen), saved.activity, TODAY)
    assert followed.activity.status is ApplicationStatus.APPLIED
    assert saved.activity.converted_to_id == followed.activity.id
    assert "language" not in sa.inspect(citizen).unloaded


def test_repeat_after_a_failed_insert_keeps_working(citizen):
    key = uuid.uuid4()
    first = services.create_activity(citizen.id, ActivityKind.APPLICATION, APPLICATION,
                                     actor=acting(citizen), client_uuid=key)
    again = services.create_activity(citizen.id, ActivityKind.APPLICATION, APPLICATION,
                                     actor=acting(citizen), client_uuid=key)
    assert not again.created and again.activity.id == first.activity.id
    # The session is usable afterwards, and the next entry is saved normally.
    assert services.create_activity(citizen.id, ActivityKind.APPLICATION, APPLICATION,
                                    actor=acting(citizen)).created
    assert db.session.scalar(sa.select(sa.func.count(Activity.id))) == 2


def test_home_lists_in_one_statement(make_citizen):
    """Open planned jobs (deadline first, none last), follow-ups due within the horizon
    (not followed up), and the latest entries (not planned jobs, not deleted): five each."""
    citizen, other = make_citizen(), make_citizen()

    def add(kind: ActivityKind, who=citizen, **data):  # type: ignore[no-untyped-def]
        return services.create_activity(who.id, kind, data, actor=acting(who)).activity

    planned = [add(ActivityKind.PLANNED_JOB, organisation=f"Firma {i}", title="Lager",
                   deadline=TODAY + timedelta(days=d) if d is not None else None)
               for i, d in enumerate([9, None, 2, 30, None, 5, 1])]
    services.apply_for_planned(acting(citizen), planned[2], TODAY)  # no longer open
    meetings = [add(ActivityKind.COFFEE_MEETING, organisation="ISS", person=f"P{i}",
                    occurred_on=TODAY - timedelta(days=10), follow_up_on=TODAY + timedelta(days=d))
                for i, d in enumerate([3, 4, -2, 0, 1, -5, 2])]  # 4 days: beyond the horizon
    services.create_activity(citizen.id, ActivityKind.COFFEE_MEETING,
                             services.prefill_from(meetings[0], ActivityKind.COFFEE_MEETING, TODAY),
                             actor=acting(citizen), source=meetings[0])  # followed up
    services.delete_activity(acting(citizen),
                             add(ActivityKind.OTHER, description="Slettet", occurred_on=TODAY))
    add(ActivityKind.OTHER, other, description="Ikke min", occurred_on=TODAY)
    add(ActivityKind.PLANNED_JOB, other, organisation="Ikke min", title="Lager")
    add(ActivityKind.NETWORK_LEAD, person="Sara", organisation="Coop")

    lists = queries.home_lists(citizen.id, TODAY, limit=5)

    def ids(rows):  # type: ignore[no-untyped-def]
        return [r.id for r in rows]

    p, m = planned, meetings
    assert ids(lists.planned) == ids([p[6], p[5], p[0], p[3], p[4]])  # 1, 5, 9, 30 days, none
    assert ids(lists.follow_ups) == ids([m[5], m[2], m[3], m[4], m[6]])  # -5 .. 2 days
    lead = lists.latest[0]
    assert ids(lists.latest)[2:] == ids([m[6], m[5], m[4]])  # after the lead and follow-up
    # What the templates read of a row, with the types an Activity has.
    row, entity = lead, db.session.get(Activity, lead.id)
    for name in ("kind", "title", "organisation", "person", "description", "occurred_on",
                 "deadline", "status", "converted_to_id", "follow_up_on", "record_state",
                 "record_attempts", "record_synced_at", "record_error"):
        assert getattr(row, name) == getattr(entity, name), name
    assert row.kind is ActivityKind.NETWORK_LEAD and row.record_state is RecordState.LOCAL
    assert queries.home_lists(other.id, TODAY).follow_ups == []


class TestValidation:
    def test_defaults_make_an_application_two_fields_away(self):
        result = validate(ActivityKind.APPLICATION,
                          {"organisation": "Netto", "title": "Kasse", "occurred_on": "2026-11-22",
                           "method": "advertised", "status": "applied"}, TODAY)
        assert result.ok

    @pytest.mark.parametrize(("field", "value"), [
        ("organisation", ""),
        ("organisation", "   "),
        ("organisation", "x" * 121),
        ("title", ""),
        ("occurred_on", "2025-11-21"),  # more than a year back
        ("occurred_on", "2026-11-23"),  # in the future
        ("occurred_on", "22/11/2026"),
        ("method", "carrier-pigeon"),
        ("status", "hired"),
        ("ad_url", "javascript:alert(1)"),
        ("ad_url", "https://" + "a" * 500),
        ("notes", "x" * 2001),
        ("plan_tag", "z"),
    ])
    def test_bad_input_is_refused_with_a_message(self, field, value):
        form = {"organisation": "Netto", "title": "Kasse", "occurred_on": "2026-11-22",
                "method": "advertised", "status": "applied", field: value}
        result = validate(ActivityKind.APPLICATION, form, TODAY)
        assert list(result.errors) == [field]
        assert str(result.errors[field])

    def test_text_is_cleaned_of_bidi_controls_but_keeps_letters_and_emoji(self):
        assert clean_text("\u202eNetto\u202c 🙂 Århus", multiline=False) == "Netto 🙂 Århus"
        assert clean_text("a\r\n\n\n\nb\x00", multiline=True) == "a\n\nb"
        assert clean_text("مطعم\u200dالنور", multiline=False) == "مطعم\u200dالنور"
