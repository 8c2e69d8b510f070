"""A job café in real Chromium, at a phone's and a tablet's width: a helper logs in with a
passkey and opens today's session; three citizens check in by opening the QR code's URL on
their phones (logging in first); the helper sees them, adds a checklist item that the
citizen sees and ticks on their phone, and pairs one citizen's phone with a one-time code
(a fresh browser lands on that citizen's home screen). Screenshots of the session screen in
Danish and Arabic go to ``test-artifacts/``."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS, Live, Phone
from .support import BROWSER, assert_lang, run_axe
from .test_staff_login import _email_code, _localhost, _staff, _virtual_authenticator

pytestmark = BROWSER

WIDTHS = {"phone": {"width": 390, "height": 844}, "tablet": {"width": 768, "height": 1024}}


def cafe_for_today(live: Live) -> tuple[int, str]:
    """A café of the demo municipality that meets today (its own name per test)."""
    from datetime import time

    from joblog_app.auth.models import Municipality
    from joblog_app.cafes.models import Cafe
    from joblog_app.core.clock import today

    name = f"Jobcafé {uuid.uuid4().hex[:4]}"
    with live.db() as session:
        municipality = session.query(Municipality).filter_by(code="999").one()
        cafe = Cafe(municipality_id=municipality.id, name=name, place="Biblioteket",
                    weekday=today().weekday(), opens_at=time(10), closes_at=time(13),
                    languages="da,uk,ar")
        session.add(cafe)
        session.commit()
        return cafe.id, name


def _fits(page, width: int, where: str) -> None:  # type: ignore[no-untyped-def]
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= width, f"{where}: scrolls sideways at {width}px ({scroll})"


def _citizen_checks_in(phone: Phone, live: Live, citizen, checkin_url: str) -> None:  # type: ignore[no-untyped-def]
    """Opening the QR code's URL logged out: the login, then back to the check-in, one tap."""
    page = phone.page
    page.goto(checkin_url)
    page.wait_for_url(re.compile(r".*/login$"))
    before = len(live.outbox.codes)
    page.fill("#identifier", citizen.local_number)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/login/code$"))
    page.fill("#code", live.outbox.wait_for(citizen.id, after=before))
    page.click("#code-form button[type=submit]")
    page.wait_for_url(checkin_url)
    page.click("form[action*='/checkin/'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/#cafe-title$"))
    expect(page.locator("section.visit")).to_be_visible()


@pytest.mark.parametrize("device", ["phone", "tablet"])
def test_a_job_cafe_session(live, new_page, make_citizen, device):
    from joblog_app.auth.models import LoginSession

    width = WIDTHS[device]["width"]
    cafe_id, cafe_name = cafe_for_today(live)
    user_id, email = _staff(live, role="helper", language="da")
    helper = new_page(locale="da-DK", bypass_csp=True)  # for run_axe at the end
    page, base = helper.page, _localhost(helper)
    page.set_viewport_size(WIDTHS[device])
    _virtual_authenticator(page)
    _email_code(helper, live, user_id, email, base)
    page.click("[data-passkey=register]")  # the passkey is this login's second step
    page.wait_for_url(base + "/staff")

    page.click("a[href='/staff/sessions']")
    page.wait_for_url(base + "/staff/sessions")
    page.click(f"form[action='/staff/cafes/{cafe_id}/open'] button")
    page.wait_for_url(re.compile(r".*/staff/sessions/\d+$"))
    screen = page.url
    checkin_url = page.get_attribute("[data-checkin-url]", "data-checkin-url")
    assert checkin_url and "/checkin/" in checkin_url
    expect(page.locator("img.qr")).to_be_visible()

    citizens = [make_citizen(lang) for lang in ("ar", "uk", "da")]
    phones = []
    for citizen in citizens:
        phone = new_page(locale="en-GB")
        _citizen_checks_in(phone, live, citizen, checkin_url)
        phones.append(phone)

    page.goto(screen)
    visitors = page.locator("article.visitor")
    expect(visitors).to_have_count(3)
    first = visitors.nth(0)
    expect(first).to_contain_text("Arabisk")  # the language, in the helper's words
    expect(first).to_contain_text("Rød")  # the smiley, in words

    # A checklist item the citizen then sees and ticks on their phone.
    first.locator("button[value=cv]").click()
    page.wait_for_url(re.compile(r".*#visitor-\d+$"))
    first = page.locator("article.visitor").nth(0)
    first.locator("details.more:not([open]) > summary").click()  # closed once it has items
    first.locator("input[name=text]").fill("Ring til Netto")
    first.locator("form.add-item button[type=submit]:not([name])").click()
    expect(page.locator("article.visitor").nth(0).locator(".check-item")).to_have_count(2)
    citizen_page = phones[0].page
    citizen_page.goto(phones[0].base.replace("127.0.0.1", "localhost") + "/")
    visit = citizen_page.locator("section.visit")
    expect(visit).to_contain_text("Ring til Netto")
    assert_lang(citizen_page, "ar", "the citizen's home with the checklist")
    visit.locator(".check-item").first.click()
    expect(citizen_page.locator("section.visit .check-item").first).to_have_attribute(
        "aria-pressed", "true")
    page.reload()
    expect(page.locator("article.visitor").nth(0).locator(".check-item").first) \
        .to_have_attribute("aria-pressed", "true")

    # The session screen at this width, in Danish and in Arabic.
    _fits(page, width, f"session screen ({device})")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"cafe-session-{width}-da.png"), full_page=True)
    page.click("footer button[value=ar]")
    page.wait_for_load_state()
    assert_lang(page, "ar", "session screen in Arabic")
    _fits(page, width, f"session screen in Arabic ({device})")
    page.screenshot(path=str(ARTIFACTS / f"cafe-session-{width}-ar.png"), full_page=True)
    page.click("footer button[value=da]")
    page.wait_for_load_state()

    # Pairing the second citizen's phone: a fresh browser opens the one-time URL.
    page.goto(screen)
    page.locator("article.visitor").nth(1).locator("form[action$='/pair'] button").click()
    pair_url = page.get_attribute("[data-pair-url]", "data-pair-url")
    assert pair_url and "/pair/" in pair_url
    expect(page.locator("img.qr")).to_be_visible()
    fresh = new_page(locale="en-GB").page
    fresh.goto(pair_url)
    fresh.click("form[action*='/pair/'] button[type=submit]")
    fresh.wait_for_url(re.compile(r".*/$"))
    expect(fresh.locator("section.visit")).to_contain_text(cafe_name)
    assert_lang(fresh, "uk", "the paired phone's home")
    with live.db() as session:
        # One from the code login at check-in, one from the pairing.
        assert session.query(LoginSession).filter_by(user_id=citizens[1].id).count() == 2
    # The code works once.
    again = new_page(locale="en-GB").page
    response = again.goto(pair_url)
    assert response.status == 410
    expect(again.locator("h1")).to_contain_text("This code does not work")
    run_axe(page, "pairing page")
