"""A citizen logs in with MitID through a real, certified OpenID provider (npm oidc-provider,
tests/support/oidc_provider) in Chromium: the login page's MitID button, the provider's
interaction page, home in the citizen's language; logging out ends the provider's session
too (RP-initiated logout). The refusal for an unknown CPR number in all four languages:
axe-core, lang/dir, no sideways scrolling."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.support.oidc_provider import LocalProvider

from .conftest import Live
from .support import BROWSER, assert_lang, assert_no_horizontal_scroll, assert_reflows, run_axe

pytestmark = BROWSER

LOCALES = {"da": "da-DK", "uk": "uk-UA", "ar": "ar", "en": "en-GB"}


@pytest.fixture
def provider(live: Live) -> Iterator[LocalProvider]:
    """The provider, and the live app configured for it for this test only."""
    from joblog_app.core.security import csp_for
    from joblog_app.identity import services

    local = LocalProvider([f"{live.url}/login/oidc/callback"], [f"{live.url}/login"]).start()
    before = {k: live.app.config[k] for k in (*local.settings(), "CSP")}
    live.app.config.update(local.settings())
    live.app.config["CSP"] = csp_for(live.app.config)
    services.forget_cached()
    try:
        yield local
    finally:
        live.app.config.update(before)
        local.stop()


def test_a_citizen_logs_in_with_mitid_and_out_of_the_broker_too(live, new_page, make_citizen,
                                                                  provider):
    from joblog_app.citizens.services import store_cpr

    citizen = make_citizen(language="ar")
    with live.db() as session:
        store_cpr(citizen.id, "0101901111")  # the provider's "citizen" identity
        session.commit()
    phone = new_page(locale="da-DK")
    page = phone.page
    page.goto("/login")
    page.get_by_role("link", name="Log ind med MitID").click()
    expect(page).to_have_url(re.compile(re.escape(provider.issuer) + "/interaction/"))
    page.get_by_role("button", name="Olena (MitID app, substantial)").click()
    expect(page).to_have_url(live.url + "/")
    assert_lang(page, "ar", "home after MitID")  # the citizen's own language now
    assert "0101901111" not in page.url and "010190" not in page.content()

    page.locator("form[data-logout] button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(provider.issuer) + "/session/end"))
    page.get_by_role("button", name="Yes, log out").click()
    expect(page).to_have_url(re.compile(re.escape(live.url) + "/login"))
    page.goto("/")
    expect(page).to_have_url(re.compile(re.escape(live.url) + "/login"))  # logged out here


@pytest.mark.parametrize("lang", ["da", "uk", "ar", "en"])
def test_an_unknown_cpr_number_gets_a_clear_page_in_every_language(live, new_page, provider,
                                                                   lang):
    phone = new_page(locale=LOCALES[lang], bypass_csp=True)  # axe is injected inline
    page = phone.page
    page.goto("/login")
    where = f"[{lang}] login page with MitID"
    assert_lang(page, lang, where)
    run_axe(page, where)
    page.locator("a[href='/login/mitid']").click()
    page.get_by_role("button", name="Someone the job centre does not know").click()
    expect(page.locator("[data-refusal=unknown_cpr]")).to_be_visible()
    where = f"[{lang}] unknown CPR number"
    assert_lang(page, lang, where)
    assert_no_horizontal_scroll(page, where)
    assert_reflows(page, where)
    run_axe(page, where)
    assert page.locator("[data-refusal] li").count() == 3  # what to do
