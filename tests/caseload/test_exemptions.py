"""Exemptions from registering: validation, granting and ending through the audited loader,
exempt days, the list of exemptions ending soon, and what the citizen's home screen says
(both database engines)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.exceptions import NotFound

from joblog_app.audit.models import AuditAction, AuditEntry, AuditOutcome
from joblog_app.auth.models import Municipality, Role, User
from joblog_app.citizens import exemptions
from joblog_app.citizens.models import LegalBasis
from joblog_app.extensions import db
from joblog_app.permissions import Actor, Channel
from joblog_app.progress.services import Smiley, overview, progress_for

TODAY = date(2027, 1, 10)


@pytest.fixture
def caseworker(make_citizen) -> Actor:  # type: ignore[no-untyped-def]
    user = make_citizen(role=Role.CASEWORKER, email="case@example.org")
    return Actor.of(user, Channel.WEB, purpose="Exemption")


def _form(start: date | str = TODAY, end: date | str | None = date(2027, 1, 31),
          basis: str = "las_75_5", note: str = "") -> dict[str, str]:
    return {"legal_basis": basis, "starts_on": str(start), "ends_on": "" if end is None else str(end),
            "note": note}


def _grant(actor: Actor, citizen: User, **kw) -> exemptions.Exemption:  # type: ignore[no-untyped-def]
    exemption = exemptions.grant(actor, citizen.id, exemptions.parse(_form(**kw), TODAY))
    db.session.commit()
    return exemption


@pytest.mark.parametrize(("form", "field"), [
    (_form(end=None), "ends_on"),  # the end date is required
    (_form(end="31-01-2027"), "ends_on"),
    (_form(start="2027-02-30"), "starts_on"),
    (_form(end=TODAY - timedelta(days=1)), "ends_on"),  # end before start
    (_form(end=TODAY + timedelta(days=400)), "ends_on"),  # longer than a year
    (_form(start=TODAY - timedelta(days=60)), "starts_on"),  # too far back
    (_form(start=TODAY + timedelta(days=500), end=TODAY + timedelta(days=510)), "starts_on"),
    (_form(basis="diagnosis"), "legal_basis"),
    (_form(note="x" * 301), "note"),
])
def test_bad_input_is_refused_with_a_message_per_field(app_ctx, form, field):
    with pytest.raises(exemptions.ExemptionError) as refused:
        exemptions.parse(form, TODAY)
    assert field in refused.value.errors


def test_a_grant_is_audited_and_counts_exempt_days(app_ctx, caseworker, citizen):
    exemption = _grant(caseworker, citizen, note="Aftalt ved samtale\x00")
    assert exemption.note == "Aftalt ved samtale"  # control characters go
    assert exemption.legal_basis == LegalBasis.LAS_75_5
    assert exemption.granted_by_id == caseworker.user_id
    row = db.session.scalar(sa.select(AuditEntry))
    assert (row.action, row.outcome, row.citizen_id) == (AuditAction.CHANGE, AuditOutcome.ALLOWED,
                                                         citizen.id)
    assert exemptions.is_exempt(citizen.id, TODAY)
    assert exemptions.is_exempt(citizen.id, date(2027, 1, 31))
    assert not exemptions.is_exempt(citizen.id, date(2027, 2, 1))
    assert not exemptions.is_exempt(citizen.id, TODAY - timedelta(days=1))
    assert exemptions.exempt_days(citizen.id, date(2027, 1, 1), date(2027, 1, 31)) == 22
    assert exemptions.exempt_days(citizen.id, date(2027, 1, 20), date(2027, 2, 28)) == 12
    assert exemptions.exempt_days(citizen.id, date(2027, 2, 1), date(2027, 2, 28)) == 0


def test_overlapping_exemptions_are_refused(app_ctx, caseworker, citizen):
    _grant(caseworker, citizen)
    with pytest.raises(exemptions.ExemptionError):
        _grant(caseworker, citizen, start=date(2027, 1, 31), end=date(2027, 2, 10))
    _grant(caseworker, citizen, start=date(2027, 2, 1), end=date(2027, 2, 10))  # back to back


def test_ending_early_frees_today_and_is_audited(app_ctx, caseworker, citizen):
    exemption = _grant(caseworker, citizen, start=date(2027, 1, 5))
    ended = exemptions.end_early(caseworker, citizen.id, exemption.id, TODAY)
    db.session.commit()
    assert ended.ended_on == TODAY - timedelta(days=1) and ended.ends_on == date(2027, 1, 31)
    assert ended.ended_early_by_id == caseworker.user_id and ended.ended_early_at is not None
    assert not exemptions.is_exempt(citizen.id, TODAY)
    assert exemptions.exempt_days(citizen.id, date(2027, 1, 1), date(2027, 1, 31)) == 5
    with pytest.raises(exemptions.ExemptionError):  # already over
        exemptions.end_early(caseworker, citizen.id, exemption.id, TODAY)
    # The freed days can be granted again.
    _grant(caseworker, citizen, start=TODAY, end=date(2027, 1, 20))


def test_an_exemption_ended_before_it_began_never_counts(app_ctx, caseworker, citizen):
    exemption = _grant(caseworker, citizen, start=date(2027, 2, 1), end=date(2027, 2, 20))
    exemptions.end_early(caseworker, citizen.id, exemption.id, TODAY)
    assert exemptions.exempt_days(citizen.id, date(2027, 1, 1), date(2027, 3, 31)) == 0


def test_another_municipalitys_citizen_is_404_and_logged(app_ctx, citizen, caseworker):
    other = Municipality(code="102", name="Anden Kommune")
    db.session.add(other)
    db.session.flush()
    stranger = User(name="S", email="s@example.org", role=Role.CASEWORKER, municipality_id=other.id)
    db.session.add(stranger)
    db.session.commit()
    data = exemptions.parse(_form(), TODAY)
    with pytest.raises(NotFound):
        exemptions.grant(Actor.of(stranger, Channel.WEB), citizen.id, data)
    exemption = _grant(caseworker, citizen)
    with pytest.raises(NotFound):
        exemptions.end_early(Actor.of(stranger, Channel.WEB), citizen.id, exemption.id, TODAY)
    db.session.commit()
    denied = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.outcome == AuditOutcome.DENIED)).all()
    assert [row.staff_user_id for row in denied] == [stranger.id, stranger.id]
    assert exemptions.of_citizen(citizen.id) == [exemption]


def test_an_exemption_of_another_citizen_cannot_be_ended_through_mine(app_ctx, caseworker,
                                                                       make_citizen):
    a, b = make_citizen(), make_citizen()
    exemption = _grant(caseworker, a)
    with pytest.raises(LookupError):
        exemptions.end_early(caseworker, b.id, exemption.id, TODAY)


def test_ending_soon_lists_the_municipalitys_running_exemptions(app_ctx, caseworker,
                                                                 make_citizen):
    soon, later, future = make_citizen(), make_citizen(), make_citizen()
    _grant(caseworker, soon, end=TODAY + timedelta(days=14))
    _grant(caseworker, later, end=TODAY + timedelta(days=15))
    _grant(caseworker, future, start=TODAY + timedelta(days=1), end=TODAY + timedelta(days=3))
    found = exemptions.ending_soon(caseworker.municipality_id, TODAY)
    assert [(e.citizen_id, e.last_day) for e in found] == [(soon.id, TODAY + timedelta(days=14))]
    assert exemptions.ending_soon(caseworker.municipality_id + 1, TODAY) == []


def test_an_exempt_citizen_is_never_shown_red(app_ctx, caseworker, citizen):
    assert progress_for(citizen.profile, TODAY).smiley == Smiley.RED
    _grant(caseworker, citizen)
    p = progress_for(citizen.profile, TODAY)
    assert (p.smiley, p.exempt_until) == (Smiley.EXEMPT, date(2027, 1, 31))
    home, _sync = overview(citizen.id, TODAY)
    assert (home.smiley, home.exempt_until) == (Smiley.EXEMPT, date(2027, 1, 31))
    after, _sync = overview(citizen.id, date(2027, 2, 1))
    assert (after.smiley, after.exempt_until) == (Smiley.RED, None)


@pytest.mark.parametrize(("lang", "words"), [
    ("en", "You do not need to register until {day}. You should still look for work."),
    ("da", "Du behøver ikke at skrive dine jobsøgninger ind til og med {day}."),
    ("uk", "{day}"),
    ("ar", "{day}"),
])
def test_the_citizen_reads_until_when_in_their_language(app, client, citizen, lang, words):
    from babel.dates import format_date

    from joblog_app.core import clock

    today = clock.today()
    end = today + timedelta(days=20)
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == citizen.id).values(language=lang))
        actor = Actor.of(_staff(citizen), Channel.WEB)
        exemptions.grant(actor, citizen.id, exemptions.parse(_form(start=today, end=end), today))
        db.session.commit()
    client.login(citizen)
    page = client.get("/").get_data(as_text=True)
    assert words.format(day=format_date(end, "long", locale=lang)) in page
    assert "progress-exempt" in page


def _staff(citizen: User) -> User:
    user = User(name="Sagsbehandler", email="sb@example.org", role=Role.CASEWORKER,
                municipality_id=citizen.municipality_id)
    db.session.add(user)
    db.session.flush()
    return user
