"""What axe cannot see (WCAG 4.1.3, 2.4.3, 3.3.1): after a save, a delete or a conversion the
citizen sees and hears what happened — the words go into a status region that was in the page
before, focus and scroll go to the message — and an error, also in a radio group, is focused
and linked from an error summary that names the fields. The helpers live in support.py, so
the staff pages can be held to the same checks."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .support import (
    BROWSER,
    assert_announced,
    assert_focus_in_view,
    login,
    watch_live_regions,
)

pytestmark = BROWSER

MESSAGE = "#messages .flash"
SAVED = {"da": "Gemt: Jobansøgning", "uk": "Збережено: Заявка на роботу",
         "ar": "تم الحفظ: طلب عمل", "en": "Saved: Job application"}


def _scroll_to_bottom(page) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    assert page.evaluate("() => scrollY") > 200, "the page is too short to test scrolling"


@pytest.fixture
def citizen_page(new_page, live, make_citizen):  # type: ignore[no-untyped-def]
    """``citizen_page(lang, **data)`` → a logged-in phone whose live regions are watched."""
    used: list[int] = []

    def open_page(lang: str = "en", **data):  # type: ignore[no-untyped-def]
        phone = new_page()
        watch_live_regions(phone.page)
        citizen = make_citizen(lang, **data)
        used.append(citizen.id)
        login(phone, live, citizen)
        return phone

    yield open_page
    # Every browser test logs in from 127.0.0.1, which may ask for 60 codes per window (a job
    # café's budget, auth/services.py). Give back the codes these checks used, so the login
    # tests later in the session are not refused.
    from joblog_app.auth.models import LoginCode

    with live.db() as session:
        session.query(LoginCode).filter(LoginCode.user_id.in_(used)).delete(
            synchronize_session=False)
        session.commit()


@pytest.mark.parametrize("lang", ["da", "ar"])
def test_i_applied_on_home_is_seen_and_heard(citizen_page, lang):
    phone = citizen_page(lang,
                         planned=("Føtex Lyngby", "Kassemedarbejder"),
                         coffee=("Arbejdsformidlingen", "Mette"),
                         applications=(("Netto", "Kok"), ("Irma", "Bager")))
    page = phone.page
    _scroll_to_bottom(page)
    page.locator("section[aria-labelledby=planned-title] button[type=submit]").click()
    assert_announced(page, SAVED[lang], "after “I applied”")
    assert_focus_in_view(page, MESSAGE, "after “I applied”")
    expect(page.locator(MESSAGE)).to_have_text(SAVED[lang])


def test_saving_an_edit_from_my_list_is_seen_and_heard(citizen_page):
    phone = citizen_page("en",
                         applications=tuple((f"Firma {i}", f"Job {i}") for i in range(6)))
    page = phone.page
    page.goto("/activities/history")
    page.locator("#history-list a[href$='/edit']").last.click()
    page.wait_for_url("**/edit")
    page.fill("#f-title", "Kok")
    _scroll_to_bottom(page)
    page.click("#entry-form button[type=submit]")
    page.wait_for_url(phone.url("/activities/history"))
    assert_announced(page, "Your changes are saved.", "after saving an edit")
    assert_focus_in_view(page, MESSAGE, "after saving an edit")


def test_deleting_is_seen_and_heard(citizen_page):
    phone = citizen_page("uk", applications=(("Netto", "Kok"),))
    page = phone.page
    page.goto("/activities/history")
    page.locator("#history-list a[href$='/delete']").first.click()
    page.wait_for_url("**/delete")
    page.click("button.button-danger")
    page.wait_for_url(phone.url("/activities/history"))
    assert_announced(page, "Запис видалено.", "after deleting")
    assert_focus_in_view(page, MESSAGE, "after deleting")


def test_a_follow_up_meeting_saved_from_home_is_seen_and_heard(citizen_page):
    phone = citizen_page("en", coffee=("Novo", "Lars"))
    page = phone.page
    page.locator("a[href*='/then/coffee_meeting']").first.click()
    page.wait_for_url("**/then/coffee_meeting")
    _scroll_to_bottom(page)
    page.click("#entry-form button[type=submit]")
    page.wait_for_url(phone.url("/"))
    assert_announced(page, "Saved: Coffee meeting", "after the follow-up meeting")
    assert_focus_in_view(page, MESSAGE, "after the follow-up meeting")


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_an_error_in_a_radio_group_is_focused_and_named(citizen_page, lang):
    phone = citizen_page(lang)
    page = phone.page
    page.goto("/activities/new/application")
    page.fill("#f-organisation", "Netto")
    page.fill("#f-title", "Kok")
    page.click("details.more > summary")
    page.evaluate("() => document.querySelectorAll('input[name=method]')"
                  ".forEach(r => r.checked = false)")
    page.click("#entry-form button[type=submit]")
    summary = page.locator("#entry-form .error-summary")
    expect(summary).to_be_visible()
    # Focus is on the radio group (its first option), which is on screen.
    assert_focus_in_view(page, "#f-method", "after an error in a radio group")
    # The summary names the field and links to it; no "see the red text".
    links = summary.locator("a")
    expect(links).to_have_count(1)
    question = page.locator("fieldset:has(#f-method) legend").inner_text().strip()
    expect(links.first).to_contain_text(question)
    expect(links.first).to_have_attribute("href", "#f-method")
    # The group says what is wrong, with an icon, and is described by it.
    expect(page.locator("#f-method-error svg")).to_have_count(1)
    expect(page.locator("fieldset:has(#f-method)")).to_have_attribute(
        "aria-describedby", "f-method-error")
    # Following the link from the summary puts focus back on the group.
    page.focus("#f-title")
    links.first.click()
    assert_focus_in_view(page, "#f-method", "after following the summary link")


def test_text_field_errors_are_all_named_and_the_first_is_focused(citizen_page):
    phone = citizen_page("da")
    page = phone.page
    page.goto("/activities/new/application")
    page.click("#entry-form button[type=submit]")
    summary = page.locator("#entry-form .error-summary")
    expect(summary.locator("a")).to_have_count(2)
    expect(summary).to_contain_text("Tjek 2 felter")
    expect(summary.locator("a").first).to_contain_text("Arbejdsgiver: Skriv noget her.")
    assert_focus_in_view(page, "#f-organisation", "after errors in text fields")


def test_filter_results_are_announced_in_a_region_that_stays(citizen_page):
    phone = citizen_page("en",
                         applications=(("Netto", "Kok"), ("Irma", "Bager")))
    page = phone.page
    page.goto("/activities/history")
    region = page.locator("#history-status")
    expect(region).to_have_attribute("role", "status")
    expect(page.locator("#history-list")).not_to_have_attribute("aria-live", "polite")
    page.select_option("#filter-kind", "coffee_meeting")
    page.wait_for_url("**kind=coffee_meeting*")
    assert_announced(page, "No entries this month.", "after filtering")
    page.select_option("#filter-kind", "application")
    assert_announced(page, "2 entries", "after filtering again")


def test_sent_from_the_phone_queue_is_announced(citizen_page):
    from .conftest import today

    phone = citizen_page("en")
    page = phone.page
    page.evaluate("""([owner, day]) => JoblogQueue.put({uuid: crypto.randomUUID(), owner: owner,
        kind: 'application', fields: {organisation: 'Salling', title: 'Lager',
        occurred_on: day, method: 'advertised', status: 'applied'}})""",
                  [page.get_attribute("body", "data-owner"), today().isoformat()])
    page.wait_for_function("() => !document.getElementById('queue').hidden")
    page.click("[data-queue-send]")
    expect(page.locator("#queue")).to_be_hidden()
    assert_announced(page, "All waiting entries are sent.", "after the queue was sent")


def test_skip_link_and_current_page_marker(citizen_page):
    phone = citizen_page("da")
    page = phone.page
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["height"] >= 44
    current = page.locator(".top a[aria-current=page]")
    expect(current).to_have_count(1)
    # Not by colour alone: an underline that forced colours keep.
    assert current.evaluate("a => getComputedStyle(a).textDecorationLine") == "underline"
