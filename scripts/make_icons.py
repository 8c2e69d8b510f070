"""Render the maskable PNG app icons from the SVG with Debian's Chromium.

    .venv/bin/python scripts/make_icons.py

Maskable icons fill the whole square; the drawing stays inside the central 80 % circle that
every launcher shape keeps. The PNGs are committed; run this again after changing icon.svg.
"""

from __future__ import annotations

import base64
from pathlib import Path

from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
PAGE = """<!doctype html><html><body style="margin:0;background:#0b5394">
<img src="data:image/svg+xml;base64,{svg}"
 style="display:block;margin:{pad}px;width:{inner}px;height:{inner}px">
</body></html>"""


def main() -> None:
    svg = base64.b64encode((ICONS / "icon.svg").read_bytes()).decode()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium")
        for size in (192, 512):
            page = browser.new_page(viewport={"width": size, "height": size})
            pad = round(size * 0.1)
            page.set_content(PAGE.format(svg=svg, pad=pad, inner=size - 2 * pad))
            page.screenshot(path=str(ICONS / f"maskable-{size}.png"), omit_background=False)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
