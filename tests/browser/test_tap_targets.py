"""Tap targets on a phone: every visible control on the login pages, home and the application form is at
least 44 px high and wide. Links inside running text are exempt (WCAG 2.5.8); a radio button counts
through its whole label (``label.choice``)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .support import BROWSER, enter_code, open_details, request_code, small_tap_targets

pytestmark = BROWSER


@pytest.mark.parametrize("lang", ["da", "uk", "ar", "en"])
def test_tap_targets_are_at_least_44px(live, make_citizen, phone, lang):
    citizen = make_citizen(lang, planned=("Rema 1000", "Butiksmedarbejder"),
                           coffee=("Coop", "Lars Nielsen"),
                           applications=(("Netto", "Kassemedarbejder"), ("3M", "Chauffør")))
    page = phone.page
    page.goto("/login")
    problems = {"login": small_tap_targets(page)}
    request_code(phone, live, citizen)
    problems["code page"] = small_tap_targets(page)
    enter_code(phone, live, citizen)
    expect(page.locator("section[aria-labelledby=planned-title]")).to_be_visible()
    problems["home"] = small_tap_targets(page)

    page.goto("/activities/new/application")
    open_details(page)
    problems["application form"] = small_tap_targets(page)
    page.fill("#f-organisation", "")
    page.click("#entry-form button[type=submit]")
    expect(page.locator("#f-organisation")).to_have_attribute("aria-invalid", "true")
    open_details(page)
    problems["application form with errors"] = small_tap_targets(page)

    report = "\n".join(f"{where}: {item}" for where, items in problems.items() for item in items)
    assert not report, f"[{lang}] tap targets lower than 44px:\n{report}"


@pytest.mark.parametrize("lang", ["da", "ar"])
def test_staff_tap_targets_are_at_least_44px(live, new_page, make_citizen, lang):
    """The helper's and the caseworker's pages on a phone: a job café session with a visitor
    and their checklist, the assist page and the assisted form, the work list and figures."""
    from .test_accessibility import cafe_visit, staff_page

    citizen = make_citizen("uk" if lang == "da" else "da")
    session_id, _check_in, _url = cafe_visit(live, citizen.id, lang)
    problems: dict[str, list[str]] = {}
    helper = staff_page(live, new_page, "helper", lang).page
    for where, path in (("staff home", "/staff"), ("job cafés today", "/staff/sessions"),
                        ("session screen", f"/staff/sessions/{session_id}?q=Browser"),
                        ("find a citizen", "/staff/citizens"),
                        ("assist page", f"/staff/citizens/{citizen.id}/assist")):
        helper.goto(path)
        problems[where] = small_tap_targets(helper)
    helper.check("#asked")
    helper.click("#request-form button[type=submit]")
    expect(helper.locator("#request-title")).to_be_visible()
    problems["assist page with a request"] = small_tap_targets(helper)
    helper.goto(f"/staff/citizens/{citizen.id}/new/application")
    open_details(helper)
    problems["assisted form in two languages"] = small_tap_targets(helper)

    caseworker = staff_page(live, new_page, "caseworker", lang).page
    for where, path in (("work list", "/staff/worklist"), ("figures", "/staff/figures"),
                        ("exemptions", f"/staff/citizens/{citizen.id}/exemptions")):
        caseworker.goto(path)
        problems[where] = small_tap_targets(caseworker)

    report = "\n".join(f"{where}: {item}" for where, items in problems.items() for item in items)
    assert not report, f"[{lang}] tap targets lower than 44px:\n{report}"
