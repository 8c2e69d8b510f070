"""Page-or-fragment rendering for htmx, and the response headers it relies on."""

from __future__ import annotations

import json

from flask import Response, make_response, render_template, request


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
           **context: object) -> Response:
    """The page, or its fragment for htmx. Personal pages are rendered every time: nothing
    is cached, so rendering itself is kept cheap."""
    template = fragment if fragment and wants_fragment() else page
    return make_response(render_template(template, **context), status)


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
