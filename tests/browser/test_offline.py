"""Installable app and offline registration in real Chromium at a phone's size.

The service worker, IndexedDB, the network cut (``context.set_offline``) and the dropped
answer (Playwright routing) are all real; the server is the live test server.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .conftest import Citizen, Live, Phone, today
from .support import login, open_details

OFFLINE_TITLE = {"da": "Ingen forbindelse", "uk": "Немає інтернету", "ar": "أنت غير متصل",
                 "en": "You are offline"}
ONE_WAITING = {"da": "1 registrering er ikke sendt endnu.", "uk": "1 запис ще не надіслано.",
               "ar": "تسجيل واحد لم يُرسل بعد.", "en": "1 entry is not sent yet."}
ALL_SCREENS = 7  # home, history and the five new-entry forms are kept for offline use


def eventually(page: Page, expression: str, timeout: float = 10) -> None:
    """Poll an expression that may return a promise (``wait_for_function`` does not await)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout}s: {expression}"
        time.sleep(0.1)


def wait_until_offline_ready(page: Page) -> None:
    """The service worker controls the page and the citizen's screens are on the phone."""
    # Not wait_for_function with a string: when its first check is false it re-evaluates with
    # eval(), which the page's CSP refuses (a flaky EvalError on a busy machine).
    eventually(page, "navigator.serviceWorker.controller !== null")
    eventually(page, "caches.open('joblog-pages').then(c => c.keys())"
                     f".then(k => k.length >= {ALL_SCREENS})")


def wait_until_sent(page: Page) -> None:
    eventually(page, "JoblogQueue.all().then(q => q.length === 0)")


def rows(live: Live, citizen: Citizen, title: str | None = None) -> list[Any]:
    from joblog_app.activities.models import Activity

    with live.db() as session:
        query = sa.select(Activity).where(Activity.citizen_id == citizen.id)
        if title:
            query = query.where(Activity.title == title)
        return list(session.scalars(query))


def queued(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("JoblogQueue.all()")


def fill_application(page: Page, employer: str, title: str, day: str | None = None) -> None:
    page.fill("#f-organisation", employer)
    page.fill("#f-title", title)
    if day:
        open_details(page)
        page.fill("#f-occurred_on", day)


def save_offline(phone: Phone, employer: str, title: str, day: str | None = None) -> None:
    page = phone.page
    page.goto("/activities/new/application")
    fill_application(page, employer, title, day)
    page.click("#entry-form button[type=submit]")
    page.wait_for_url(phone.url("/"))
    expect(page.locator("#queue")).to_be_visible()


def test_installable_manifest_icons_and_controlling_worker(live, make_citizen, new_page):
    phone = new_page()
    page = phone.page
    login(phone, live, make_citizen("ar"))
    wait_until_offline_ready(page)
    href = page.get_attribute("link[rel=manifest]", "href")
    assert href == "/manifest.webmanifest?lang=ar"
    manifest = page.request.get(href).json()
    assert manifest["display"] == "standalone" and manifest["dir"] == "rtl"
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert manifest["name"] == "بحثي عن عمل"  # the app's own name in Arabic (docs/glossary.md)
    assert "orientation" not in manifest  # any orientation (WCAG 1.3.4)
    for icon in manifest["icons"] + [i for s in manifest["shortcuts"] for i in s["icons"]]:
        reply = page.request.get(icon["src"])
        assert reply.ok and reply.headers["content-type"].startswith(icon["type"])
        if icon["type"] == "image/png":
            body = reply.body()
            width = int.from_bytes(body[16:20], "big")
            assert body[:8] == b"\x89PNG\r\n\x1a\n" and f"{width}x{width}" == icon["sizes"]
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")
    assert page.request.get("/sw.js").headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("lang", ["da", "uk", "ar", "en"])
def test_offline_reload_of_home_and_offline_page(live, make_citizen, new_page, lang):
    phone = new_page()
    page = phone.page
    citizen = make_citizen(lang, applications=(("Netto", "Kassemedarbejder"),))
    login(phone, live, citizen)
    wait_until_offline_ready(page)
    page.context.set_offline(True)
    page.reload()
    expect(page.locator("section[aria-labelledby=add-title]")).to_be_visible()
    expect(page.get_by_text("Kassemedarbejder").first).to_be_visible()
    page.goto("/accessibility")  # never visited: not on the phone
    expect(page.locator("h1")).to_have_text(OFFLINE_TITLE[lang])
    assert page.evaluate("document.documentElement.lang") == lang
    assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar" else "ltr")
    page.context.set_offline(False)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_saved_offline_waits_then_arrives_exactly_once(live, make_citizen, new_page, lang):
    phone = new_page()
    page = phone.page
    citizen = make_citizen(lang)
    login(phone, live, citizen)
    wait_until_offline_ready(page)
    page.context.set_offline(True)
    save_offline(phone, "Føtex", "Opfylder")
    expect(page.locator("#queue-count")).to_have_text(ONE_WAITING[lang])
    expect(page.locator("#queue-list li[data-state=waiting]")).to_have_count(1)
    expect(page.locator("#queue-list")).to_contain_text("Opfylder")
    assert rows(live, citizen) == []
    page.context.set_offline(False)  # the online event sends it
    expect(page.locator("#queue")).to_be_hidden()
    (row,) = rows(live, citizen)
    assert (row.title, row.organisation, row.channel.value, row.record_state.value) == (
        "Opfylder", "Føtex", "offline", "pending")
    assert queued(page) == []


def test_answer_lost_after_the_server_committed_leaves_one_row(live, make_citizen, new_page):
    # Without a service worker, so that Playwright's routing sees the page's own request.
    phone = new_page(service_workers="block")
    page = phone.page
    citizen = make_citizen("en")
    login(phone, live, citizen)
    page.goto("/activities/new/application")
    fill_application(page, "Netto", "Lagermedarbejder")

    def commit_then_drop(route: Any) -> None:
        if route.request.method == "POST":
            route.fetch()  # the server stores the entry...
            route.abort("connectionreset")  # ...and the answer never arrives
        else:
            route.continue_()

    page.route("**/activities/new/application", commit_then_drop)
    page.click("#entry-form button[type=submit]")
    expect(page.locator("#queue-count")).to_have_text(ONE_WAITING["en"])
    assert len(rows(live, citizen, "Lagermedarbejder")) == 1
    page.unroute("**/activities/new/application")
    # htmx logs the failed request to the console; that failure is this test's point.
    phone.watch.errors[:] = [e for e in phone.watch.errors if not e.startswith("console: htmx:")]
    page.click("[data-queue-send]")
    expect(page.locator("#queue")).to_be_hidden()
    assert len(rows(live, citizen, "Lagermedarbejder")) == 1
    assert queued(page) == []


def test_persistent_storage_is_asked_for_when_the_citizen_opens_the_app(live, make_citizen,
                                                                          new_page):
    phone = new_page()
    page = phone.page
    page.context.add_init_script("""(() => {
        window.__persistAsked = 0;
        const ask = navigator.storage.persist.bind(navigator.storage);
        const persisted = navigator.storage.persisted.bind(navigator.storage);
        navigator.storage.persisted = () => persisted().then(() => false);
        navigator.storage.persist = () => { window.__persistAsked += 1; return ask(); };
    })()""")
    page.goto("/login")
    assert page.evaluate("window.__persistAsked") == 0  # nobody's entries here yet
    login(phone, live, make_citizen("en"))
    eventually(page, "window.__persistAsked >= 1")


@pytest.mark.parametrize(("status", "headers"), [(429, {"Retry-After": "120"}), (503, {})])
def test_busy_server_keeps_the_entry_and_backs_off(live, make_citizen, new_page, status, headers):
    """429 (obeying Retry-After) and 5xx keep the queued entry and push its next try back
    (exponential backoff with jitter); "Send now" sends it once the server is well."""
    phone = new_page(service_workers="block")  # so Playwright's routing sees the request
    page = phone.page
    citizen = make_citizen("en")
    login(phone, live, citizen)
    page.route("**/sync/entries", lambda route: route.fulfill(
        status=status, headers=headers, content_type="application/json", body="{}"))
    page.evaluate("""([owner, day]) => JoblogQueue.put({uuid: crypto.randomUUID(), owner: owner,
        kind: 'application', fields: {organisation: 'Irma', title: 'Bager',
        occurred_on: day, method: 'advertised', status: 'applied'}})""",
                  [page.get_attribute("body", "data-owner"), today().isoformat()])
    send_now = page.locator("[data-queue-send]")
    expect(send_now).to_be_visible()  # the queue shows the entry first
    started = page.evaluate("Date.now()")
    send_now.click()
    eventually(page, "JoblogQueue.all().then(q => q.length === 1 && q[0].attempts === 1)")
    (entry,) = queued(page)
    wait_ms = entry["nextAttemptAt"] - started
    # First retry: base 2-4 s with jitter; never sooner than Retry-After.
    assert (120_000 <= wait_ms <= 125_000) if status == 429 else (1_000 <= wait_ms <= 10_000)
    assert entry["state"] == "waiting" and rows(live, citizen) == []
    page.unroute("**/sync/entries")
    phone.watch.errors[:] = [e for e in phone.watch.errors if str(status) not in e]
    # "Send now" does not wait for the backoff. A flush still in flight when the route was
    # lifted may have sent it already (the queue then hides the button): either way it must
    # be sent within seconds, not after the 2-120 s backoff.
    if queued(page):
        try:
            send_now.click(timeout=3000)
        except PlaywrightTimeoutError:
            assert not queued(page), "the entry waits and 'Send now' cannot be tapped"
    wait_until_sent(page)
    assert [r.title for r in rows(live, citizen)] == ["Bager"]


@pytest.mark.parametrize("status", [400, 404, 413])
def test_a_4xx_on_replay_needs_a_look_and_is_not_retried_for_ever(live, make_citizen, new_page,
                                                                   status):
    """Issue 9: a 4xx other than 401/403/408/425/429 will not pass by sending again: the
    entry is shown as "needs a look" with the server's message, and not sent again."""
    phone = new_page(service_workers="block")  # so Playwright's routing sees the request
    page = phone.page
    citizen = make_citizen("en")
    login(phone, live, citizen)
    calls: list[str] = []

    def refuse(route):  # type: ignore[no-untyped-def]
        calls.append(route.request.url)
        route.fulfill(status=status, content_type="application/json",
                      body='{"status": "error", "message": "This is too large. Send less text."}')

    page.route("**/sync/entries", refuse)
    page.evaluate("""([owner, day]) => JoblogQueue.put({uuid: crypto.randomUUID(), owner: owner,
        kind: 'application', fields: {organisation: 'Irma', title: 'Bager',
        occurred_on: day, method: 'advertised', status: 'applied'}})""",
                  [page.get_attribute("body", "data-owner"), today().isoformat()])
    send_now = page.locator("[data-queue-send]")
    expect(send_now).to_be_visible()
    send_now.click()
    eventually(page, "JoblogQueue.all().then(q => q.length === 1 && q[0].state === 'attention')")
    expect(page.locator("#queue")).to_contain_text("Needs a look")
    expect(page.locator("#queue")).to_contain_text("Send less text")
    (entry,) = queued(page)
    assert entry["attempts"] == 0 and len(calls) == 1
    page.evaluate("JoblogQueue.flush({force: true})")
    page.wait_for_timeout(300)
    assert len(calls) == 1  # not sent again by itself
    phone.watch.errors[:] = [e for e in phone.watch.errors if str(status) not in e]
    page.unroute("**/sync/entries")
    assert rows(live, citizen) == []


def test_entries_queued_when_the_browser_closed_are_sent_on_reopening(live, make_citizen,
                                                                       new_page, tmp_path):
    profile = tmp_path / "profile"
    phone = new_page(profile=profile)
    page = phone.page
    citizen = make_citizen("uk")
    login(phone, live, citizen)
    wait_until_offline_ready(page)
    page.context.set_offline(True)
    save_offline(phone, "Rema 1000", "Butiksassistent")
    assert len(queued(page)) == 1
    page.context.close()
    assert rows(live, citizen) == []

    reopened = new_page(profile=profile).page
    reopened.goto("/")
    expect(reopened.locator("section[aria-labelledby=add-title]")).to_be_visible()
    wait_until_sent(reopened)
    assert [r.title for r in rows(live, citizen)] == ["Butiksassistent"]


def test_another_user_on_the_same_phone_never_sends_the_first_users_entries(
        live, make_citizen, new_page):
    from joblog_app.auth.models import LoginSession

    phone = new_page()
    page = phone.page
    first, second = make_citizen("en"), make_citizen("da")
    login(phone, live, first)
    wait_until_offline_ready(page)
    page.context.set_offline(True)
    save_offline(phone, "Bilka", "Kasseassistent")
    with live.db() as session:  # the first user's session runs out while offline
        session.execute(sa.delete(LoginSession).where(LoginSession.user_id == first.id))
        session.commit()
    page.context.set_offline(False)
    expect(page.locator("#queue-note")).to_have_text("Log in again to send them.")
    assert rows(live, first) == []

    login(phone, live, second)
    page.evaluate("JoblogQueue.flush({force: true})")
    expect(page.locator("#queue")).to_be_hidden()  # not the second user's to see
    assert rows(live, first) == [] and rows(live, second) == []
    assert len(queued(page)) == 1

    page.click("form[data-logout] button")
    page.wait_for_url(phone.url("/login"))
    login(phone, live, first)
    wait_until_sent(page)
    assert [r.title for r in rows(live, first)] == ["Kasseassistent"]
    assert rows(live, second) == []


def test_validation_error_on_replay_is_shown_and_the_entry_kept(live, make_citizen, new_page):
    phone = new_page()
    page = phone.page
    citizen = make_citizen("en")
    login(phone, live, citizen)
    wait_until_offline_ready(page)
    page.context.set_offline(True)
    far = today().replace(year=today().year + 3).isoformat()
    save_offline(phone, "Lidl", "Chauffør", day=far)
    page.context.set_offline(False)
    item = page.locator("#queue-list li[data-state=attention]")
    expect(item).to_contain_text("Needs a look")
    expect(item.locator(".queue-errors li")).to_have_count(1)
    assert len(queued(page)) == 1 and rows(live, citizen) == []

    item.locator("[data-action=edit]").click()  # fix it in the form, online
    expect(page.locator("#f-title")).to_have_value("Chauffør")
    open_details(page)
    page.fill("#f-occurred_on", today().isoformat())
    page.click("#entry-form button[type=submit]")
    page.wait_for_url(phone.url("/"))
    wait_until_sent(page)
    assert [r.title for r in rows(live, citizen)] == ["Chauffør"]


def test_editing_a_waiting_entry_changes_it_instead_of_adding_one(live, make_citizen, new_page):
    phone = new_page()
    page = phone.page
    citizen = make_citizen("da")
    login(phone, live, citizen)
    wait_until_offline_ready(page)
    page.context.set_offline(True)
    save_offline(phone, "Coop", "Kasserer")
    page.locator("#queue-list [data-action=edit]").click()
    expect(page.locator("#f-title")).to_have_value("Kasserer")
    page.fill("#f-title", "Souschef")
    page.click("#entry-form button[type=submit]")
    page.wait_for_url(phone.url("/"))
    expect(page.locator("#queue-list li")).to_have_count(1)
    expect(page.locator("#queue-list")).to_contain_text("Souschef")
    page.context.set_offline(False)
    expect(page.locator("#queue")).to_be_hidden()
    assert [r.title for r in rows(live, citizen)] == ["Souschef"]


def test_conflict_is_shown_and_resolved_without_overwriting(live, make_citizen, new_page):
    phone = new_page()
    page = phone.page
    citizen = make_citizen("en")
    login(phone, live, citizen)
    page.goto("/activities/new/application")
    fill_application(page, "Salling", "Lagerchef")
    used = page.input_value("input[name=client_uuid]")
    page.click("#entry-form button[type=submit]")
    page.wait_for_url(phone.url("/"))
    page.evaluate("""([uuid, owner, day]) => JoblogQueue.put({uuid: uuid, owner: owner,
        kind: 'application', fields: {organisation: 'Salling', title: 'Lagerarbejder',
        occurred_on: day, method: 'advertised', status: 'applied'}})""",
                  [used, page.get_attribute("body", "data-owner"), today().isoformat()])
    page.click("[data-queue-send]")
    item = page.locator("#queue-list li[data-state=conflict]")
    expect(item).to_contain_text("We did not change it")
    item.locator("[data-action=renew]").click()
    expect(page.locator("#queue")).to_be_hidden()
    assert sorted(r.title for r in rows(live, citizen)) == ["Lagerarbejder", "Lagerchef"]


def test_logout_warns_about_unsent_entries_then_clears_the_phone(live, make_citizen, new_page):
    phone = new_page()
    page = phone.page
    citizen = make_citizen("en")
    login(phone, live, citizen)
    wait_until_offline_ready(page)
    page.context.set_offline(True)
    save_offline(phone, "Lidl", "Chauffør", day=today().replace(year=today().year + 3).isoformat())
    page.context.set_offline(False)
    expect(page.locator("#queue-list li[data-state=attention]")).to_have_count(1)

    page.click("form[data-logout] button")
    dialog = page.locator("#logout-dialog")
    expect(dialog).to_contain_text("1 entry is not sent yet. If you log out now")
    dialog.locator("[data-dialog=cancel]").click()
    expect(dialog).to_be_hidden()
    assert page.url == phone.url("/") and len(queued(page)) == 1

    page.click("form[data-logout] button")
    dialog.locator("[data-dialog=logout]").click()
    page.wait_for_url(phone.url("/login"))
    assert queued(page) == []
    assert "joblog-pages" not in page.evaluate("caches.keys()")
    assert rows(live, citizen) == []


def test_a_new_form_gets_a_fresh_uuid_even_from_the_cache(live, make_citizen, new_page):
    phone = new_page()
    page = phone.page
    login(phone, live, make_citizen("en"))
    wait_until_offline_ready(page)
    page.context.set_offline(True)
    seen = set()
    for _ in range(2):
        page.goto("/activities/new/coffee_meeting")
        value = page.input_value("input[name=client_uuid]")
        assert str(uuid.UUID(value)) == value
        seen.add(value)
    assert len(seen) == 2
    page.context.set_offline(False)


def test_a_new_version_takes_over_and_drops_the_old_shell(live, make_citizen, new_page,
                                                           monkeypatch):
    from joblog_app.offline import services

    phone = new_page()
    page = phone.page
    login(phone, live, make_citizen("en"))
    wait_until_offline_ready(page)
    with live.app.app_context():
        old = "joblog-shell-" + services.shell_version()
    eventually(page, f"caches.keys().then(k => k.includes('{old}'))")
    monkeypatch.setattr(services, "shell_version", lambda: "v2-test")
    page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    # No reload, no "close all tabs": the new worker activates and cleans up by itself.
    eventually(page, "caches.keys().then(k => k.includes('joblog-shell-v2-test') "
                     f"&& !k.includes('{old}'))")
    page.reload()
    expect(page.locator("section[aria-labelledby=add-title]")).to_be_visible()
    assert page.evaluate("navigator.serviceWorker.controller.state") == "activated"


def test_offline_a_page_cached_before_an_update_still_gets_its_css_and_js(live, make_citizen,
                                                                         new_page):
    """A screen kept before an update names the old ?v= of the shell files, whose old
    versions left with the old shell: offline it gets the current version of each file."""
    phone = new_page()
    page = phone.page
    login(phone, live, make_citizen("en"))
    wait_until_offline_ready(page)
    page.context.set_offline(True)
    for path in ("/static/css/app.css?v=0000000000", "/static/js/queue.js?v=0000000000"):
        status = page.evaluate("p => fetch(p).then(r => r.status, () => 'failed')", path)
        assert status == 200, path
    # A file the shell never had still fails as it would without a service worker.
    assert page.evaluate("fetch('/static/nowhere.css?v=1').then(r => r.status, () => 'failed')") \
        == "failed"
    page.context.set_offline(False)
