"""What a citizen does on the phone, end to end in real Chromium: log in, register each kind
of entry, turn a planned job into an application, follow up a coffee meeting, edit, delete,
fix a validation error, and switch language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from .conftest import today
from .support import (
    BROWSER,
    activities_of,
    assert_lang,
    entry_with,
    html_lang_dir,
    login,
    save_form,
)

pytestmark = BROWSER

LATEST = "section[aria-labelledby=latest-title]"
PLANNED = "section[aria-labelledby=planned-title]"
FOLLOW_UPS = "section[aria-labelledby=follow-title]"


def test_login_lands_on_home_in_the_citizens_language(live, make_citizen, phone):
    """A Danish-language phone, an Arabic-speaking citizen: after the code, home is Arabic."""
    citizen = make_citizen("ar")
    page = phone.page
    page.goto("/login")
    assert_lang(page, "en", "login page before login (Accept-Language en-US)")
    login(phone, live, citizen)
    assert_lang(page, "ar", "home right after login (htmx navigation)")
    page.reload()
    assert_lang(page, "ar", "home after reload")


# The journeys in every language: the screens differ (words, direction), the steps do not.
ALL_LANGUAGES = pytest.mark.parametrize("lang", ["da", "uk", "ar", "en"])


@ALL_LANGUAGES
def test_register_each_kind(live, make_citizen, phone, lang):
    citizen = make_citizen(lang)
    page = phone.page
    login(phone, live, citizen)
    assert_lang(page, lang, "home")
    day = today()

    # 1. Job application, with a choice under "More details".
    page.click("a.big-button[href$='/activities/new/application']")
    page.wait_for_url(phone.url("/activities/new/application"))
    expect(page.locator("#f-occurred_on")).to_have_value(day.isoformat())  # default: today
    page.fill("#f-organisation", "Netto Ballerup")
    page.fill("#f-title", "Butiksmedarbejder")
    page.click("details.more > summary")
    page.click("label.choice:has(input[name=method][value=phone])")
    save_form(phone)
    expect(page.locator("#messages .flash")).to_have_count(1)
    expect(entry_with(page, LATEST, "Netto Ballerup")).to_contain_text("Butiksmedarbejder")

    # 2. Planned job; the employer just used is offered as a chip.
    page.click("a.big-button[href$='/activities/new/planned_job']")
    page.wait_for_url(phone.url("/activities/new/planned_job"))
    page.click(".chips button.chip[data-value='Netto Ballerup']")
    expect(page.locator("#f-organisation")).to_have_value("Netto Ballerup")
    page.fill("#f-organisation", "Arla Foods")
    page.fill("#f-title", "Lagermedarbejder")
    page.click("details.more > summary")
    page.fill("#f-deadline", (day + timedelta(days=14)).isoformat())
    page.fill("#f-ad_url", "https://example.org/job/42")
    page.click("label.choice:has(input[name=plan_tag][value=a])")
    save_form(phone)
    expect(entry_with(page, PLANNED, "Arla Foods")).to_contain_text("Lagermedarbejder")

    # 3. Coffee meeting.
    page.click("a.big-button[href$='/activities/new/coffee_meeting']")
    page.wait_for_url(phone.url("/activities/new/coffee_meeting"))
    page.fill("#f-organisation", "Danish Crown")
    page.fill("#f-person", "Lars Nielsen")
    page.fill("#f-outcome", "Ring igen om to uger.")
    page.click("details.more > summary")
    page.fill("#f-follow_up_on", (day + timedelta(days=14)).isoformat())
    save_form(phone)
    expect(entry_with(page, LATEST, "Danish Crown")).to_contain_text("Lars Nielsen")

    # 4. Network contact.
    page.click("a.big-button[href$='/activities/new/network_lead']")
    page.wait_for_url(phone.url("/activities/new/network_lead"))
    page.fill("#f-person", "Sara Jensen")
    page.fill("#f-relation", "Nabo")
    page.click("details.more > summary")
    page.fill("#f-organisation", "Region Hovedstaden")
    page.fill("#f-next_step", "Skriv en sms")
    save_form(phone)
    expect(entry_with(page, LATEST, "Sara Jensen")).to_contain_text("Region Hovedstaden")

    # 5. Other activity.
    page.click("a.button-quiet[href$='/activities/new/other']")
    page.wait_for_url(phone.url("/activities/new/other"))
    page.fill("#f-description", "Jobmesse i Bella Center")
    save_form(phone)
    expect(entry_with(page, LATEST, "Jobmesse i Bella Center")).to_have_count(1)

    # In the database, exactly as typed.
    rows = {a.kind.value: a for a in activities_of(live, citizen)}
    assert sorted(rows) == sorted(["application", "planned_job", "coffee_meeting",
                                   "network_lead", "other"])
    app = rows["application"]
    assert (app.organisation, app.title, app.occurred_on, app.method.value, app.status.value) == (
        "Netto Ballerup", "Butiksmedarbejder", day, "phone", "applied")
    planned = rows["planned_job"]
    assert (planned.organisation, planned.title, planned.deadline, planned.ad_url,
            planned.plan_tag.value) == ("Arla Foods", "Lagermedarbejder",
                                        day + timedelta(days=14), "https://example.org/job/42", "a")
    coffee = rows["coffee_meeting"]
    assert (coffee.organisation, coffee.person, coffee.outcome, coffee.occurred_on,
            coffee.follow_up_on) == ("Danish Crown", "Lars Nielsen", "Ring igen om to uger.", day,
                                     day + timedelta(days=14))
    lead = rows["network_lead"]
    assert (lead.person, lead.relation, lead.organisation, lead.next_step) == (
        "Sara Jensen", "Nabo", "Region Hovedstaden", "Skriv en sms")
    assert (rows["other"].description, rows["other"].occurred_on) == (
        "Jobmesse i Bella Center", day)

    # History lists all five; the kind filter swaps the list in place and updates the URL.
    page.click("header nav a[href='/activities/history']")
    page.wait_for_url(phone.url("/activities/history"))
    expect(page.locator("#history-list li.entry")).to_have_count(5)
    page.select_option("#filter-kind", "coffee_meeting")
    expect(page.locator("#history-list li.entry")).to_have_count(1)
    expect(page.locator("#history-list li.entry")).to_contain_text("Danish Crown")
    page.wait_for_url("**/activities/history?*kind=coffee_meeting*")
    assert page.locator("h1").count() == 1, "the filtered list must not nest a second page"


@ALL_LANGUAGES
def test_planned_job_becomes_an_application_with_one_tap(live, make_citizen, phone, lang):
    citizen = make_citizen(lang, planned=("Føtex Lyngby", "Kassemedarbejder"))
    page = phone.page
    login(phone, live, citizen)
    planned_item = entry_with(page, PLANNED, "Føtex Lyngby")
    expect(planned_item).to_have_count(1)

    with page.expect_response(lambda r: r.url == phone.url("/") and r.request.method == "GET"):
        planned_item.locator("button[type=submit]").click()
    expect(page.locator(f"{PLANNED} li").filter(has_text="Føtex Lyngby")).to_have_count(0)
    expect(entry_with(page, LATEST, "Føtex Lyngby")).to_contain_text("Kassemedarbejder")
    expect(page.locator("#messages .flash")).to_have_count(1)

    rows = activities_of(live, citizen)
    planned = next(a for a in rows if a.kind.value == "planned_job")
    applications = [a for a in rows if a.kind.value == "application"]
    assert len(applications) == 1
    app = applications[0]
    assert (app.organisation, app.title, app.occurred_on, app.status.value) == (
        "Føtex Lyngby", "Kassemedarbejder", today(), "applied")
    assert planned.converted_to_id == app.id


@ALL_LANGUAGES
def test_follow_up_of_a_coffee_meeting_from_home(live, make_citizen, phone, lang):
    citizen = make_citizen(lang, coffee=("ISS Facility Services", "Mads Holm"))
    page = phone.page
    login(phone, live, citizen)
    item = entry_with(page, FOLLOW_UPS, "ISS Facility Services")
    expect(item).to_contain_text("Mads Holm")

    item.locator("a[href*='/then/coffee_meeting']").click()
    page.wait_for_url("**/then/coffee_meeting")
    expect(page.locator("#f-organisation")).to_have_value("ISS Facility Services")
    expect(page.locator("#f-person")).to_have_value("Mads Holm")
    page.fill("#f-outcome", "Samtale på fredag.")
    save_form(phone)
    expect(page.locator(FOLLOW_UPS)).to_have_count(0)  # nothing else is due
    expect(entry_with(page, LATEST, "Mads Holm")).to_have_count(2)  # first meeting + this one

    meetings = [a for a in activities_of(live, citizen) if a.kind.value == "coffee_meeting"]
    assert len(meetings) == 2
    first, follow_up = meetings
    assert first.followed_up_at is not None
    assert (follow_up.organisation, follow_up.person, follow_up.outcome, follow_up.occurred_on) == (
        "ISS Facility Services", "Mads Holm", "Samtale på fredag.", today())


@ALL_LANGUAGES
def test_edit_and_delete_an_entry(live, make_citizen, phone, lang):
    citizen = make_citizen(lang, applications=(("Bilka Ishøj", "Chauffør"),
                                               ("Coop Valby", "Kassemedarbejder")))
    page = phone.page
    login(phone, live, citizen)
    page.goto("/activities/history")

    # Edit: the form opens with the saved values and "More details" open.
    entry_with(page, "#history-list", "Bilka Ishøj").locator("a[href$='/edit']").click()
    page.wait_for_url("**/activities/*/edit")
    expect(page.locator("#f-organisation")).to_have_value("Bilka Ishøj")
    expect(page.locator("details.more")).to_have_attribute("open", "")
    page.fill("#f-title", "Lastbilchauffør")
    page.click("label.choice:has(input[name=status][value=interview])")
    save_form(phone, "/activities/history")
    expect(page.locator("#messages .flash")).to_have_count(1)
    expect(entry_with(page, "#history-list", "Bilka Ishøj")).to_contain_text("Lastbilchauffør")
    edited = next(a for a in activities_of(live, citizen) if a.organisation == "Bilka Ishøj")
    assert (edited.title, edited.status.value) == ("Lastbilchauffør", "interview")

    # Delete: a confirmation page first; "No, keep it" keeps it.
    entry_with(page, "#history-list", "Coop Valby").locator("a[href$='/delete']").click()
    page.wait_for_url("**/activities/*/delete")
    expect(page.locator("main .card:not(#queue, dialog)")).to_contain_text("Coop Valby")
    page.click("a.button-secondary[href='/activities/history']")
    page.wait_for_url(phone.url("/activities/history"))
    assert len(activities_of(live, citizen)) == 2

    entry_with(page, "#history-list", "Coop Valby").locator("a[href$='/delete']").click()
    page.wait_for_url("**/activities/*/delete")
    page.click("button.button-danger[type=submit]")
    page.wait_for_url(phone.url("/activities/history"))
    expect(page.locator("#history-list li.entry")).to_have_count(1)
    expect(entry_with(page, "#history-list", "Coop Valby")).to_have_count(0)
    deleted = next(a for a in activities_of(live, citizen, include_deleted=True)
                   if a.organisation == "Coop Valby")
    assert deleted.deleted_at is not None


@ALL_LANGUAGES
def test_validation_error_inline_then_fixed(live, make_citizen, phone, lang):
    citizen = make_citizen(lang)
    page = phone.page
    login(phone, live, citizen)
    page.goto("/activities/new/application")
    client_uuid = page.locator("input[name=client_uuid]").input_value()
    page.fill("#f-title", "Rengøringsassistent")
    page.click("#entry-form button[type=submit]")

    employer = page.locator("#f-organisation")
    expect(employer).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-organisation-error")).to_be_visible()
    assert "f-organisation-error" in (employer.get_attribute("aria-describedby") or "").split()
    expect(page.locator("#entry-form .error-summary[role=alert]")).to_be_visible()
    expect(page.locator("#f-title")).to_have_value("Rengøringsassistent")  # nothing lost
    expect(page.locator("#f-title")).not_to_have_attribute("aria-invalid", "true")
    expect(employer).to_be_focused()  # the citizen is taken to what needs fixing
    assert page.url == phone.url("/activities/new/application")
    assert page.locator("input[name=client_uuid]").input_value() == client_uuid
    assert activities_of(live, citizen) == []

    page.fill("#f-organisation", "Lidl Herlev")
    save_form(phone)
    rows = activities_of(live, citizen)
    assert [(a.kind.value, a.organisation, a.title) for a in rows] == [
        ("application", "Lidl Herlev", "Rengøringsassistent")]
    assert str(rows[0].client_uuid) == client_uuid


def test_switch_language_with_the_footer(live, make_citizen, phone):
    citizen = make_citizen("da")
    page = phone.page
    login(phone, live, citizen)
    assert_lang(page, "da", "home")
    brand = page.locator("header .brand").bounding_box()
    assert brand["x"] < 40, f"Danish header should start at the left: {brand}"

    def switch(lang: str) -> None:
        with page.expect_navigation():
            page.click(f"footer form.languages button[name=lang][value={lang}]")

    switch("ar")
    assert_lang(page, "ar", "home after choosing العربية")
    assert page.url == phone.url("/")
    expect(page.locator("footer button[value=ar]")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("footer button[value=da]")).to_have_attribute("aria-pressed", "false")
    # Mirrored for real: the brand starts at the right edge in right-to-left layout.
    brand = page.locator("header .brand").bounding_box()
    assert brand["x"] + brand["width"] > 390 - 40, f"Arabic header is not mirrored: {brand}"
    page.reload()
    assert_lang(page, "ar", "home after reload")

    page.goto("/activities/history")
    switch("uk")
    assert page.url == phone.url("/activities/history"), "the switch must stay on the page"
    assert_lang(page, "uk", "history after choosing Українська")
    switch("ar")
    assert_lang(page, "ar", "history after choosing العربية")

    with live.db() as session:
        from joblog_app.auth.models import User

        assert session.get(User, citizen.id).language == "ar"

    with page.expect_navigation():
        page.click("footer button.button-quiet[type=submit]")  # log out
    page.wait_for_url(phone.url("/login"))
    assert_lang(page, "ar", "login page after logout")
    page.reload()
    assert_lang(page, "ar", "login page after logout and reload")

    # Anonymous switch on the login page also sticks (cookie).
    switch("en")
    assert_lang(page, "en", "login page after choosing English")
    page.goto("/login")
    assert html_lang_dir(page) == ("en", "ltr")


@pytest.mark.parametrize("path", ["/", "/activities/history", "/activities/new/application"])
def test_pages_need_login(phone, path):
    phone.page.goto(path)
    assert phone.page.url == phone.url("/login")


@pytest.mark.parametrize("lang", ["da", "ar"])
def test_printed_month_shows_the_entries_without_menus(live, make_citizen, phone, lang):
    """The monthly overview a citizen shows a caseworker: on paper only the sheet."""
    citizen = make_citizen(lang, applications=(("Bilka Ishøj", "Chauffør"),))
    page = phone.page
    login(phone, live, citizen)
    page.goto(f"/activities/history/print?month={today():%Y-%m}")
    page.emulate_media(media="print")
    expect(page.locator(".print-table")).to_be_visible()
    expect(page.locator(".print-table")).to_contain_text("Bilka Ishøj")
    for chrome in ("header.top", "footer.bottom", ".skip-link", "#messages"):
        expect(page.locator(chrome)).to_be_hidden()
    assert_lang(page, lang, "print view")
    pdf = page.pdf(format="A4")  # it really prints
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    page.emulate_media(media="screen")
    expect(page.locator("header.top")).to_be_visible()
