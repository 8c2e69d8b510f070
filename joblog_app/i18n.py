"""Locale selection (user → cookie → Accept-Language → default) and text direction."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request
from flask_babel import force_locale, get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

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


def bilingual(text: Any, second: str | None = None, optional: Any = None) -> Markup:
    """``text`` (a lazy string, e.g. a form label) in the page's language and, when
    ``second`` is another language, in that language on its own line beneath it, marked with
    its ``lang`` and ``dir`` so Arabic inside a Danish page (or Danish inside an Arabic one)
    is isolated and reads in its own direction. Without ``second``: just the text, escaped.
    ``optional``: a lazy "(optional)" kept on each line, after the text it belongs to.

    For one screen read by two people (a helper and the citizen, issue 11). A lazy string is
    evaluated once per language; its placeholders (also lazy) follow the language too."""

    def line() -> Markup:
        if optional is None:
            return escape(str(text))
        return Markup('{} <span class="optional">{}</span>').format(str(text), str(optional))

    first = line()
    if not second or second not in LANGUAGES or second == current_language():
        return first
    with force_locale(second):
        other = line()
    return Markup('{first}<span class="in-second-language" lang="{lang}" dir="{dir}">'
                  '{other}</span>').format(first=first, lang=second, dir=text_direction(second),
                                           other=other)
