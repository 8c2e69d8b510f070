"""The helper's pages and the citizen's: one screen in two languages, the audit rows (allowed
and denied), and every refusal (no, expired or withdrawn request, another municipality's
citizen, a disabled helper, a forged kind, garbage input) with nothing saved."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from joblog_app.activities import services as activities
from joblog_app.activities.models import Activity, ActivityKind, Channel
from joblog_app.assisted import services
from joblog_app.assisted.models import AssistanceRequest
from joblog_app.audit.models import AuditAction, AuditEntry, AuditOutcome
from joblog_app.auth.models import Municipality, Role, User
from joblog_app.core.clock import today
from joblog_app.extensions import db
from joblog_app.permissions import Actor
from joblog_app.staff.services import disable_staff
from tests.conftest import Client, acting
from tests.core.test_access import _login_as

FORM = {"organisation": "Netto", "title": "Kassemedarbejder", "method": "advertised",
        "status": "applied"}


@pytest.fixture
def helper(make_citizen) -> User:  # type: ignore[no-untyped-def]
    return make_citizen(role=Role.HELPER, email="helper@example.org", language="da")


@pytest.fixture
def as_helper(client: Client, helper: User) -> Client:
    _login_as(client, helper)
    return client


@pytest.fixture
def arabic(make_citizen) -> User:  # type: ignore[no-untyped-def]
    citizen = make_citizen(language="ar")
    citizen.name = "Amal Haddad"
    db.session.commit()
    return citizen


def _record(helper: User, citizen: User, **kw) -> AssistanceRequest:  # type: ignore[no-untyped-def]
    request = services.record_request(Actor.of(helper, Channel.ASSISTED), citizen,
                                      basis="il_26a_6", asked=True, today=today(), **kw)
    db.session.commit()
    return request


def _audit() -> list[tuple[AuditAction, AuditOutcome, int | None, str | None]]:
    db.session.expire_all()
    return [(r.action, r.outcome, r.citizen_id, r.purpose) for r in db.session.scalars(
        sa.select(AuditEntry).order_by(AuditEntry.id))]


def _entries(citizen: User) -> list[Activity]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Activity).where(Activity.citizen_id == citizen.id)))


def _new(client: Client, citizen: User, **fields: str):  # type: ignore[no-untyped-def]
    data = {**FORM, "client_uuid": str(uuid.uuid4()), "occurred_on": today().isoformat(),
            **fields}
    return client.post(f"/staff/citizens/{citizen.id}/new/application", data)


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def test_without_a_request_the_helper_sees_only_how_to_record_one(as_helper, helper, citizen):
    activities.create_activity(citizen.id, ActivityKind.APPLICATION,
                               {"organisation": "Hemmelig A/S", "title": "Kok"},
                               actor=acting(citizen))
    db.session.commit()
    page = _text(as_helper.get(f"/staff/citizens/{citizen.id}/assist"))
    assert citizen.name in page and 'id="request-form"' in page
    assert "Hemmelig" not in page and "/new/application" not in page
    assert _audit() == [(AuditAction.READ, AuditOutcome.ALLOWED, citizen.id,
                         services.PURPOSE_ASSIST)]
    # The form itself cannot be opened either: back to the assist page.
    opened = as_helper.get(f"/staff/citizens/{citizen.id}/new/application")
    assert opened.status_code == 303 and opened.headers["Location"].endswith("/assist")


def test_recording_a_request_then_registering_an_application(as_helper, helper, citizen):
    page = as_helper.post(f"/staff/citizens/{citizen.id}/assist/request",
                          {"basis": "il_26a_6", "asked": "1"}, htmx=False)
    assert page.status_code == 303
    page = _text(as_helper.get(f"/staff/citizens/{citizen.id}/assist"))
    assert "integrationslovens § 26 a, stk. 6" in page
    assert f"/staff/citizens/{citizen.id}/new/application" in page
    saved = _new(as_helper, citizen)
    assert saved.headers["HX-Location"]
    [entry] = _entries(citizen)
    assert (entry.channel, entry.entered_by_id, entry.organisation) == (
        Channel.ASSISTED, helper.id, "Netto")
    assert [row[:2] for row in _audit()] == [
        (AuditAction.CHANGE, AuditOutcome.ALLOWED), (AuditAction.READ, AuditOutcome.ALLOWED),
        (AuditAction.CHANGE, AuditOutcome.ALLOWED)]
    # The saved message, and the entry in the citizen's latest entries on the assist page.
    page = _text(as_helper.get(f"/staff/citizens/{citizen.id}/assist"))
    assert "Gemt: Jobansøgning" in page and "Kassemedarbejder" in page


@pytest.mark.parametrize(("form", "message"), [
    ({"basis": "fvl_8", "asked": "1"}, "Skriv navnet på den, der repræsenterer borgeren."),
    ({"basis": "il_26a_6"}, "Sæt kryds, når borgeren selv har bedt dig om det."),
    ({"basis": "il_26a_6", "asked": "1", "until": "2999-01-01"}, "højst seks måneder"),
    ({"basis": "<script>", "asked": "1"}, "Vælg, hvorfor du må hjælpe."),
    ({"basis": "fvl_8", "asked": "1", "representative": "x" * 5000}, "højst 120 tegn"),
])
def test_a_bad_request_form_is_a_localized_422_and_keeps_what_was_typed(
        as_helper, citizen, form, message):
    page = as_helper.post(f"/staff/citizens/{citizen.id}/assist/request", form, htmx=False)
    assert page.status_code == 422 and message in _text(page)
    assert "<script>" not in _text(page)
    assert AssistanceRequest.query.count() == 0


def test_renewing_and_ending_from_the_assist_page(as_helper, helper, citizen):
    first = _record(helper, citizen)
    assert as_helper.post(f"/staff/citizens/{citizen.id}/assist/renew", {"asked": "1"},
                          htmx=False).status_code == 303
    renewed = services.active_request(citizen.id, today())
    assert renewed.renews_id == first.id
    refused = as_helper.post(f"/staff/citizens/{citizen.id}/assist/renew",
                             {"asked": "1", "until": "1999-01-01"}, htmx=False)
    assert refused.status_code == 422 and "før i dag" in _text(refused)
    assert as_helper.post(f"/staff/citizens/{citizen.id}/assist/end", {},
                          htmx=False).status_code == 303
    assert services.active_request(citizen.id, today()) is None
    again = as_helper.post(f"/staff/citizens/{citizen.id}/assist/renew", {"asked": "1"},
                           htmx=False)
    assert again.status_code == 303  # nothing to renew: told so on the assist page
    assert "ingen gyldig anmodning" in _text(as_helper.get(f"/staff/citizens/{citizen.id}/assist"))


def test_without_an_active_request_the_post_is_refused_and_nothing_saved(
        as_helper, helper, citizen):
    refused = _new(as_helper, citizen)
    assert refused.status_code == 409
    assert "Intet blev gemt: borgeren har ingen gyldig anmodning" in _text(refused)
    assert 'value="Netto"' in _text(refused)  # nothing typed is lost
    assert _entries(citizen) == []
    # The helper saw the citizen's form again: a read, never "changed your information".
    assert [row[:2] for row in _audit()] == [(AuditAction.READ, AuditOutcome.ALLOWED)]


@pytest.mark.parametrize("how", ["expired", "withdrawn by the citizen", "ended by staff"])
def test_a_request_that_ends_while_the_helper_types(as_helper, helper, citizen, how):
    request = _record(helper, citizen)
    assert as_helper.get(f"/staff/citizens/{citizen.id}/new/application").status_code == 200
    if how == "expired":
        request.valid_until = today() - timedelta(days=1)
    elif how == "withdrawn by the citizen":
        services.withdraw(acting(citizen), citizen.id, today())
    else:
        services.withdraw(Actor.of(helper, Channel.ASSISTED), citizen.id, today())
    db.session.commit()
    refused = _new(as_helper, citizen)
    assert refused.status_code == 409 and "Intet blev gemt" in _text(refused)
    assert _entries(citizen) == []


def test_another_municipalitys_citizen_is_404_and_the_attempt_is_logged(
        as_helper, helper, citizen):
    elsewhere = Municipality(code="102", name="Anden")
    db.session.add(elsewhere)
    db.session.flush()
    stranger = User(name="Fremmed Borger", phone="+4520000001", municipality_id=elsewhere.id)
    db.session.add(stranger)
    db.session.commit()
    for response in (as_helper.get(f"/staff/citizens/{stranger.id}/assist"),
                     _new(as_helper, stranger),
                     as_helper.post(f"/staff/citizens/{stranger.id}/assist/request",
                                    {"basis": "il_26a_6", "asked": "1"}, htmx=False)):
        assert response.status_code == 404 and "Fremmed" not in _text(response)
    assert [row[:3] for row in _audit()] == [
        (AuditAction.READ, AuditOutcome.DENIED, stranger.id),
        (AuditAction.CHANGE, AuditOutcome.DENIED, stranger.id),
        (AuditAction.CHANGE, AuditOutcome.DENIED, stranger.id)]
    assert _entries(stranger) == [] and AssistanceRequest.query.count() == 0


def test_a_disabled_helper_is_out_at_once(as_helper, helper, citizen):
    _record(helper, citizen)
    assert as_helper.get(f"/staff/citizens/{citizen.id}/new/application").status_code == 200
    disable_staff(helper)  # an administrator, meanwhile
    db.session.commit()
    response = _new(as_helper, citizen)
    assert response.status_code in (302, 401) and _entries(citizen) == []
    assert as_helper.get(f"/staff/citizens/{citizen.id}/assist").status_code == 302


@pytest.mark.parametrize("kind", ["job", "APPLICATION", "..%2F", "application%00", "x" * 300])
def test_a_forged_kind_is_404(as_helper, helper, citizen, kind):
    _record(helper, citizen)
    assert _new(as_helper, citizen).status_code == 200  # the real one works
    forged = as_helper.post(f"/staff/citizens/{citizen.id}/new/{kind}",
                            {**FORM, "client_uuid": str(uuid.uuid4())})
    assert forged.status_code == 404 and len(_entries(citizen)) == 1


@pytest.mark.parametrize("fields", [
    {"organisation": "x" * 5000}, {"title": ""}, {"occurred_on": "2026-02-30"},
    {"method": "fax"}, {"client_uuid": "not-a-uuid" * 50, "title": "\x00\u202e"},
])
def test_garbage_is_a_422_never_a_500(as_helper, helper, citizen, fields):
    _record(helper, citizen)
    response = _new(as_helper, citizen, **fields)
    assert response.status_code in (200, 422)
    if response.status_code == 422:
        assert _entries(citizen) == []


def test_one_screen_two_languages(app, as_helper, helper, arabic):
    """A Danish helper, an Arabic citizen: each label, choice, hint, error, the heading and
    the Save button in Danish with the Arabic beneath, marked lang="ar" dir="rtl"."""
    _record(helper, arabic)
    page = _text(as_helper.get(f"/staff/citizens/{arabic.id}/new/application"))
    second = re.compile(r'<span class="in-second-language" lang="ar" dir="rtl">([^<]*)</span>')
    arabic_texts = second.findall(page)
    for danish, arabic_text in (("Arbejdsgiver", "صاحب العمل"), ("Gem", "حفظ"),
                                ("Jobansøgning", None), ("Jobopslag", None)):
        assert danish in page
        if arabic_text:
            assert arabic_text in arabic_texts
    assert len(arabic_texts) >= 15  # labels, choices, hints, heading, Save
    assert 'lang="da"' not in page.split("<main", 1)[1].split("</main>")[0]  # the page's own
    refused = as_helper.post(f"/staff/citizens/{arabic.id}/new/application",
                             {"client_uuid": str(uuid.uuid4()), "organisation": "",
                              "title": "Kok", "occurred_on": today().isoformat(),
                              "method": "advertised", "status": "applied"})
    assert refused.status_code == 422
    text = _text(refused)
    assert "Skriv noget her." in text and "اكتب شيئًا هنا." in second.findall(text)
    # The error summary too, with its plural.
    summary = text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "Næsten færdig" in summary and 'lang="ar" dir="rtl"' in summary
    saved = _new(as_helper, arabic)
    assert saved.status_code == 200
    home = _text(as_helper.get(f"/staff/citizens/{arabic.id}/assist"))
    assert "Gemt: Jobansøgning" in home and 'lang="ar" dir="rtl"' in home


def test_the_same_language_shows_once(as_helper, helper, citizen):
    _record(helper, citizen)
    page = _text(as_helper.get(f"/staff/citizens/{citizen.id}/new/application"))
    assert "in-second-language" not in page and "Arbejdsgiver" in page


def test_an_arabic_helper_with_a_danish_citizen_gets_danish_ltr_beneath(
        client, make_citizen, citizen):
    helper = make_citizen(role=Role.HELPER, email="ar.helper@example.org", language="ar")
    _login_as(client, helper)
    _record(helper, citizen)
    page = _text(client.get(f"/staff/citizens/{citizen.id}/new/application"))
    assert '<html lang="ar" dir="rtl">' in page
    assert '<span class="in-second-language" lang="da" dir="ltr">Arbejdsgiver</span>' in page


def test_finding_a_citizen_is_audited_with_the_term(as_helper, arabic):
    found = _text(as_helper.get("/staff/citizens?q=Haddad"))
    assert "Amal Haddad" in found and f"/staff/citizens/{arabic.id}/assist" in found
    assert _text(as_helper.get("/staff/citizens")).count("Amal") == 0  # no term, no search
    assert as_helper.get("/staff/citizens?q=" + "%00" * 300).status_code == 200  # no term
    hidden = _text(as_helper.get("/staff/citizens?q=Had%00da%E2%80%AEd"))  # controls dropped
    assert "Amal Haddad" in hidden
    db.session.expire_all()
    terms = [r.search_term for r in AuditEntry.query.filter_by(action=AuditAction.SEARCH)]
    assert terms == ["Haddad", "Haddad"]


def test_the_citizen_sees_marks_corrects_deletes_and_withdraws(
        app, client, helper, citizen):
    from joblog_app.permissions import citizen_for

    _record(helper, citizen)
    actor = Actor.of(helper, Channel.ASSISTED, purpose=services.PURPOSE_ASSIST)
    citizen_for(actor, citizen.id, "change")  # as the helper's form does
    saved = services.save_entry(actor, citizen, ActivityKind.APPLICATION,
                                {**FORM, "occurred_on": today()}, client_uuid=uuid.uuid4(),
                                today=today())
    db.session.commit()
    entry_id = saved.activity_id
    client.login(citizen)
    mark = "Skrevet ind på jobcaféen den"
    for url in ("/", "/activities/history", f"/activities/{entry_id}/edit",
                f"/activities/{entry_id}/delete"):
        assert mark in _text(client.get(url)), url
    changed = client.post(f"/activities/{entry_id}/edit",
                          {**FORM, "title": "Bager", "occurred_on": today().isoformat()})
    assert changed.status_code == 200
    assert _entries(citizen)[0].title == "Bager"
    page = _text(client.get("/assistance"))
    assert "Du bad jobcentret om hjælp" in page and "Jobcafé-hjælper" in page
    assert helper.name not in page
    log = _text(client.get("/access-log"))
    assert "Hjælp til at skrive din jobsøgning ind" in log and "/assistance" in log
    assert client.post("/assistance/withdraw", {}, htmx=False).status_code == 303
    assert services.active_request(citizen.id, today()) is None
    assert "Du trak den tilbage." in _text(client.get("/assistance"))
    assert client.post(f"/activities/{entry_id}/delete", {}).status_code == 200
    assert _entries(citizen)[0].deleted_at is not None


def test_an_assisted_entry_goes_to_the_record_as_entered_by_staff(app_ctx, helper, citizen):
    from joblog_app.record.payload import entry_body

    _record(helper, citizen)
    saved = services.save_entry(Actor.of(helper, Channel.ASSISTED), citizen,
                                ActivityKind.APPLICATION, {**FORM, "occurred_on": today()},
                                client_uuid=uuid.uuid4(), today=today())
    own = activities.create_activity(citizen.id, ActivityKind.APPLICATION,
                                     {**FORM, "occurred_on": today()}, actor=acting(citizen))
    db.session.commit()
    from joblog_app.record.relay import entered_by_staff

    assert entered_by_staff(saved.activity) and not entered_by_staff(own.activity)
    assert entry_body(saved.activity, "101", True)["enteredBy"] == "STAFF"
