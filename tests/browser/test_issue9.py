"""Issue 9 in real Chromium: the share target in all four languages, the printable month at
a phone's width and on paper, and the cached home screen with unsent entries."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from joblog_app.core.clock import today

from .support import assert_lang, login, run_axe
from .test_offline import eventually


@pytest.mark.parametrize("lang", ["da", "uk", "ar", "en"])
def test_sharing_a_link_opens_the_planned_job_form_filled_in(live, make_citizen, new_page, lang):
    phone = new_page(bypass_csp=True)
    page = phone.page
    login(phone, live, make_citizen(lang))
    # What Chromium opens for a share to the installed app (manifest share_target, GET).
    page.goto("/activities/new/planned_job?title=Lagermedarbejder%20-%20Coop"
              "&text=&ad_url=https%3A%2F%2Fjob.example%2Fad%2F42")
    assert_lang(page, lang, "share target")
    expect(page.locator("#entry-form [name=title]")).to_have_value("Lagermedarbejder - Coop")
    expect(page.locator("#entry-form [name=ad_url]")).to_have_value("https://job.example/ad/42")
    run_axe(page, f"share target ({lang})")


BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll('.print-table td')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const re = /\\S+/g; let m;
      while ((m = re.exec(node.data))) {
        const range = document.createRange();
        range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (lines.size > 1) { broken.push(m[0]); }
      }
    }
  }
  return broken;
}"""


@pytest.mark.parametrize("lang", ["da", "ar"])
def test_the_printable_month_reads_on_a_phone_and_prints_as_a_table(live, make_citizen, new_page,
                                                                     lang):
    """Finding: at a phone's width words broke in the middle ("Søg t", "01.12 .2026")."""
    phone = new_page(bypass_csp=True)
    page = phone.page
    day = today().isoformat()
    citizen = make_citizen(lang, applications=(("Jobansøgningskonsulent", "Netto"),
                                               ("Lagermedarbejder", "Coop")))
    login(phone, live, citizen)
    page.goto(f"/activities/history/print?month={day[:7]}")
    expect(page.locator(".print-table td").first).to_be_visible()
    assert page.evaluate(BROKEN_WORDS) == []
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    run_axe(page, f"printable month at phone width ({lang})")
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('.print-table')).display") == "table"
    assert page.evaluate("getComputedStyle(document.querySelector('.print-table thead'))"
                         ".position") != "absolute"


def test_cached_home_never_says_all_in_joblog_under_unsent_entries(live, make_citizen, new_page):
    phone = new_page()
    page = phone.page
    login(phone, live, make_citizen("en"))
    all_in = page.locator("[data-all-in]")
    expect(all_in).to_be_visible()
    page.evaluate("""([owner, day]) => JoblogQueue.put({uuid: crypto.randomUUID(), owner: owner,
        kind: 'application', fields: {organisation: 'Irma', title: 'Bager',
        occurred_on: day, method: 'advertised', status: 'applied'}})""",
                  [page.get_attribute("body", "data-owner"), today().isoformat()])
    eventually(page, "!document.getElementById('queue').hidden")
    expect(all_in).to_be_hidden()
