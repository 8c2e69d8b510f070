"""Issue 11's journey end to end in real Chromium, at a phone's and a tablet's width.

A helper logs in with a passkey and opens today's café session; three citizens check in by
opening the QR code's URL; from the session screen the helper records one citizen's request
and registers two applications for them, and pairs another citizen's phone. The first
citizen then sees the entries marked as entered at the job café and the look-ups, under the
café's name, in their access log (in Arabic); the paired citizen's log shows the pairing.
(test_cafes.py and test_assisted.py go into each part's details.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS
from .support import BROWSER, login
from .test_assisted import WIDTHS, helper_logs_in
from .test_cafes import _citizen_checks_in, _fits, cafe_for_today

pytestmark = BROWSER


@pytest.mark.parametrize("device", list(WIDTHS))
def test_helper_session_from_check_in_to_the_citizens_access_log(live, new_page, make_citizen,
                                                                  device):
    size = WIDTHS[device]
    cafe_id, cafe_name = cafe_for_today(live)
    _helper, page, base = helper_logs_in(live, new_page, size=size)

    page.click("a[href='/staff/sessions']")
    page.click(f"form[action='/staff/cafes/{cafe_id}/open'] button")
    page.wait_for_url(re.compile(r".*/staff/sessions/\d+$"))
    screen = page.url
    checkin_url = page.get_attribute("[data-checkin-url]", "data-checkin-url")

    arabic, ukrainian, danish = (make_citizen(lang) for lang in ("ar", "uk", "da"))
    for citizen in (arabic, ukrainian, danish):
        _citizen_checks_in(new_page(locale="en-GB"), live, citizen, checkin_url)
    page.goto(screen)
    expect(page.locator("article.visitor")).to_have_count(3)
    _fits(page, size["width"], f"session screen ({device})")
    if device == "tablet":
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "journey-cafe-session-768-da.png"), full_page=True)

    # From the session screen: the Arabic citizen's request, then two applications.
    page.click(f"article.visitor a[href='/staff/citizens/{arabic.id}/assist']")
    page.check("#asked")
    page.click("#request-form button[type=submit]")
    expect(page.locator("#messages .flash")).to_contain_text("Anmodningen er skrevet ned")
    for employer, title in (("Netto", "Kassemedarbejder"), ("Føtex", "Bager")):
        page.click(f"a.big-button[href$='/staff/citizens/{arabic.id}/new/application']")
        expect(page.locator("label[for=f-organisation] .in-second-language[lang=ar]")) \
            .to_have_text("صاحب العمل")
        page.fill("#f-organisation", employer)
        page.fill("#f-title", title)
        page.click("#entry-form button[type=submit]")
        page.wait_for_url(f"{base}/staff/citizens/{arabic.id}/assist")
    expect(page.locator("section[aria-labelledby=latest-title] li.entry")).to_have_count(2)

    # Back on the session screen: pair the Ukrainian citizen's phone.
    page.goto(screen)
    page.locator(f"article.visitor:has(a[href='/staff/citizens/{ukrainian.id}/assist'])"
                 " form[action$='/pair'] button").click()
    pair_url = page.get_attribute("[data-pair-url]", "data-pair-url")
    paired = new_page(locale="uk").page
    paired.set_viewport_size(WIDTHS["phone"])
    paired.goto(pair_url)
    paired.click("form[action*='/pair/'] button[type=submit]")
    paired.wait_for_url(re.compile(r".*/$"))
    expect(paired.locator("section.visit")).to_contain_text(cafe_name)
    paired.goto(paired.url.rstrip("/") + "/access-log")  # same host as the pairing link
    expect(paired.locator("main")).to_contain_text(cafe_name)

    # The Arabic citizen on their own phone: the café's entries and who looked.
    mine = new_page(locale="ar")
    mine.page.set_viewport_size(WIDTHS["phone"])
    login(mine, live, arabic)
    cpage = mine.page
    marks = cpage.locator("section[aria-labelledby=latest-title] .entry-assisted")
    expect(marks).to_have_count(2)
    expect(marks.first).to_contain_text("دُوِّن في مقهى الوظائف")
    cpage.goto("/access-log")
    log = cpage.locator("main")
    expect(log).to_contain_text(cafe_name)  # the unit: the café where they were checked in
    expect(log).to_contain_text("زيارتك إلى مقهى الوظائف")  # why: their visit (session screen)
    expect(log).to_contain_text("مساعدة في تدوين بحثك عن عمل")  # why: registering for them
    expect(log).not_to_contain_text("Sofie")  # never the staff member's name
    assert cpage.evaluate("document.documentElement.dir") == "rtl"
    if device == "phone":
        cpage.screenshot(path=str(ARTIFACTS / "journey-access-log-390-ar.png"), full_page=True)
