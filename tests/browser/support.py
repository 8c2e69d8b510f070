"""Steps and checks shared by the browser tests."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import Citizen, Live, Phone

AXE = Path(__file__).resolve().parents[1] / "support" / "vendor" / "axe-4.14.1.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DIRECTION = {"da": "ltr", "uk": "ltr", "ar": "rtl", "en": "ltr"}
KINDS = ("application", "planned_job", "coffee_meeting", "network_lead", "other")


def login(phone: Phone, live: Live, citizen: Citizen) -> None:
    """The real login: phone number, then the one-time code from the log."""
    page = phone.page
    page.goto("/login")
    request_code(phone, live, citizen)
    enter_code(phone, live, citizen)


def request_code(phone: Phone, live: Live, citizen: Citizen) -> None:
    page = phone.page
    phone.codes_before = len(live.outbox.codes)  # type: ignore[attr-defined]
    page.fill("#identifier", citizen.local_number)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(phone.url("/login/code"))
    expect(page.locator("#code")).to_be_visible()


def enter_code(phone: Phone, live: Live, citizen: Citizen) -> None:
    page = phone.page
    code = live.outbox.wait_for(citizen.id, after=phone.codes_before)  # type: ignore[attr-defined]
    page.fill("#code", code)
    page.click("#code-form button[type=submit]")
    page.wait_for_url(phone.url("/"))
    expect(page.locator("section[aria-labelledby=add-title]")).to_be_attached()


def save_form(phone: Phone, expected_path: str = "/") -> None:
    """Press Save on the entry form and wait for htmx to land on ``expected_path``."""
    page = phone.page
    page.click("#entry-form button[type=submit]")
    page.wait_for_url(phone.url(expected_path))
    expect(page.locator("#entry-form")).to_have_count(0)


def html_lang_dir(page: Page) -> tuple[str | None, str | None]:
    return tuple(page.evaluate(
        "() => [document.documentElement.getAttribute('lang'),"
        " document.documentElement.getAttribute('dir')]"
    ))


def assert_lang(page: Page, lang: str, where: str) -> None:
    got = html_lang_dir(page)
    assert got == (lang, DIRECTION[lang]), (
        f"{where}: <html lang/dir> is {got}, expected {(lang, DIRECTION[lang])}")


def scroll_width(page: Page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def widest_elements(page: Page, limit: int = 5) -> list[str]:
    """The elements that stick out past the right/left edge, for a helpful message."""
    return page.evaluate(
        """(limit) => {
          const w = document.documentElement.clientWidth, out = [];
          for (const el of document.querySelectorAll('body *')) {
            const r = el.getBoundingClientRect();
            if (r.width && (r.right > w + 1 || r.left < -1)) {
              out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}`
                + (typeof el.className === 'string' && el.className.trim()
                   ? '.' + el.className.trim().replace(/\\s+/g, '.') : '')
                + ` [${Math.round(r.left)}..${Math.round(r.right)}]`);
            }
          }
          return out.slice(-limit);
        }""",
        limit,
    )


def assert_no_horizontal_scroll(page: Page, where: str) -> None:
    width = scroll_width(page)
    assert width <= 390, (
        f"{where}: page scrolls sideways at 390px (scrollWidth={width}); "
        f"too wide: {widest_elements(page)}")


def run_axe(page: Page, where: str) -> None:
    """Inject the vendored axe-core and fail with a readable list of WCAG 2.1 A/AA issues."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async (tags) => {
          const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                             resultTypes: ['violations']});
          return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            helpUrl: v.helpUrl,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200),
                                      summary: n.failureSummary}))}));
        }""",
        WCAG_TAGS,
    )
    if result:
        lines = [f"axe-core: {len(result)} WCAG 2.1 A/AA violation(s) on {where} ({page.url})"]
        for v in result:
            lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
            for n in v["nodes"][:8]:
                lines.append(f"    at {n['target']}\n       {n['html']}\n       "
                             + (n["summary"] or "").replace("\n", "\n       "))
            if len(v["nodes"]) > 8:
                lines.append(f"    … and {len(v['nodes']) - 8} more")
        raise AssertionError("\n".join(lines))


def open_details(page: Page) -> None:
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")


def activities_of(live: Live, citizen: Citizen, *, include_deleted: bool = False) -> list[Any]:
    from joblog_app.activities.models import Activity

    with live.db() as session:
        query = session.query(Activity).filter(Activity.citizen_id == citizen.id)
        if not include_deleted:
            query = query.filter(Activity.deleted_at.is_(None))
        rows = query.order_by(Activity.id).all()
        session.expunge_all()
        return rows


def entry_with(page: Page, scope: str, text: str):  # type: ignore[no-untyped-def]
    """The list item in ``scope`` whose text contains ``text``."""
    return page.locator(f"{scope} li").filter(has_text=text)


TAP_TARGETS_JS = """
() => {
  const sel = 'a, button, input, select, textarea, summary, label.choice, label.check';
  const bad = [];
  for (const el of document.querySelectorAll(sel)) {
    if (el.closest('.skip-link') || el.classList.contains('skip-link')) continue;  // keyboard only
    if (el.type === 'hidden') continue;
    // A radio/checkbox inside its label: the label is the tap target.
    if (el.tagName === 'INPUT' && el.closest('label.choice, label.check')) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    if (el.closest('details:not([open])') && !el.matches('summary')) continue;
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    // A link inside running text (a sentence with other words) is exempt (WCAG 2.5.8 inline).
    if (el.tagName === 'A' && style.display === 'inline') {
      const block = el.parentElement.closest('p, li, td, dd');
      if (block && block.textContent.trim().length > el.textContent.trim().length + 2) continue;
    }
    if (r.height < 44 - 0.5 || r.width < 44 - 0.5) {
      const name = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40);
      const cls = String(el.className || '').trim().replace(/\\s+/g, '.');
      bad.push(`${el.tagName.toLowerCase()}${cls ? '.' + cls : ''}`
        + ` "${name}" ${Math.round(r.width)}x${Math.round(r.height)}px`);
    }
  }
  return bad;
}
"""


def small_tap_targets(page: Page) -> list[str]:
    return page.evaluate(TAP_TARGETS_JS)


def dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1, default=str)


def only_digits(value: str) -> str:
    return re.sub(r"\D", "", value)


# Flask-Compress replaces the FileWrapper of a streamed static file with a generator and
# never closes the file, so each compressed static response leaks an open file until GC
# (a ResourceWarning, turned into an error by the suite's filterwarnings=error). Ignore only
# that known leak of files under static/; any other unraisable exception still fails.
STATIC_FILE_LEAK = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <_io\.FileIO name='[^']*/static/"
    r":pytest.PytestUnraisableExceptionWarning"
)
BROWSER = [pytest.mark.browser, STATIC_FILE_LEAK]


# ---------------------------------------------------------------------------------------
# WCAG checks axe cannot make: reflow (1.4.10) with text spacing (1.4.12) and large text,
# status messages (4.1.3) and focus (2.4.3). Reusable for every page, staff pages included.
# ---------------------------------------------------------------------------------------
# The WCAG 1.4.12 override: line height 1.5, paragraph spacing 2em, letter 0.12em, word 0.16em.
TEXT_SPACING_CSS = ("* { line-height: 1.5 !important; letter-spacing: 0.12em !important;"
                    " word-spacing: 0.16em !important; } p { margin-block-end: 2em !important; }")
LARGE_TEXT_CSS = "html { font-size: 200% !important; }"  # a phone's largest text setting

# A constructed style sheet is not an inline <style>, so the page's CSP does not block it.
_ADD_SHEET = """css => { const s = new CSSStyleSheet(); s.replaceSync(css);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, s]; window.__extraSheet = s; }"""
_REMOVE_SHEET = """() => { document.adoptedStyleSheets =
  document.adoptedStyleSheets.filter(s => s !== window.__extraSheet); }"""


def sideways_overflow(page: Page) -> int:
    """How many CSS px the page scrolls sideways (0 when it reflows)."""
    return page.evaluate("() => document.documentElement.scrollWidth"
                         " - document.documentElement.clientWidth")


def _assert_fits(page: Page, where: str) -> None:
    extra = sideways_overflow(page)
    assert extra <= 0, (f"{where}: the page scrolls sideways by {extra}px; too wide: "
                        f"{widest_elements(page)}")


def assert_reflows(page: Page, where: str) -> None:
    """No sideways scrolling at 320 CSS px (WCAG 1.4.10), also with the text-spacing override
    (1.4.12), nor at 390 px with the text twice as large. Restores the page afterwards."""
    original = page.viewport_size
    try:
        page.set_viewport_size({"width": 320, "height": 640})
        _assert_fits(page, f"{where} at 320px")
        for css, what in ((TEXT_SPACING_CSS, "with the WCAG text-spacing override"),):
            page.evaluate(_ADD_SHEET, css)
            try:
                _assert_fits(page, f"{where} at 320px {what}")
            finally:
                page.evaluate(_REMOVE_SHEET)
        page.set_viewport_size(original)
        page.evaluate(_ADD_SHEET, LARGE_TEXT_CSS)
        try:
            _assert_fits(page, f"{where} at {original['width']}px with 200% text")
        finally:
            page.evaluate(_REMOVE_SHEET)
    finally:
        page.set_viewport_size(original)


# Records every text change inside a live region, and whether that region was already in the
# page before (a region created together with its text is usually not announced).
LIVE_REGION_WATCH = """
(() => {
  const log = window.__liveLog = [];
  const known = new WeakSet();
  const SEL = '[role=status], [role=alert], [aria-live]';
  const mark = () => document.querySelectorAll(SEL).forEach(r => known.add(r));
  new MutationObserver(records => {
    for (const r of records) {
      const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      const region = el && el.closest(SEL);
      if (!region || !region.isConnected) continue;
      const text = region.textContent.replace(/\\s+/g, ' ').trim();
      if (text) log.push({id: region.id, text: text, existedBefore: known.has(region)});
    }
    mark();
  }).observe(document, {subtree: true, childList: true, characterData: true});
  document.addEventListener('DOMContentLoaded', mark);
})();
"""


def watch_live_regions(page: Page) -> None:
    """Call before the page loads (it is installed for every document of the context)."""
    page.context.add_init_script(LIVE_REGION_WATCH)


def assert_announced(page: Page, text: str, where: str) -> None:
    """``text`` was written into a live region that existed before its words changed."""
    try:
        page.wait_for_function(
            "t => (window.__liveLog || []).some(e => e.existedBefore && e.text.includes(t))",
            arg=text, timeout=5000)
    except Exception as exc:  # noqa: BLE001 — show what was logged instead
        log = page.evaluate("() => window.__liveLog || []")
        raise AssertionError(f"{where}: {text!r} was not announced by a live region that "
                             f"existed before it; live-region changes: {dump(log)}") from exc


def assert_focus_in_view(page: Page, selector: str, where: str) -> None:
    """Focus is on (or inside) ``selector``, and that element is on screen."""
    try:
        page.wait_for_function(
            """sel => { const t = document.querySelector(sel), a = document.activeElement;
                        return !!t && !!a && a !== document.body && (a === t || t.contains(a)); }""",
            arg=selector, timeout=5000)
    except Exception as exc:  # noqa: BLE001
        active = page.evaluate("() => document.activeElement && document.activeElement.outerHTML"
                               ".slice(0, 160)")
        raise AssertionError(f"{where}: focus is not on {selector}; it is on {active}") from exc
    box = page.evaluate("""sel => { const r = document.querySelector(sel).getBoundingClientRect();
        return {top: r.top, bottom: r.bottom, height: innerHeight, scrollY: scrollY}; }""", selector)
    assert 0 <= box["top"] < box["height"] and box["bottom"] > 0, (
        f"{where}: {selector} has focus but is out of view: {box}")
