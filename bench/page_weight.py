"""Page weight on first visit, measured in real Chromium: bytes received over the network.

For the login page and for the home screen (logged in as each demo citizen, through the
real login in another browser) a new Chromium instance with a fresh phone-sized context
(empty cache) loads the page, and the Chrome DevTools Protocol reports every request,
including the /favicon.ico a browser asks for on a first visit. Per resource we take
``Network.loadingFinished``'s ``encodedDataLength``: the bytes Chromium read from the
socket for that response, i.e. status line + headers + the *compressed* body as sent
(Content-Encoding honoured, never the decoded size). The decoded size is shown beside it
to prove compression happened.

Target: at most 60 KB per page on first visit (60 KB = 60 x 1024 = 61,440 bytes).

Repeat visit (the installable app, docs/offline.md): in one context the home screen is
loaded until the service worker controls it (its install precaches the shell), the page is
closed and the home screen opened again. Every request is then classified by where its
answer came from: the service worker's cache (0 network bytes), or the network, either
fetched by the service worker (network-first pages) or by the page itself; network bytes
are Playwright's ``request.sizes()`` (headers + compressed body). Target: 0 network bytes
for the shell (everything under /static/); the home screen's HTML is printed as a figure.

    .venv/bin/python bench/page_weight.py [--keep]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as c  # noqa: E402

TARGET_BYTES = 60 * 1024
REPEAT_PHONE = "20000001"


@dataclass
class Resource:
    url: str
    type: str = ""
    status: int = 0
    encoding: str = ""
    header_bytes: int = 0  # response status line + headers as received
    wire_bytes: int = 0  # loadingFinished.encodedDataLength: headers + encoded body
    decoded_bytes: int = 0  # sum of Network.dataReceived.dataLength (body after decoding)
    sent_header_bytes: int = 0  # request headers (Playwright request.sizes())
    failed: str = ""
    finished: bool = False


@dataclass
class Visit:
    name: str
    url: str
    resources: dict[str, Resource] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def listen(self, cdp: Any) -> None:
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.dataReceived", self._data)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.loadingFailed", self._failed)

    def _sent(self, ev: dict) -> None:
        rid = ev["requestId"]
        if rid in self.resources:  # a redirect reuses the request id: close that hop first
            hop = self.resources.pop(rid)
            resp = ev.get("redirectResponse") or {}
            hop.status = resp.get("status", hop.status)
            hop.header_bytes = hop.wire_bytes = int(resp.get("encodedDataLength", 0))
            hop.finished = True
            key = f"{rid}#{len(self.order)}"
            self.resources[key] = hop
            self.order[self.order.index(rid)] = key
        self.resources[rid] = Resource(url=ev["request"]["url"], type=ev.get("type", ""))
        self.order.append(rid)

    def _response(self, ev: dict) -> None:
        r = self.resources.get(ev["requestId"])
        if r is None:
            return
        resp = ev["response"]
        headers = {k.lower(): v for k, v in resp.get("headers", {}).items()}
        r.status = resp["status"]
        r.type = ev.get("type", r.type)
        r.encoding = headers.get("content-encoding", "")
        r.header_bytes = int(resp.get("encodedDataLength", 0))
        if resp.get("fromDiskCache") or resp.get("fromServiceWorker") or resp.get("fromPrefetchCache"):
            r.failed = "served from cache (not a first visit?)"

    def _data(self, ev: dict) -> None:
        r = self.resources.get(ev["requestId"])
        if r is not None:
            r.decoded_bytes += int(ev.get("dataLength", 0))

    def _finished(self, ev: dict) -> None:
        r = self.resources.get(ev["requestId"])
        if r is not None:
            r.wire_bytes = int(ev["encodedDataLength"])
            r.finished = True

    def _failed(self, ev: dict) -> None:
        r = self.resources.get(ev["requestId"])
        if r is not None:
            r.failed = ev.get("errorText", "failed") + (" (canceled)" if ev.get("canceled") else "")

    @property
    def items(self) -> list[Resource]:
        return [self.resources[k] for k in self.order]

    @property
    def total(self) -> int:
        return sum(r.wire_bytes for r in self.items)


def measure(context: Any, name: str, path: str, base: str) -> Visit:
    """Load ``path`` in ``context`` (fresh, so nothing is cached) and record every response."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    visit = Visit(name, base + path)
    visit.listen(cdp)
    cdp.send("Network.enable")
    sizes: dict[str, dict] = {}
    page.on("requestfinished", lambda req: sizes.__setitem__(req.url, req.sizes()))
    response = page.goto(path, wait_until="load")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # let the last CDP events arrive
    if response is None or response.status != 200:
        raise SystemExit(f"{name}: GET {path} answered {response.status if response else None}")
    if page.url != base + path:
        raise SystemExit(f"{name}: ended on {page.url}, not {base + path} (logged out?)")
    for r in visit.items:
        s = sizes.get(r.url)
        if s:
            r.sent_header_bytes = s["requestHeadersSize"]
            # Cross-check CDP against Playwright's own accounting of the same response.
            pw_wire = s["responseHeadersSize"] + s["responseBodySize"]
            if r.finished and abs(pw_wire - r.wire_bytes) > 64:
                c.log(f"note: {r.url}: CDP {r.wire_bytes} B vs Playwright {pw_wire} B")
        if not r.finished and not r.failed:
            r.failed = "did not finish"
    page.close()
    return visit


@dataclass
class RepeatVisit:
    """Where each answer of a repeat visit came from, and the network bytes it cost."""
    rows: list[tuple[str, str, int]] = field(default_factory=list)  # url, source, bytes

    def bytes_for(self, base: str, shell: bool) -> int:
        return sum(n for url, _src, n in self.rows
                   if url.removeprefix(base).startswith("/static/") == shell)


def repeat_visit(context: Any, base: str) -> RepeatVisit:
    """Home screen once until the service worker controls it, then again: what travels."""
    page = context.new_page()
    page.goto("/", wait_until="load")
    for _ in range(150):  # the CSP forbids wait_for_function's eval: poll from outside
        if page.evaluate("() => navigator.serviceWorker.controller !== null"):
            break
        page.wait_for_timeout(100)
    else:
        raise SystemExit("repeat visit: the service worker never controlled the page")
    page.close()

    from_sw: dict[str, bool] = {}
    finished: list[tuple[str, bool, dict]] = []  # url, asked by the service worker, sizes
    context.on("requestfinished", lambda req: finished.append(
        (req.url, req.service_worker is not None, req.sizes())))
    page = context.new_page()
    page.on("response", lambda r: from_sw.__setitem__(r.url, r.from_service_worker))
    page.goto("/", wait_until="load")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    page.close()
    visit = RepeatVisit()
    for url, by_worker, sizes in finished:
        wire = sizes["responseHeadersSize"] + max(0, sizes["responseBodySize"])
        if by_worker:
            visit.rows.append((url, "network, by the service worker", wire))
        elif from_sw.get(url):
            visit.rows.append((url, "answered by the service worker", 0))
        else:
            visit.rows.append((url, "network, by the page", wire))
    return visit


def short(url: str, base: str) -> str:
    path = url.removeprefix(base)
    return path if len(path) <= 58 else path[:55] + "..."


def report(visit: Visit, base: str) -> None:
    print(f"\n{visit.name}: {visit.url}")
    print(f"  {'resource':58} {'type':10} {'st':>3} {'enc':5} {'headers':>8} {'body':>8}"
          f" {'on wire':>8} {'decoded':>8}")
    for r in visit.items:
        body = r.wire_bytes - r.header_bytes
        print(f"  {short(r.url, base):58} {r.type:10} {r.status:>3} {r.encoding or '-':5}"
              f" {r.header_bytes:>8} {body:>8} {r.wire_bytes:>8} {r.decoded_bytes:>8}"
              + (f"  !{r.failed}" if r.failed else ""))
    decoded = sum(r.decoded_bytes for r in visit.items)
    print(f"  {'total (' + str(len(visit.items)) + ' requests)':58} {'':10} {'':3} {'':5}"
          f" {sum(r.header_bytes for r in visit.items):>8}"
          f" {sum(r.wire_bytes - r.header_bytes for r in visit.items):>8}"
          f" {visit.total:>8} {decoded:>8}")
    print(f"  (request headers sent: {sum(r.sent_header_bytes for r in visit.items)} B, not counted)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    if not Path(c.CHROMIUM).exists():
        raise SystemExit(f"{c.CHROMIUM} is missing (bash tests/support/ensure_browser.sh)")
    visits: list[Visit] = []
    with c.workspace(args.keep) as ws, c.gunicorn(ws) as server, sync_playwright() as pw:

        def launch() -> Any:
            return pw.chromium.launch(executable_path=c.CHROMIUM, headless=True, args=c.CHROMIUM_FLAGS)

        def first_visit(name: str, path: str, cookies: list[dict] | None = None) -> Visit:
            # A new browser per visit: Chromium asks for /favicon.ico only once per browser,
            # and a phone visiting for the first time asks for it too.
            browser = launch()
            try:
                context = c.phone_context(browser, server.base)
                if cookies:
                    context.add_cookies(cookies)
                return measure(context, name, path, server.base)
            finally:
                browser.close()

        visits.append(first_visit("Login page, first visit", "/login"))
        login_browser = launch()
        version = login_browser.version
        try:
            logins = {phone: c.browser_login(login_browser, server, phone) for phone in c.DEMO_PHONES}
        finally:
            login_browser.close()
        for phone, lang in c.DEMO_PHONES.items():
            visits.append(first_visit(f"Home screen, first visit, citizen {phone} ({lang})", "/",
                                      logins[phone]))

        browser = launch()
        try:
            context = c.phone_context(browser, server.base)
            context.add_cookies(logins[REPEAT_PHONE])
            again = repeat_visit(context, server.base)
        finally:
            browser.close()

    for v in visits:
        report(v, server.base)
    print(f"\nHome screen, repeat visit, citizen {REPEAT_PHONE} (service worker in control):")
    for url, source, n in again.rows:
        print(f"  {short(url, server.base):58} {source:32} {n:>8}")
    problems = [f"{v.name}: {r.url}: {r.failed}" for v in visits for r in v.items if r.failed]
    uncompressed = sorted({f"{short(r.url, server.base)} ({r.status})" for v in visits for r in v.items
                           if not r.encoding and r.decoded_bytes >= 1024})

    print("\n" + "=" * 78)
    print(f"PAGE WEIGHT, first visit (Chromium {version}, gunicorn 2 sync workers, production config)")
    print("bytes received on the wire = response headers + compressed body, per page, all requests")
    print(f"target <= 60 KB = {TARGET_BYTES:,} bytes per page")
    print("=" * 78)
    worst = 0.0
    for v in visits:
        ratio = v.total / TARGET_BYTES
        worst = max(worst, ratio)
        verdict = "OK" if v.total <= TARGET_BYTES else "MISS"
        print(f"{v.name:56} {v.total:>7,} B = {c.kib(v.total):>9}  {ratio:5.0%} of target  {verdict}")
    if uncompressed:
        print("Sent without Content-Encoding although >= 1 KiB: " + ", ".join(uncompressed))
    if problems:
        print("Problems: " + "; ".join(problems))
    print(f"Heaviest page: {worst:.0%} of the 60 KB target.")
    shell_bytes = again.bytes_for(server.base, shell=True)
    print(f"{'Repeat visit, home screen: shell (/static/) from the network':56} {shell_bytes:>7,} B"
          f"   target 0  {'OK' if shell_bytes == 0 else 'MISS'}")
    print(f"{'Repeat visit, home screen: HTML and the rest from the network':56}"
          f" {again.bytes_for(server.base, shell=False):>7,} B")
    return 0 if worst <= 1 and not problems and shell_bytes == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
