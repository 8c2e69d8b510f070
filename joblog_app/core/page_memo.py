"""Rendered pages kept, per process, for as long as nothing they show has changed.

Rendering is most of what a page costs (templates, dozens of translations, dates), and a
citizen opens the same home screen many times between two changes: coming back from the
list, from the install help, from another app, and every network-first fetch of the
service worker. So a view may pass ``memo=`` with the data it read to ``htmx.render``; the
page is then kept under a key made of *everything* it is rendered from:

- the view's data, as read from the database for this request (rows, counts, the day),
  so any change to an entry, its record state or the requirement gives another key, and a
  stale page can never be served (nothing to invalidate, no time-to-live);
- the template, the locale, the user (id and role), the path with its query string;
- the session's CSRF secret: the page embeds a token signed from it, valid for as long as
  that session lasts (``WTF_CSRF_TIME_LIMIT = None``), and only for that session.

Never kept: a page that shows a flash message (showing it is what removes it from the
session) and a page rendered before the session has a CSRF secret (rendering creates it).
The store is a small LRU (``PAGE_MEMO_SIZE`` pages per process, 0 turns it off).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import current_app, request, session
from flask_login import current_user

from ..i18n import current_language

_CSRF_FIELD = "csrf_token"  # where Flask-WTF keeps the session's secret (WTF_CSRF_FIELD_NAME)


class PageMemo:
    """A bounded least-recently-used store of rendered pages; safe across threads."""

    def __init__(self) -> None:
        self._pages: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> str | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def put(self, key: Hashable, page: str, size: int) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def __len__(self) -> int:
        return len(self._pages)


def memo_for_app() -> PageMemo:
    memo = current_app.extensions.get("joblog_page_memo")
    if memo is None:
        memo = current_app.extensions.setdefault("joblog_page_memo", PageMemo())
    return memo


def _request_key(template: str, data: Hashable) -> Hashable | None:
    """The key for this request's page, or None when it must be rendered afresh."""
    csrf_secret = session.get(_CSRF_FIELD)
    if not csrf_secret or "_flashes" in session:
        return None
    user = (current_user.id, current_user.role) if current_user.is_authenticated else None
    return (template, current_language(), user, csrf_secret, request.full_path, data)


def render_memoized(template: str, data: Hashable, render: Callable[[], str]) -> str:
    """The page for ``data`` from the store, or ``render()`` it and keep it."""
    size = int(current_app.config["PAGE_MEMO_SIZE"])
    key = _request_key(template, data) if size > 0 else None
    if key is None:
        return render()
    memo = memo_for_app()
    page = memo.get(key)
    if page is None:
        page = render()
        memo.put(key, page, size)
    return page
