"""Assisted registration in real Chromium at a phone's and a tablet's width: a helper logs in
with a passkey, finds a citizen, records their request and registers two applications on one
screen in two languages (Danish helper, Arabic citizen); the citizen then sees the entries
marked as entered at the job café, the look-ups in their access log, and withdraws."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS, Live
from .support import BROWSER, login, scroll_width
from .test_staff_login import _email_code, _localhost, _staff, _virtual_authenticator

pytestmark = BROWSER

WIDTHS = {"phone": {"width": 390, "height": 844}, "tablet": {"width": 768, "height": 1024}}


def helper_logs_in(live: Live, new_page, language: str = "da", size: dict | None = None,  # type: ignore[no-untyped-def]
                   bypass_csp: bool = False):
    """A helper's first login: the e-mail code, then a passkey (virtual authenticator)."""
    user_id, email = _staff(live, language=language)
    phone = new_page(locale="da-DK" if language == "da" else language, bypass_csp=bypass_csp)
    page, base = phone.page, _localhost(phone)
    if size:
        page.set_viewport_size(size)
    _virtual_authenticator(page)
    _email_code(phone, live, user_id, email, base)
    page.click("[data-passkey=register]")
    page.wait_for_url(base + "/staff")
    return phone, page, base


def _fits(page, where: str) -> None:  # type: ignore[no-untyped-def]
    width = page.viewport_size["width"]
    assert scroll_width(page) <= width, f"{where}: scrolls sideways at {width}px"


def _active(live: Live, citizen_id: int) -> bool:
    from joblog_app.assisted import services
    from joblog_app.core.clock import today

    with live.db():
        return services.active_request(citizen_id, today()) is not None


@pytest.mark.parametrize("width", list(WIDTHS))
def test_helper_registers_for_an_arabic_citizen_who_then_sees_and_withdraws(
        live, new_page, make_citizen, width):
    citizen = make_citizen("ar")
    size = WIDTHS[width]
    _phone, page, base = helper_logs_in(live, new_page, size=size)

    # Find the citizen (by phone number) and open their assist page.
    page.click("main a[href='/staff/citizens']")
    page.fill("#q", citizen.local_number)
    page.click("form[role=search] button[type=submit]")
    page.click(f"a[href='/staff/citizens/{citizen.id}/assist']")
    expect(page.locator("#request-form")).to_be_visible()
    assert page.locator("section[aria-labelledby=latest-title]").count() == 0  # no data yet
    _fits(page, f"assist page without a request at {width}")
    page.screenshot(path=str(ARTIFACTS / f"assisted-no-request-{width}.png"), full_page=True)

    # Record the request: the citizen asked in person.
    page.check("#asked")
    page.click("#request-form button[type=submit]")
    expect(page.locator("#messages .flash")).to_contain_text("Anmodningen er skrevet ned")
    assert _active(live, citizen.id)

    for employer, title in (("Netto", "Kassemedarbejder"), ("Føtex", "Bager")):
        page.click(f"a.big-button[href$='/staff/citizens/{citizen.id}/new/application']")
        form = page.locator("#entry-form")
        expect(form).to_be_visible()
        label = page.locator("label[for=f-organisation]")
        expect(label).to_contain_text("Arbejdsgiver")
        arabic = label.locator(".in-second-language")
        expect(arabic).to_be_visible()
        expect(arabic).to_have_text("صاحب العمل")
        expect(arabic).to_have_attribute("lang", "ar")
        assert arabic.evaluate("el => getComputedStyle(el).direction") == "rtl"
        assert label.evaluate("el => getComputedStyle(el).direction") == "ltr"
        expect(page.locator("h1 .in-second-language")).to_be_visible()
        expect(page.locator("#entry-form button[type=submit] .in-second-language")).to_have_text("حفظ")
        _fits(page, f"assisted form at {width}")
        if employer == "Netto":
            page.click("#entry-form button[type=submit]")  # nothing typed: both languages say so
            error = page.locator("#f-organisation-error")
            expect(error).to_contain_text("Skriv noget her.")
            expect(error.locator(".in-second-language[dir=rtl]")).to_have_text("اكتب شيئًا هنا.")
            page.screenshot(path=str(ARTIFACTS / f"assisted-form-errors-{width}.png"),
                            full_page=True)
        page.fill("#f-organisation", employer)
        page.fill("#f-title", title)
        page.click("#entry-form button[type=submit]")
        page.wait_for_url(f"{base}/staff/citizens/{citizen.id}/assist")
        expect(page.locator("#messages .flash")).to_contain_text("Gemt: Jobansøgning")
        expect(page.locator("#messages .flash .in-second-language[lang=ar]")).to_be_visible()
    expect(page.locator("section[aria-labelledby=latest-title] li.entry")).to_have_count(2)
    page.screenshot(path=str(ARTIFACTS / f"assisted-helper-{width}.png"), full_page=True)

    from joblog_app.activities.models import Activity, Channel

    with live.db() as session:
        saved = session.query(Activity).filter_by(citizen_id=citizen.id).all()
        assert sorted(a.organisation for a in saved) == ["Føtex", "Netto"]
        assert {a.channel for a in saved} == {Channel.ASSISTED}

    # The citizen, on their own phone, in Arabic.
    mine = new_page(locale="ar")
    mine.page.set_viewport_size(size)
    login(mine, live, citizen)
    cpage = mine.page
    latest = cpage.locator("section[aria-labelledby=latest-title]")
    expect(latest.locator(".entry-assisted")).to_have_count(2)
    expect(latest.locator(".entry-assisted").first).to_contain_text("دُوِّن في مقهى الوظائف")
    cpage.screenshot(path=str(ARTIFACTS / f"assisted-citizen-home-ar-{width}.png"),
                     full_page=True)
    cpage.goto("/access-log")
    expect(cpage.locator("ul.entries li")).not_to_have_count(0)
    expect(cpage.locator("main")).to_contain_text("مساعدة في تدوين بحثك عن عمل")
    expect(cpage.locator("main")).not_to_contain_text("Sofie Staff")
    cpage.screenshot(path=str(ARTIFACTS / f"assisted-access-log-ar-{width}.png"), full_page=True)
    cpage.click("a[href='/assistance']")
    cpage.click("details.card > summary")
    cpage.screenshot(path=str(ARTIFACTS / f"assisted-citizen-requests-ar-{width}.png"),
                     full_page=True)
    cpage.click("form[action='/assistance/withdraw'] button")
    expect(cpage.locator("#messages .flash")).to_be_visible()
    assert not _active(live, citizen.id)

    # The helper, still on the form, is now refused: nothing saved.
    page.click(f"a.big-button[href$='/staff/citizens/{citizen.id}/new/application']")
    expect(page.locator("#request-form")).to_be_visible()  # sent back to record a request
