"""Page-or-fragment rendering for htmx, and the response headers it relies on."""

from __future__ import annotations

import json
from collections.abc import Hashable

from flask import Response, make_response, render_template, request

from .core.page_memo import render_memoized


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page (an element with an id).

    Boosted navigation, history restoration and HX-Location to <body> need the full page.
    """
    h = request.headers
    return (
        h.get("HX-Request") == "true"
        and bool(h.get("HX-Target"))
        and h.get("HX-Boosted") != "true"
        and h.get("HX-History-Restore-Request") != "true"
    )


def render(page: str, fragment: str | None = None, status: int = 200,
           memo: Hashable | None = None, **context: object) -> Response:
    """The page, or its fragment for htmx. ``memo``: everything the view read to fill
    ``context`` (hashable); the rendered page is then reused while it is the same
    (``core/page_memo.py``). Leave it out when the context holds anything else that varies."""
    template = fragment if fragment and wants_fragment() else page
    if memo is None:
        return make_response(render_template(template, **context), status)
    body = render_memoized(template, memo, lambda: render_template(template, **context))
    return make_response(body, status)


def location(url: str, target: str = "body") -> Response:
    """Tell htmx to navigate without a full reload (plain redirect for non-htmx clients)."""
    if request.headers.get("HX-Request") == "true":
        resp = make_response("", 200)
        resp.headers["HX-Location"] = json.dumps({"path": url, "target": target})
        return resp
    resp = make_response("", 303)
    resp.headers["Location"] = url
    return resp


def redirect_page(url: str) -> Response:
    """A full page load (htmx: HX-Redirect), for when <html lang dir> may change, e.g. login."""
    if request.headers.get("HX-Request") == "true":
        resp = make_response("", 200)
        resp.headers["HX-Redirect"] = url
        return resp
    resp = make_response("", 303)
    resp.headers["Location"] = url
    return resp


def add_vary(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response
