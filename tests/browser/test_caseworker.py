"""The caseworker's journey in real Chromium, on a phone (390 px) and a tablet (768 px):
log in with the e-mail code and the authenticator app, filter the work list, open a
citizen (giving a purpose), put a CPR number on file (the waiting entries are released),
grant an exemption, and see the citizen leave the work list and the month's figures change.
Screenshots of the work list, the figures (Danish) and the overview in ``test-artifacts/``."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS, today
from .support import BROWSER, scroll_width, widest_elements
from .test_staff_login import _email_code, _give_back_the_code_budget, _staff  # noqa: F401

pytestmark = BROWSER

CPR = "010190-1234"


def _waiting_citizen(live, name: str) -> int:  # type: ignore[no-untyped-def]
    """A Ukrainian-speaking citizen on kontanthjælp, two months in the app, with two
    applications this month that wait for a CPR number (none on file): light green."""
    from joblog_app.activities.models import (
        Activity,
        ActivityKind,
        ApplicationMethod,
        ApplicationStatus,
        RecordState,
    )
    from joblog_app.auth.models import Municipality, Role, User
    from joblog_app.citizens.models import BenefitGroup
    from joblog_app.citizens.services import new_profile

    with live.db() as session:
        municipality = session.query(Municipality).filter_by(code="999").one()
        user = User(name=name, phone=f"+4529{uuid.uuid4().int % 10**6:06d}", language="uk",
                    role=Role.CITIZEN, municipality_id=municipality.id,
                    created_at=datetime.now() - timedelta(days=60))
        session.add(user)
        session.flush()
        session.add(new_profile(user.id, BenefitGroup.KONTANTHJAELP))
        for employer in ("Netto", "Føtex"):
            session.add(Activity(citizen_id=user.id, entered_by_id=user.id,
                                 kind=ActivityKind.APPLICATION, organisation=employer,
                                 title="Kasse", occurred_on=today(),
                                 method=ApplicationMethod.ADVERTISED,
                                 status=ApplicationStatus.APPLIED,
                                 record_state=RecordState.WAITING, record_error="no_cpr"))
        session.commit()
        return user.id


def _states(live, citizen_id: int) -> set[str]:  # type: ignore[no-untyped-def]
    from joblog_app.activities.models import Activity

    with live.db() as session:
        return {a.record_state.value for a in
                session.query(Activity).filter_by(citizen_id=citizen_id)}


def _this_month(page) -> str:  # type: ignore[no-untyped-def]
    """The current month's row of the figures table (the table lists the newest first)."""
    return page.locator("table.figures").first.locator("tbody tr").first.inner_text()


def _fits(page, width: int, where: str) -> None:  # type: ignore[no-untyped-def]
    assert scroll_width(page) <= width, (f"{where} scrolls sideways at {width}px",
                                         widest_elements(page))


@pytest.mark.parametrize("width", [390, 768])
def test_a_caseworker_prepares_a_conversation_and_the_citizen_leaves_the_list(
        live, new_page, width):
    name = f"Olena Journey {width}"
    citizen_id = _waiting_citizen(live, name)
    user_id, email = _staff(live, role="caseworker", language="da")
    phone = new_page(locale="da-DK")
    page, base = phone.page, phone.base
    page.set_viewport_size({"width": width, "height": 1024 if width > 400 else 844})
    _email_code(phone, live, user_id, email, base)
    page.click("form[action$='/enrol/app'] button")
    page.wait_for_url(base + "/login/second-factor/enrol/app")
    page.fill("#app-code", pyotp.TOTP(page.locator("code.secret").inner_text()).now())
    page.click("#app-form button[type=submit]")
    page.wait_for_url(base + "/staff")
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(base + "/staff/figures")
    before = _this_month(page)
    page.screenshot(path=str(ARTIFACTS / f"caseworker-{width}-figures-da.png"), full_page=True)

    # The work list, filtered: Ukrainian speakers on kontanthjælp.
    page.goto(base + "/staff/worklist")
    page.select_option("#f-benefit_group", "kontanthjaelp")
    page.select_option("#f-language", "uk")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/staff/worklist?*language=uk*")
    row = page.locator("li.entry", has_text=name)
    expect(row).to_be_visible()
    _fits(page, width, "work list")
    page.screenshot(path=str(ARTIFACTS / f"caseworker-{width}-worklist-da.png"), full_page=True)

    # Open the citizen: the purpose first, once.
    row.locator(f"a[href$='/staff/citizens/{citizen_id}']").click()
    page.wait_for_url(f"**/staff/citizens/{citizen_id}")
    expect(page.locator("#purpose-form")).to_be_visible()
    assert name not in page.content()
    page.locator("input[name=purpose][value=prepare_conversation]").check()
    page.click("#purpose-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text(name)
    expect(page.locator("#purpose-now")).to_be_visible()
    _fits(page, width, "overview")

    # The CPR number: typed without echo, shown masked, the waiting entries released.
    field = page.locator("#cpr-number")
    expect(field).to_have_attribute("type", "password")
    expect(field).to_have_attribute("autocomplete", "off")
    expect(field).to_have_attribute("inputmode", "numeric")
    field.fill("12345")
    page.click("#cpr-form button[type=submit]")
    expect(page.locator("#cpr-number")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#cpr-number")).to_have_value("")
    assert _states(live, citizen_id) == {"waiting"}
    # A number of its own per run: the blind index keeps one CPR number on one citizen.
    cpr = f"{CPR[:7]}{citizen_id % 10000:04d}"
    page.fill("#cpr-number", cpr)
    page.click("#cpr-form button[type=submit]")
    expect(page.locator("#cpr-now")).to_contain_text("010190-XXXX")
    expect(page.locator(".flash-success")).to_contain_text("2")
    assert cpr not in page.content() and cpr.replace("-", "") not in page.content()
    assert cpr not in page.url
    assert _states(live, citizen_id) == {"pending"}
    page.screenshot(path=str(ARTIFACTS / f"caseworker-{width}-overview-da.png"), full_page=True)

    # An exemption, from the overview.
    page.click("#exemptions a[href$='/exemptions']")
    page.wait_for_url(f"**/staff/citizens/{citizen_id}/exemptions")
    page.locator("input[name=legal_basis][value=las_75_5]").check()
    page.fill("#ex-ends_on", (today() + timedelta(days=30)).isoformat())
    page.click("#exemption-form button[type=submit]")
    expect(page.locator(".flash-success")).to_be_visible()

    # Off the list, and the month's figures changed.
    page.goto(base + "/staff/worklist?benefit_group=kontanthjaelp&language=uk")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("li.entry", has_text=name)).to_have_count(0)
    page.goto(base + "/staff/figures")
    assert _this_month(page) != before
    # Back on the overview the same day: no purpose asked again.
    page.goto(base + f"/staff/citizens/{citizen_id}")
    expect(page.locator("h1")).to_contain_text(name)
