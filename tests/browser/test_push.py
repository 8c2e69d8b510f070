"""The service worker's push handler in real Chromium, through the DevTools protocol.

What is real: the service worker served by the app, the push event delivered by Chromium
(``ServiceWorker.deliverPushMessage``, as if a push service had sent it; headless Chromium
cannot subscribe without the internet, so the encrypted round trip is proven against the fake
push service in tests/reminders), the notification it shows (read back with
``registration.getNotifications()``), and the navigation of the open app window to the
reminder's screen. What is not: the tap itself — headless Chromium has no notification to
tap, so the test calls the same function the ``notificationclick`` handler calls
(``self.joblogOpenFromNotification``) inside the service worker. The path for a closed app
(``clients.openWindow``) needs a real tap and is not exercised here.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from playwright.sync_api import Page

from .conftest import ARTIFACTS, Live
from .support import BROWSER, login

pytestmark = BROWSER

LOCALES = {"da": "da-DK", "uk": "uk-UA", "ar": "ar", "en": "en-GB"}
FOLLOW_UP = {"da": "Du har planlagt 1 opfølgning i dag.",
             "uk": "На сьогодні у вас заплановано 1 нагадування.",
             "ar": "خططت لمتابعة واحدة اليوم.",
             "en": "You planned 1 follow-up for today."}
TITLE = {"da": "Min jobsøgning", "uk": "Мій пошук роботи", "ar": "بحثي عن عمل", "en": "My job search"}
NOTIFICATIONS = ("navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns => ns.map("
                 "n => ({title: n.title, body: n.body, tag: n.tag, lang: n.lang, dir: n.dir, "
                 "data: n.data})))")


def _registration_id(page: Page, cdp: Any, timeout: float = 10) -> str:
    found: list[str] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda e: found.extend(r["registrationId"] for r in e["registrations"]
                                  if not r["isDeleted"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + timeout
    while not found:
        assert time.monotonic() < deadline, "no service worker registration reported"
        page.wait_for_timeout(100)
    return found[-1]


def _notifications(page: Page, n: int, timeout: float = 10) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        shown = page.evaluate(NOTIFICATIONS)
        if len(shown) >= n or time.monotonic() > deadline:
            return shown
        page.wait_for_timeout(100)


def _payload(live: Live, citizen_id: int, language: str) -> tuple[str, str]:
    from joblog_app.activities.models import Activity, ActivityKind
    from joblog_app.reminders import services
    from joblog_app.reminders.models import ReminderKind

    with live.db() as session:
        coffee = session.query(Activity).filter_by(citizen_id=citizen_id,
                                                   kind=ActivityKind.COFFEE_MEETING).one()
        url = f"/activities/{coffee.id}/then/coffee_meeting"
        # The payload exactly as the planner makes it (services.payload, force_locale).
        text = services.payload(language, 4711, [services.Due(ReminderKind.FOLLOW_UP, 1, url)])
    return text, url


def _render(page: Page, shown: list[dict], lang: str) -> None:
    """The notifications as read back from the service worker, drawn into a page for the
    screenshot in test-artifacts/ (headless Chromium draws no system notification)."""
    other = page.context.new_page()
    other.set_viewport_size({"width": 390, "height": 170})
    items = "".join(
        f'<li lang="{n["lang"]}" dir="{n["dir"]}"><strong>{n["title"]}</strong><br>'
        f'{n["body"]}<br><small dir="ltr">tag={n["tag"]} url={n["data"]["url"]}</small></li>'
        for n in shown)
    other.set_content(f'<html lang="en"><body style="font: 18px sans-serif; margin: 16px">'
                      f'<h1 style="font-size:16px">registration.getNotifications()</h1>'
                      f'<ul style="padding: 0; list-style: none">{items}</ul></body></html>')
    ARTIFACTS.mkdir(exist_ok=True)
    other.screenshot(path=str(ARTIFACTS / f"push-notification-{lang}.png"))
    other.close()


@pytest.mark.parametrize("lang", ["da", "uk", "ar", "en"])
def test_a_push_shows_the_reminder_in_the_citizens_language_and_opens_its_screen(
        live, new_page, make_citizen, lang):
    citizen = make_citizen(lang, coffee=("Føtex", "Lis"))
    phone = new_page(locale=LOCALES[lang])
    page = phone.page
    page.context.grant_permissions(["notifications"], origin=live.url)
    login(phone, live, citizen)
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    payload, url = _payload(live, citizen.id, lang)

    cdp = page.context.new_cdp_session(page)
    registration = _registration_id(page, cdp)
    cdp.send("ServiceWorker.deliverPushMessage",
             {"origin": live.url, "registrationId": registration, "data": payload})
    shown = _notifications(page, 1)
    assert len(shown) == 1, shown
    n = shown[0]
    assert (n["title"], n["body"]) == (TITLE[lang], FOLLOW_UP[lang])
    assert n["lang"] == lang and n["dir"] == ("rtl" if lang == "ar" else "ltr")
    assert n["tag"] == "follow-up" and n["data"] == {"url": url, "id": 4711}
    _render(page, shown, lang)

    # The same reminder again (a resend after a worker crash) replaces it: still one.
    cdp.send("ServiceWorker.deliverPushMessage",
             {"origin": live.url, "registrationId": registration, "data": payload})
    page.wait_for_timeout(300)
    assert len(_notifications(page, 2, timeout=1)) == 1

    worker = page.context.service_workers[0]
    worker.evaluate("self.registration.getNotifications()"
                    ".then(ns => self.joblogOpenFromNotification(ns[0])).then(() => true)")
    page.wait_for_url(phone.url(url))


def test_an_unreadable_push_still_shows_a_notification(live, new_page, make_citizen):
    citizen = make_citizen("uk")
    phone = new_page(locale="uk-UA")
    page = phone.page
    page.context.grant_permissions(["notifications"], origin=live.url)
    login(phone, live, citizen)
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    cdp = page.context.new_cdp_session(page)
    registration = _registration_id(page, cdp)
    cdp.send("ServiceWorker.deliverPushMessage",
             {"origin": live.url, "registrationId": registration, "data": "not json"})
    shown = _notifications(page, 1)
    assert len(shown) == 1 and shown[0]["title"] and shown[0]["body"]
    assert shown[0]["data"]["url"] == "/" and json.dumps(shown)
