"""Staff login in real Chromium: the e-mail code, then a real passkey from the DevTools
virtual authenticator (WebAuthn.enable / addVirtualAuthenticator), or the authenticator
app; and every staff page in all four languages through axe-core."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect

from .conftest import Live, Phone
from .support import BROWSER, assert_lang, assert_no_horizontal_scroll, run_axe

pytestmark = BROWSER

LOCALES = {"da": "da-DK", "uk": "uk-UA", "ar": "ar", "en": "en-GB"}


_created: list[int] = []


@pytest.fixture(autouse=True)
def _give_back_the_code_budget(live: Live):  # type: ignore[no-untyped-def]
    """All browser tests share one server and one address (127.0.0.1), so they share the
    login throttle's per-address budget (60 codes in 15 minutes). These tests log staff in
    often; they remove their users' code rows afterwards so the citizens' tests keep theirs."""
    yield
    from joblog_app.auth.models import LoginCode

    with live.db() as session:
        session.query(LoginCode).filter(LoginCode.user_id.in_(_created)).delete()
        session.commit()


def _staff(live: Live, role: str = "helper", language: str = "da") -> tuple[int, str]:
    from joblog_app.auth.models import Municipality, Role, User

    email = f"staff-{uuid.uuid4().hex[:8]}@example.org"
    with live.db() as session:
        municipality = session.query(Municipality).filter_by(code="999").one()
        user = User(name="Sofie Staff", email=email, role=Role(role), language=language,
                    municipality_id=municipality.id)
        session.add(user)
        session.commit()
        _created.append(user.id)
        return user.id, email


def _localhost(phone: Phone) -> str:
    """Passkeys need a domain: 127.0.0.1 is not a valid relying party id, localhost is."""
    return phone.base.replace("127.0.0.1", "localhost")


def _virtual_authenticator(page: Any) -> tuple[Any, str]:
    """A platform authenticator (like a phone's fingerprint) in this page's browser."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True}})
    return cdp, added["authenticatorId"]


def _email_code(phone: Phone, live: Live, user_id: int, email: str, base: str) -> None:
    page = phone.page
    page.goto(base + "/login")
    before = len(live.outbox.codes)
    page.fill("#identifier", email)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(base + "/login/code")
    page.fill("#code", live.outbox.wait_for(user_id, after=before))
    page.click("#code-form button[type=submit]")
    page.wait_for_url(base + "/login/second-factor")


def test_passkey_enrolment_then_login_with_code_and_passkey(live, new_page):
    from joblog_app.auth.models import StaffPasskey

    user_id, email = _staff(live)
    phone = new_page()
    page, base = phone.page, _localhost(phone)
    cdp, authenticator = _virtual_authenticator(page)

    _email_code(phone, live, user_id, email, base)
    page.click("[data-passkey=register]")
    page.wait_for_url(base + "/staff")
    expect(page.locator("h1")).to_contain_text("Sofie Staff")
    with live.db() as session:
        assert session.query(StaffPasskey).filter_by(user_id=user_id).count() == 1
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(stored["credentials"]) == 1 and stored["credentials"][0]["isResidentCredential"]

    page.click("form[data-logout] button")
    page.wait_for_url(re.compile(r".*/login$"))
    _email_code(phone, live, user_id, email, base)
    assert page.locator("[data-passkey=register]").count() == 0  # enrolled: no new factor here
    page.click("[data-passkey=login]")
    page.wait_for_url(base + "/staff")
    with live.db() as session:
        passkey = session.query(StaffPasskey).filter_by(user_id=user_id).one()
        assert passkey.last_used_at is not None


def test_a_passkey_refused_by_the_server_says_so(live, new_page):
    """A forged answer (another challenge) gets the localized message, and no passkey."""
    from joblog_app.auth.models import StaffPasskey

    user_id, email = _staff(live, language="uk")
    phone = new_page()
    page, base = phone.page, _localhost(phone)
    _virtual_authenticator(page)
    _email_code(phone, live, user_id, email, base)
    # Forge: the browser answers a challenge the server never issued.
    def forge(route: Any) -> None:
        options = route.fetch().json()
        options["challenge"] = "bm90LXRoZS1zZXJ2ZXJzLWNoYWxsZW5nZQ"
        route.fulfill(status=200, content_type="application/json", body=json.dumps(options))

    page.route("**/enrol/passkey/options", forge)
    page.click("[data-passkey=register]")
    expect(page.locator("#passkey-error")).to_be_visible()
    expect(page.locator("#passkey-error")).to_contain_text("Ключ доступу не спрацював")
    with live.db() as session:
        assert session.query(StaffPasskey).filter_by(user_id=user_id).count() == 0


@pytest.mark.parametrize("lang", ["da", "uk", "ar", "en"])
def test_every_staff_page_in_every_language(live, new_page, lang):
    user_id, email = _staff(live, role="admin", language=lang)
    phone = new_page(locale=LOCALES[lang], bypass_csp=True)
    page, base = phone.page, _localhost(phone)
    seen: list[str] = []

    def check(where: str) -> None:
        seen.append(where)
        where = f"[{lang}] {where}"
        assert_lang(page, lang, where)
        assert_no_horizontal_scroll(page, where)
        run_axe(page, where)

    _email_code(phone, live, user_id, email, base)
    check("enrolment choice")
    page.click("form[action$='/enrol/app'] button")
    page.wait_for_url(base + "/login/second-factor/enrol/app")
    secret = page.locator("code.secret").inner_text()
    check("authenticator app set-up")
    page.fill("#app-code", "000000")
    page.click("#app-form button[type=submit]")
    expect(page.locator("#app-code")).to_have_attribute("aria-invalid", "true")
    check("authenticator app set-up with a wrong code")
    page.fill("#app-code", pyotp.TOTP(secret).now())
    page.click("#app-form button[type=submit]")
    page.wait_for_url(base + "/staff")
    check("staff home without recovery codes")
    page.click("form[action$='/staff/recovery-codes'] button")
    expect(page.locator("ol.codes li")).to_have_count(10)
    check("recovery codes")
    page.goto(base + "/staff/accounts")
    check("staff accounts")
    page.click("#staff-form button[type=submit]")
    expect(page.locator("#staff-email")).to_have_attribute("aria-invalid", "true")
    check("staff accounts with an error")
    page.goto(base + "/staff")
    check("staff home")

    page.click("form[data-logout] button")
    page.wait_for_url(re.compile(r".*/login$"))
    _email_code(phone, live, user_id, email, base)
    check("second factor")
    page.fill("#app-code", "12")
    page.click("#app-form button[type=submit]")
    expect(page.locator("#app-code")).to_have_attribute("aria-invalid", "true")
    page.click("details.card > summary")
    check("second factor with an error, recovery open")
    assert len(seen) == 10, seen
