"""Taps a citizen needs for the three everyday jobs, done for real in Chromium on a phone.

A phone-sized context (390x844, touch) logged in as demo citizen 20000001 starts each flow
on the home screen and performs it with ``tap()``; every tap goes through ``Taps.tap``,
which counts it. Typing (``fill``) is not a tap: the targets are stated as "taps + typing",
so focusing a text field to type in it is part of typing. Scrolling is not a tap either,
but the report says when a tapped element was below the fold (outside the first 844 px).
Afterwards the database must show that the entry was saved, and the home screen must say so.

Targets: new application from home <= 3 taps + typing employer and title; marking a planned
job as applied from home <= 2 taps; logging the follow-up of a coffee meeting from home
<= 3 taps; a helper checking the citizen in at a job café, from the session screen, <= 2 taps
+ typing the phone number; a helper's assisted application for the citizen, from the assist
page to saved, <= 4 taps + typing employer and title (issue 11).

    .venv/bin/python bench/taps.py [--keep]
"""

from __future__ import annotations

import argparse
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as c  # noqa: E402

PHONE = "20000001"
HOME = "section[aria-labelledby=add-title]"
LATEST = "section[aria-labelledby=latest-title]"
PLANNED = "section[aria-labelledby=planned-title]"
FOLLOW_UPS = "section[aria-labelledby=follow-title]"


@dataclass
class Taps:
    page: Any
    log: list[str] = field(default_factory=list)
    typed: list[str] = field(default_factory=list)
    below_fold: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.log)

    def tap(self, selector: str, what: str) -> None:
        loc = self.page.locator(selector)
        loc.wait_for(state="visible")
        top = self.page.evaluate(
            "(el) => el.getBoundingClientRect().bottom + window.scrollY", loc.element_handle())
        if top > self.page.viewport_size["height"]:
            self.below_fold.append(f"{what} (bottom at {top:.0f} px)")
        loc.tap()
        self.log.append(what)

    def type(self, selector: str, text: str, what: str) -> None:
        self.page.fill(selector, text)
        self.typed.append(what)


@dataclass
class Result:
    name: str
    target: int
    taps: Taps
    saved: str  # what the database shows
    ok: bool


def wait_home(page: Any, base: str) -> None:
    page.wait_for_url(base + "/")
    page.locator(HOME).wait_for(state="attached")


def flash(page: Any) -> str:
    loc = page.locator("#messages .flash")
    loc.first.wait_for(state="visible")
    return loc.first.inner_text().strip()


def citizen_id(ws: c.Workspace) -> int:
    return int(ws.scalar("SELECT id FROM user WHERE phone = ?", ("+45" + PHONE,)))


def new_application(page: Any, base: str, ws: c.Workspace) -> Result:
    taps = Taps(page)
    employer, title = f"Bench Bageri {uuid.uuid4().hex[:6]}", "Bagermedhjælper"
    page.goto("/")
    wait_home(page, base)
    taps.tap("a.big-button[href$='/activities/new/application']", "'I applied for a job'")
    page.wait_for_url(base + "/activities/new/application")
    taps.type("#f-organisation", employer, "employer")
    taps.type("#f-title", title, "job title")
    taps.tap("#entry-form button[type=submit]", "Save")
    wait_home(page, base)
    message = flash(page)
    shown = page.locator(f"{LATEST} li").filter(has_text=employer).count()
    rows = ws.scalar(
        "SELECT count(*) FROM activity WHERE citizen_id = ? AND kind = 'application' "
        "AND organisation = ? AND title = ? AND occurred_on = ? AND status = 'applied' "
        "AND deleted_at IS NULL", (citizen_id(ws), employer, title, c.today_dk().isoformat()))
    ok = rows == 1 and shown == 1
    return Result("New application from home", 3, taps,
                  f"{rows} application row(s) '{title} at {employer}', dated today, status applied;"
                  f" shown in Latest entries: {shown}; message: {message!r}", ok)


def planned_applied(page: Any, base: str, ws: c.Workspace) -> Result:
    taps = Taps(page)
    cid = citizen_id(ws)
    planned = ws.db().execute(
        "SELECT id, organisation, title FROM activity WHERE citizen_id = ? AND kind = 'planned_job' "
        "AND converted_to_id IS NULL AND deleted_at IS NULL ORDER BY id LIMIT 1", (cid,)).fetchone()
    if planned is None:
        raise SystemExit("the demo citizen has no open planned job")
    pid, employer, title = planned
    page.goto("/")
    wait_home(page, base)
    item = f"{PLANNED} li:has(form[action$='/activities/{pid}/applied'])"
    taps.tap(f"{item} button[type=submit]", "'I applied' on the planned job")
    page.locator(f"{PLANNED} form[action$='/activities/{pid}/applied']").wait_for(state="detached")
    wait_home(page, base)
    message = flash(page)
    converted = ws.scalar("SELECT converted_to_id FROM activity WHERE id = ?", (pid,))
    app_row = ws.db().execute(
        "SELECT kind, organisation, title, occurred_on, status FROM activity WHERE id = ?",
        (converted,)).fetchone() if converted else None
    ok = app_row == ("application", employer, title, c.today_dk().isoformat(), "applied")
    return Result("Planned job marked as applied, from home", 2, taps,
                  f"planned job #{pid} converted_to_id={converted}; new row: {app_row};"
                  f" message: {message!r}", ok)


def coffee_follow_up(page: Any, base: str, ws: c.Workspace) -> Result:
    taps = Taps(page)
    cid = citizen_id(ws)
    meeting = ws.db().execute(
        "SELECT id, organisation, person FROM activity WHERE citizen_id = ? AND kind = 'coffee_meeting' "
        "AND follow_up_on IS NOT NULL AND followed_up_at IS NULL AND deleted_at IS NULL "
        "ORDER BY follow_up_on LIMIT 1", (cid,)).fetchone()
    if meeting is None:
        raise SystemExit("the demo citizen has no coffee meeting due for follow-up")
    mid, company, person = meeting
    before = int(ws.scalar("SELECT max(id) FROM activity"))
    outcome = "Samtale aftalt næste uge."
    page.goto("/")
    wait_home(page, base)
    taps.tap(f"{FOLLOW_UPS} a[href$='/activities/{mid}/then/coffee_meeting']", "'Log follow-up'")
    page.wait_for_url(f"{base}/activities/{mid}/then/coffee_meeting")
    taps.type("#f-outcome", outcome, "what came of it (optional)")
    taps.tap("#entry-form button[type=submit]", "Save")
    wait_home(page, base)
    message = flash(page)
    followed = ws.scalar("SELECT followed_up_at FROM activity WHERE id = ?", (mid,))
    new = ws.db().execute(
        "SELECT kind, organisation, person, occurred_on, outcome FROM activity "
        "WHERE citizen_id = ? AND id > ? ORDER BY id", (cid, before)).fetchall()
    ok = followed is not None and new == [("coffee_meeting", company, person,
                                           c.today_dk().isoformat(), outcome)]
    return Result("Follow-up of a coffee meeting, from home", 3, taps,
                  f"meeting #{mid} followed_up_at={followed}; new row(s): {new}; message: {message!r}",
                  ok)


HELPER_EMAIL = "bench.helper@example.org"


def helper_cookies(browser: Any, server: c.Server, ws: c.Workspace) -> list[dict]:
    """A helper of the citizen's municipality with a request from the citizen (written to the
    database), logged in through the UI: e-mail code, then an authenticator app (pyotp)."""
    import sqlite3
    from datetime import timedelta

    import pyotp

    db = sqlite3.connect(ws.db_file, timeout=10)  # set-up only; the flows read
    cid = citizen_id(ws)
    db.execute("INSERT INTO user (role, municipality_id, name, email, language, is_active, "
               "created_at) SELECT 'helper', municipality_id, 'Bench Helper', ?, 'da', 1, "
               "datetime('now') FROM user WHERE id = ?", (HELPER_EMAIL, cid))
    hid = db.execute("SELECT id FROM user WHERE email = ?", (HELPER_EMAIL,)).fetchone()[0]
    day = c.today_dk()
    db.execute("INSERT INTO assistance_request (citizen_id, municipality_id, basis, "
               "recorded_by_id, recorded_by_role, recorded_at, valid_from, valid_until) "
               "SELECT id, municipality_id, 'il_26a_6', ?, 'helper', datetime('now'), ?, ? "
               "FROM user WHERE id = ?", (hid, day.isoformat(),
                                          (day + timedelta(days=30)).isoformat(), cid))
    # Today's session of a café of the citizen's municipality, opened by the helper.
    db.execute("INSERT INTO cafe (municipality_id, name, place, weekday, opens_at, closes_at, "
               "languages, is_active, created_at) SELECT municipality_id, 'Bench Jobcafé', "
               "'Biblioteket', ?, '10:00:00.000000', '13:00:00.000000', 'da,ar', 1, "
               "datetime('now') FROM user WHERE id = ?", (day.weekday(), cid))
    db.execute("INSERT INTO cafe_session (cafe_id, day, opened_by_id, opened_at, checkin_salt) "
               "SELECT max(id), ?, ?, datetime('now'), ? FROM cafe",
               (day.isoformat(), hid, uuid.uuid4().hex))
    db.commit()
    db.close()
    context = c.phone_context(browser, server.base)
    try:
        page = context.new_page()
        page.goto("/login")
        offset = server.log_file.stat().st_size
        page.fill("#identifier", HELPER_EMAIL)
        page.click("#login-form button[type=submit]")
        page.wait_for_url(server.base + "/login/code")
        _uid, code = c.wait_for_code(server, offset)
        page.fill("#code", code)
        page.click("#code-form button[type=submit]")
        page.wait_for_url(server.base + "/login/second-factor")
        page.click("form[action$='/enrol/app'] button")
        secret = page.locator("code.secret").inner_text()
        page.fill("#app-code", pyotp.TOTP(secret.replace(" ", "")).now())
        page.click("#app-form button[type=submit]")
        page.wait_for_url(server.base + "/staff")
        return context.cookies()
    finally:
        context.close()


def check_in(page: Any, base: str, ws: c.Workspace) -> Result:
    """The helper checks the citizen in by phone number, from the café's session screen."""
    taps = Taps(page)
    cid = citizen_id(ws)
    session_id = ws.scalar("SELECT max(id) FROM cafe_session")
    screen = f"{base}/staff/sessions/{session_id}"
    page.goto(screen)
    taps.type("#q", PHONE, "phone number")
    taps.tap("form[role=search] button[type=submit]", "Search")
    taps.tap(f"form[action$='/check-ins']:has(input[value='{cid}']) button", "Check in")
    page.locator("article.visitor").first.wait_for()
    rows = ws.scalar("SELECT count(*) FROM check_in WHERE session_id = ? AND citizen_id = ?",
                     (session_id, cid))
    shown = page.locator("article.visitor").count()
    return Result("Check-in at the job café, from the session", 2, taps,
                  f"{rows} check-in row(s); {shown} visitor(s) on the session screen",
                  rows == 1 and shown == 1)


def assisted_application(page: Any, base: str, ws: c.Workspace) -> Result:
    """The helper registers an application for the citizen, from the assist page."""
    taps = Taps(page)
    cid = citizen_id(ws)
    employer, title = f"Bench Café {uuid.uuid4().hex[:6]}", "Opvasker"
    assist = f"{base}/staff/citizens/{cid}/assist"
    page.goto(assist)
    taps.tap(f"a.big-button[href$='/staff/citizens/{cid}/new/application']",
             "'Job application'")
    page.wait_for_url(f"{base}/staff/citizens/{cid}/new/application")
    taps.type("#f-organisation", employer, "employer")
    taps.type("#f-title", title, "job title")
    taps.tap("#entry-form button[type=submit]", "Save")
    page.wait_for_url(assist)
    message = flash(page)
    rows = ws.scalar(
        "SELECT count(*) FROM activity WHERE citizen_id = ? AND kind = 'application' "
        "AND organisation = ? AND channel = 'assisted' AND entered_by_id = "
        "(SELECT id FROM user WHERE email = ?)", (cid, employer, HELPER_EMAIL))
    return Result("Assisted application, from the assist page", 4, taps,
                  f"{rows} assisted application row(s) '{title} at {employer}' entered by the "
                  f"helper; message: {message!r}", rows == 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    results: list[Result] = []
    errors: list[str] = []
    with c.workspace(args.keep) as ws, c.gunicorn(ws) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=c.CHROMIUM, headless=True, args=c.CHROMIUM_FLAGS)
        try:
            cookies = c.browser_login(browser, server, PHONE)
            for flow in (new_application, planned_applied, coffee_follow_up):
                context = c.phone_context(browser, server.base)
                context.add_cookies(cookies)
                page = context.new_page()
                page.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text}"))
                page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
                try:
                    results.append(flow(page, server.base, ws))
                finally:
                    if args.keep:
                        page.screenshot(path=str(ws.dir / f"taps-{flow.__name__}.png"), full_page=True)
                    context.close()
            staff_cookies = helper_cookies(browser, server, ws)
            context = c.phone_context(browser, server.base)
            context.add_cookies(staff_cookies)
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            try:
                results.append(check_in(page, server.base, ws))
                results.append(assisted_application(page, server.base, ws))
            finally:
                context.close()
        finally:
            browser.close()

    print("\n" + "=" * 78)
    print("TAPS from the home screen (Chromium, 390x844 touch, demo citizen 20000001),")
    print("and a helper's from the café's session screen and the citizen's assist page")
    print("=" * 78)
    for r in results:
        verdict = "OK" if r.taps.count <= r.target else "MISS"
        print(f"{r.name:44} {r.taps.count} tap(s)  target <= {r.target}  {verdict}"
              f"{'' if r.ok else '  NOT SAVED'}")
        print(f"    taps:   {' -> '.join(r.taps.log)}")
        print(f"    typing: {', '.join(r.taps.typed) or '-'}")
        if r.taps.below_fold:
            print(f"    below the fold (needs a scroll): {', '.join(r.taps.below_fold)}")
        print(f"    saved:  {r.saved}")
    if errors:
        print("Browser errors: " + "; ".join(errors))
    good = all(r.ok and r.taps.count <= r.target for r in results) and not errors
    print("All flows within target and saved." if good else "Some flow missed its target or did not save.")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
