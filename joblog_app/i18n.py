"""Locale selection (user → cookie → Accept-Language → default) and text direction."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request
from flask_babel import get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from .config import LANGUAGES, RTL_LANGUAGES

LANGUAGE_COOKIE = "lang"
# Each language named in itself, so anyone can find their own.
LANGUAGE_NAMES = {"da": "Dansk", "uk": "Українська", "ar": "العربية", "en": "English"}


def select_locale() -> str:
    if not has_request_context():  # background work uses force_locale per recipient
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return request.accept_languages.best_match(LANGUAGES) or current_app.config[
        "BABEL_DEFAULT_LOCALE"
    ]


def current_language() -> str:
    return str(get_locale() or "da")


def text_direction(language: str | None = None) -> str:
    return "rtl" if (language or current_language()) in RTL_LANGUAGES else "ltr"


def template_context() -> dict[str, object]:
    lang = current_language()
    return {
        "html_lang": lang,
        "html_dir": text_direction(lang),
        "language_names": LANGUAGE_NAMES,
        **_bound_gettext(),
    }


def _bound_gettext() -> dict[str, object]:
    """``gettext``/``ngettext`` for one render, bound to the locale's catalog.

    Flask-Babel's own template callables look the catalog up again for every string
    (three lookups on ``g`` each), and a page has dozens: these look it up once per
    render. Same behaviour as Jinja's new-style gettext (``{% trans %}`` and ``_()`` both
    resolve ``gettext`` from the context first): escaped when autoescaping, always
    %-formatted with the named variables. Macros imported without context keep using the
    global ones, which give the same text.
    """
    catalog = get_translations()

    @pass_context
    def gettext(context: Context, message: str, **variables: Any) -> str:
        text = catalog.ugettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, num: int,
                 **variables: Any) -> str:
        variables.setdefault("num", num)
        text = catalog.ungettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return {"gettext": gettext, "ngettext": ngettext}


def add_content_language(response):  # type: ignore[no-untyped-def]
    """Pages say their language; the service worker picks the offline page by it."""
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Language", current_language())
    return response
