"""Every page and state in all four languages: axe-core (WCAG 2.1 A/AA) with zero violations,
the right ``lang``/``dir``, no sideways scrolling at 390 px, nor at 320 px with the WCAG
text-spacing override, nor with 200 % text (``assert_reflows``) — also with hostile text saved —
and a screenshot of the home screen per language in ``test-artifacts/``."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from .conftest import ARTIFACTS, demo_citizen
from .support import (
    BROWSER,
    KINDS,
    activities_of,
    assert_lang,
    assert_no_horizontal_scroll,
    assert_reflows,
    enter_code,
    entry_with,
    open_details,
    request_code,
    run_axe,
    save_form,
)

pytestmark = BROWSER

# The phone's own language, so even the login pages come in the citizen's language.
LOCALES = {"da": "da-DK", "uk": "uk-UA", "ar": "ar", "en": "en-GB"}

LONG_WORD = ("Arbejdsmarkedsuddannelsescentersamarbejdsudvalgsformandsstedfortræder"
             "skabsindstillingernesjobsøgningsaktiviteter")[:100]
SCRIPT = "<script>alert(1)</script>"
BIDI = "\u202eevil\u202c \u2067ABC\u2069"
EMOJI = "😀👩🏽‍🍳"
assert len(LONG_WORD) == 100 and " " not in LONG_WORD


class Checker:
    def __init__(self, page: Page, lang: str) -> None:
        self.page, self.lang, self.seen = page, lang, []

    def __call__(self, where: str) -> None:
        self.seen.append(where)
        where = f"[{self.lang}] {where}"
        assert_lang(self.page, self.lang, where)
        assert_no_horizontal_scroll(self.page, where)
        assert_reflows(self.page, where)  # 320 px, text spacing, 200 % text
        run_axe(self.page, where)


@pytest.mark.parametrize("lang", ["da", "uk", "ar", "en"])
def test_every_page_in_every_language(live, new_page, lang):
    # bypass_csp lets add_script_tag inject axe (an inline script). It also means stored text
    # that escaped as markup would run: the no-dialog check below is then the real XSS test.
    phone = new_page(locale=LOCALES[lang], bypass_csp=True)
    page = phone.page
    check = Checker(page, lang)
    citizen = demo_citizen(live, lang)

    # --- Logging in -------------------------------------------------------------------
    page.goto("/login")
    check("login")
    page.click("#login-form button[type=submit]")  # nothing typed
    expect(page.locator("#identifier")).to_have_attribute("aria-invalid", "true")
    check("login with an error")
    request_code(phone, live, citizen)
    check("code page")
    page.fill("#code", "12")
    page.click("#code-form button[type=submit]")
    expect(page.locator("#code")).to_have_attribute("aria-invalid", "true")
    check("code page with an error")
    enter_code(phone, live, citizen)

    # --- Home (demo data: smiley, planned job, follow-up due today, latest entries) ----
    expect(page.locator("section[aria-labelledby=follow-title]")).to_be_visible()
    expect(page.locator("section[aria-labelledby=planned-title]")).to_be_visible()
    check("home")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"home-{lang}.png"), full_page=True)

    cafe_visit(live, citizen.id, lang)
    page.reload()
    expect(page.locator("section.visit .check-item")).to_have_count(2)
    check("home with a job café checklist")
    page.locator("section.visit .check-item").first.click()
    expect(page.locator("section.visit .check-item").first).to_have_attribute("aria-pressed", "true")

    follow_up = page.locator("a[href*='/then/coffee_meeting']").first.get_attribute("href")

    # --- Every new-entry form, open and with errors --------------------------------------
    for kind in KINDS:
        page.goto(f"/activities/new/{kind}")
        open_details(page)
        check(f"new {kind} form")
        for field in page.locator("#entry-form input[type=text], #entry-form textarea").all():
            field.fill("")
        page.click("#entry-form button[type=submit]")
        expect(page.locator("#entry-form [aria-invalid=true]").first).to_be_visible()
        open_details(page)
        check(f"new {kind} form with validation errors")

    page.goto(follow_up)
    check("follow-up coffee meeting form")

    # --- History, print, edit, delete, statement, 404 ------------------------------------
    page.goto("/activities/history")
    expect(page.locator("#history-list li.entry").first).to_be_visible()
    check("history")
    page.select_option("#filter-kind", "application")
    page.wait_for_url("**kind=application*")
    check("history filtered by kind")
    page.goto("/activities/history/print")
    check("print view")
    page.goto("/activities/history")
    edit_href = page.locator("#history-list a[href$='/edit']").first.get_attribute("href")
    page.goto(edit_href)
    check("edit form")
    page.goto(edit_href.replace("/edit", "/delete"))
    check("delete confirmation")
    page.goto("/accessibility")
    check("accessibility statement")
    page.goto("/install")
    check("install help")
    page.goto("/access-log")
    check("who has looked at your information")
    page.goto("/assistance")
    check("help from the job centre (the citizen's requests)")
    page.goto("/reminders")
    expect(page.locator("[data-push-offer]")).to_be_visible()  # this browser can get push
    check("reminder settings with the offer to turn them on")
    page.screenshot(path=str(ARTIFACTS / f"reminders-settings-{lang}.png"), full_page=True)
    page.click("form[action='/reminders/pause'] button")
    page.wait_for_selector("form[action='/reminders/resume']")
    check("reminder settings, paused")
    page.click("form[action='/reminders/resume'] button")
    page.wait_for_selector("form[action='/reminders/pause']")
    page.goto(f"/offline/{lang}")
    check("offline page")
    page.goto("/")
    page.evaluate("""owner => JoblogQueue.put({uuid: crypto.randomUUID(), owner: owner,
        kind: 'application', fields: {organisation: 'Netto', title: 'Kok'}})""",
                  page.get_attribute("body", "data-owner"))
    page.evaluate("JoblogQueue.all().then(q => JoblogQueue.update(Object.assign(q[0], "
                  "{state: 'attention', message: 'x', errors: {title: 'y'}})))")
    page.wait_for_selector("#queue-list li[data-state=attention]")
    check("home with an entry waiting on the phone")
    page.evaluate("JoblogQueue.all().then(q => JoblogQueue.remove(q[0].uuid))")
    response = page.goto("/activities/no-such-page")
    assert response.status == 404
    check("404 page")

    # --- Hostile text: long word, emoji, markup, bidi controls --------------------------
    before = {a.id for a in activities_of(live, citizen)}
    for employer, title in ((LONG_WORD, f"Kok {EMOJI} <b>fed</b>"),
                            (f"{SCRIPT} {EMOJI} {BIDI}", LONG_WORD)):
        page.goto("/activities/new/application")
        page.fill("#f-organisation", employer)
        page.fill("#f-title", title)
        save_form(phone)
    check("home with long, emoji, markup and bidi text")
    page.screenshot(path=str(ARTIFACTS / f"home-{lang}-hostile-text.png"), full_page=True)

    latest = page.locator("section[aria-labelledby=latest-title]")
    expect(entry_with(page, "section[aria-labelledby=latest-title]", SCRIPT)).to_have_count(1)
    expect(latest).to_contain_text(LONG_WORD)
    assert page.locator("main script, main b").count() == 0, "stored text became markup"
    # Typed names are isolated, so Latin text cannot reorder the Arabic sentence around it.
    expect(latest.locator("bdi", has_text=SCRIPT)).to_have_count(1)
    expect(latest.locator("bdi", has_text=LONG_WORD)).to_have_count(2)

    saved = [a for a in activities_of(live, citizen) if a.id not in before]
    assert sorted((a.organisation, a.title) for a in saved) == sorted([
        (LONG_WORD, f"Kok {EMOJI} <b>fed</b>"),
        (f"{SCRIPT} {EMOJI} evil ABC", LONG_WORD),  # bidi controls removed on the server
    ])
    hostile = max(saved, key=lambda a: a.id)

    page.goto("/activities/history")
    check("history with hostile text")
    page.goto("/activities/history/print")
    check("print view with hostile text")
    page.goto(f"/activities/{hostile.id}/edit")
    expect(page.locator("#f-organisation")).to_have_value(f"{SCRIPT} {EMOJI} evil ABC")
    check("edit form with hostile text")
    page.goto(f"/activities/{hostile.id}/delete")
    check("delete confirmation with hostile text")

    assert not phone.watch.dialogs, f"stored text ran as script: {phone.watch.dialogs}"
    assert len(check.seen) == 36, check.seen


def cafe_visit(live, citizen_id: int, lang: str) -> tuple[int, int, str]:  # type: ignore[no-untyped-def]
    """A job café of the demo municipality with today's session, where the citizen is checked
    in with a suggested and a typed checklist item: (session id, check-in id, check-in URL)."""
    from flask import url_for

    from joblog_app.auth.models import Municipality, Role, User
    from joblog_app.cafes import services as cafes
    from joblog_app.core.clock import today
    from joblog_app.extensions import db
    from joblog_app.permissions import Actor, Channel

    with live.app.test_request_context(base_url=live.url), live.db():
        municipality = db.session.query(Municipality).filter_by(code="999").one()
        helper = db.session.query(User).filter_by(role=Role.HELPER,
                                                  municipality_id=municipality.id).first()
        cafe = cafes.create_cafe(municipality.id, {
            "name": f"Jobcafé {lang}", "place": "Hovedbiblioteket", "weekday": "0",
            "opens": "10:00", "closes": "13:00", "languages": ["da", lang]})
        session = cafes.open_session(Actor.of(helper, Channel.ASSISTED), cafe, today())
        row = cafes.check_in(session, db.session.get(User, citizen_id))
        cafes.add_item(row, "applications_2")
        cafes.add_item(row, "", f"{LONG_WORD[:40]} {EMOJI} {SCRIPT}"[:80])
        url = url_for("cafes.checkin", token=cafes.checkin_token(session, live.app.secret_key))
        db.session.commit()
        return session.id, row.id, url


def staff_page(live, new_page, role: str, lang: str):  # type: ignore[no-untyped-def]
    """A browser logged in as a new staff user of the demo municipality whose session has
    passed its second factor (the real login is tested in test_staff_login.py)."""
    from datetime import timedelta

    from joblog_app.auth import services as auth
    from joblog_app.auth.models import LoginSession, Municipality, Role, User
    from joblog_app.models_base import utcnow

    with live.db() as session:
        municipality = session.query(Municipality).filter_by(code="999").one()
        user = User(name=f"Staff {role} {lang}", email=f"{role}-{lang}-{uuid.uuid4().hex[:8]}@example.org",
                    role=Role(role), language=lang, municipality_id=municipality.id)
        session.add(user)
        session.flush()
        token = auth.start_session(user, timedelta(hours=1))
        session.query(LoginSession).filter_by(user_id=user.id).update(
            {"second_factor_at": utcnow()})
        session.commit()
        cookie = live.app.session_interface.get_signing_serializer(live.app).dumps(
            {"sid": token, "_user_id": str(user.id), "_fresh": True})
    phone = new_page(locale=LOCALES[lang], bypass_csp=True)
    phone.page.context.add_cookies([{"name": live.app.config["SESSION_COOKIE_NAME"],
                                     "value": cookie, "url": live.url}])
    return phone


@pytest.mark.parametrize("lang", ["da", "uk", "ar", "en"])
def test_every_job_cafe_page_in_every_language(live, new_page, make_citizen, lang):
    """The administrator's café pages, the helper's session pages and the citizen's check-in
    and pairing pages: axe-core, lang/dir, reflow."""
    admin = staff_page(live, new_page, "admin", lang)
    page = admin.page
    check = Checker(page, lang)
    page.goto("/staff/cafes")
    check("job cafés")
    page.click("#cafe-form button[type=submit]")
    expect(page.locator("#cafe-name")).to_have_attribute("aria-invalid", "true")
    check("job cafés with an error")
    page.goto(page.locator("a[href^='/staff/cafes/']").first.get_attribute("href"))
    check("change a job café")

    citizen = make_citizen(lang)
    session_id, check_in_id, checkin_url = cafe_visit(live, citizen.id, lang)
    helper = staff_page(live, new_page, "helper", lang)
    page = helper.page
    check.page = page
    page.goto("/staff/sessions")
    check("job cafés today")
    page.goto(f"/staff/sessions/{session_id}?q=Browser")
    expect(page.locator("article.visitor")).to_have_count(1)
    expect(page.locator("ul.results li").first).to_be_visible()
    check("session screen with a search")
    page.locator("article.visitor details.more:not([open]) > summary").click()
    page.evaluate("document.querySelector('article.visitor input[name=text]').maxLength = 200")
    page.locator("article.visitor input[name=text]").fill("x" * 81)
    page.locator("form.add-item button[type=submit]:not([name])").click()
    expect(page.locator("article.visitor input[name=text]")).to_have_attribute("aria-invalid", "true")
    check("session screen with a checklist error")
    page.goto(f"/staff/sessions/{session_id}/qr")
    check("check-in code on the whole screen")
    page.goto(f"/staff/sessions/{session_id}")
    page.locator("form[action$='/pair'] button").click()
    expect(page.locator("[data-pair-url]")).to_be_attached()
    pair_url = page.get_attribute("[data-pair-url]", "data-pair-url")
    check("pairing code")

    phone = new_page(locale=LOCALES[lang], bypass_csp=True)
    page = phone.page
    check.page = page
    page.goto(pair_url.replace("localhost", "127.0.0.1"))
    check("log in on this phone")
    page.click("form[action*='/pair/'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    page.goto(checkin_url)
    check("check in at the job café")
    response = page.goto("/checkin/1.forged-code-forged-code-xx")
    assert response.status == 404
    check("a check-in code that does not work")
    assert len(check.seen) == 11, check.seen


def test_the_axe_check_itself_finds_violations(new_page):
    """Guards the guard: a page with known WCAG failures must make ``run_axe`` fail loudly."""
    page = new_page(bypass_csp=True).page
    page.set_content('<html><head><title>t</title></head><body><main>'
                     '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input id="x">'
                     '</main></body></html>')
    with pytest.raises(AssertionError) as failure:
        run_axe(page, "a broken page")
    message = str(failure.value)
    assert "html-has-lang" in message and "image-alt" in message and "label" in message
    assert "at img" in message  # names the offending node


def test_the_sideways_scroll_check_itself(new_page):
    page = new_page().page
    page.set_content('<html lang="en"><head><meta name="viewport" '
                     'content="width=device-width, initial-scale=1"></head>'
                     '<body><div class="wide" style="width:600px">x</div></body></html>')
    with pytest.raises(AssertionError, match=r"scrollWidth=6\d\d.*div\.wide"):
        assert_no_horizontal_scroll(page, "a too wide page")


def test_the_reflow_check_itself(new_page):
    """Guards the guard: fits at 390 px but not at 320 px, or only without text spacing."""
    page = new_page().page
    head = ('<html lang="da"><head><meta name="viewport" content="width=device-width, '
            'initial-scale=1"></head><body style="margin:0">')
    page.set_content(head + '<div class="fixed" style="width:340px">x</div></body></html>')
    with pytest.raises(AssertionError, match=r"at 320px.*div\.fixed"):
        assert_reflows(page, "a 340 px box")
    page.set_content(head + '<p class="word" style="display:inline-block;white-space:nowrap">'
                     + "Tilgængelighedserklæring" * 1 + " Netværk</p></body></html>")
    with pytest.raises(AssertionError, match=r"text-spacing override|200% text"):
        assert_reflows(page, "a nowrap line that only fits with normal spacing")


@pytest.mark.parametrize("lang", ["da", "uk", "ar", "en"])
def test_assisted_registration_pages_in_every_language(live, new_page, make_citizen, lang):
    """The helper's pages of assisted registration (issue 11), the form in two languages: the
    helper's ``lang`` with the citizen's beneath (Arabic, or Danish for an Arabic helper)."""
    from .test_assisted import helper_logs_in

    citizen = make_citizen("da" if lang == "ar" else "ar")
    _phone, page, base = helper_logs_in(live, new_page, language=lang, bypass_csp=True)
    check = Checker(page, lang)
    page.goto(f"{base}/staff/citizens?q={citizen.local_number}")
    check("find a citizen, with a result")
    page.click(f"a[href='/staff/citizens/{citizen.id}/assist']")
    check("assist page without a request")
    page.click("#request-form button[type=submit]")  # not confirmed: an error
    expect(page.locator("#asked")).to_have_attribute("aria-invalid", "true")
    check("assist page, request with an error")
    page.check("#asked")
    page.click("#request-form button[type=submit]")
    expect(page.locator("#request-title")).to_be_visible()
    page.click("#request-title ~ details > summary")
    check("assist page with a request, renew open")
    page.click("a.big-button[href$='/new/application']")
    open_details(page)
    check("assisted form in two languages")
    page.click("#entry-form button[type=submit]")
    expect(page.locator("#f-organisation")).to_have_attribute("aria-invalid", "true")
    open_details(page)
    check("assisted form in two languages with errors")
    assert len(check.seen) == 6, check.seen


@pytest.mark.parametrize("lang", ["da", "uk", "ar", "en"])
def test_every_caseworker_page_in_every_language(live, new_page, lang):
    """The work list (with the demo's exempt and red citizens, and with a wrong filter), a
    citizen's overview (its purpose step, with an error, the page, with refused input), a
    citizen's exemptions (and a refused grant), and the figures with their SVG chart."""
    import pyotp

    from .test_staff_login import _email_code, _give_back_the_code_budget, _staff  # noqa: F401

    user_id, email = _staff(live, role="caseworker", language=lang)
    phone = new_page(locale=LOCALES[lang], bypass_csp=True)
    page, base = phone.page, phone.base
    check = Checker(page, lang)
    _email_code(phone, live, user_id, email, base)
    page.click("form[action$='/enrol/app'] button")
    page.wait_for_url(base + "/login/second-factor/enrol/app")
    page.fill("#app-code", pyotp.TOTP(page.locator("code.secret").inner_text()).now())
    page.click("#app-form button[type=submit]")
    page.wait_for_url(base + "/staff")
    expect(page.locator("#ending-title")).to_be_visible()
    check("staff home with exemptions that end soon")

    page.goto(base + "/staff/worklist")
    expect(page.locator("#ending-title")).to_be_visible()
    expect(page.locator("ul.entries li.entry").first).to_be_visible()
    check("work list")
    page.goto(base + "/staff/worklist?min_days=abc&benefit_group=sho")
    expect(page.locator("#f-min_days")).to_have_attribute("aria-invalid", "true")
    check("work list with a wrong filter")
    # The citizen overview: the purpose step (and a refused one), then the page (and a
    # refused CPR number and requirement).
    page.locator("ul.entries a.button-go").first.click()
    expect(page.locator("#purpose-form")).to_be_visible()
    check("the overview's purpose step")
    page.locator("input[name=purpose][value=other]").check()
    page.click("#purpose-form button[type=submit]")
    expect(page.locator("#purpose-text")).to_have_attribute("aria-invalid", "true")
    check("the overview's purpose step with an error")
    page.fill("#purpose-text", f"{LONG_WORD[:40]} {EMOJI}")
    page.click("#purpose-form button[type=submit]")
    expect(page.locator("#progress")).to_be_visible()
    check("a citizen's overview")
    page.fill("#req-count", "abc")
    page.click("#requirement button.button-primary")
    expect(page.locator("#req-count")).to_have_attribute("aria-invalid", "true")
    page.fill("#cpr-number", "123")
    page.click("#cpr-form button[type=submit]")
    expect(page.locator("#cpr-number")).to_have_attribute("aria-invalid", "true")
    check("a citizen's overview with a refused CPR number")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"overview-{lang}.png"), full_page=True)
    page.goto(base + "/staff/worklist")
    page.locator("ul.entries a[href$='/exemptions']").first.click()
    page.wait_for_url("**/exemptions")
    check("a citizen's exemptions")
    page.fill("#ex-ends_on", "")
    page.click("#exemption-form button[type=submit]")
    expect(page.locator("#ex-ends_on")).to_have_attribute("aria-invalid", "true")
    check("a citizen's exemptions with a refused grant")
    page.goto(base + "/staff/worklist")
    page.locator("ul.entries a[href$='/case']").first.click()
    page.wait_for_url("**/case")
    check("a citizen's case")
    page.evaluate("document.querySelector('#case-follow_up_on').type = 'text'")
    page.fill("#case-follow_up_on", "2026-02-30")
    page.fill("#case-note", "Ring mandag")
    page.click("#case-form button[type=submit]")
    expect(page.locator("#case-follow_up_on")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#case-note")).to_have_value("Ring mandag")
    check("a citizen's case with a refused date")
    page.goto(base + "/staff/worklist?language=uk")
    page.click("form[action$='/worklist/filters'] button[type=submit]")
    expect(page.locator("#f-save-name")).to_have_attribute("aria-invalid", "true")
    check("work list, saving a filter without a name")
    page.fill("#f-save-name", "Ukrainsk")
    page.click("form[action$='/worklist/filters'] button[type=submit]")
    expect(page.locator("#saved-title + ul a")).to_have_count(1)
    page.locator("ul.entries form[action$='/case/take'] button").first.click()
    page.wait_for_url("**/staff/worklist**")
    check("work list with a saved filter, a citizen assigned")
    page.goto(base + "/staff/figures")
    expect(page.locator("svg.bars rect").first).to_be_attached()
    check("figures")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"figures-{lang}.png"), full_page=True)
    page.goto(base + "/staff/worklist")
    page.screenshot(path=str(ARTIFACTS / f"worklist-{lang}.png"), full_page=True)
    assert len(check.seen) == 14, check.seen
