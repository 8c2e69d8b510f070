"""Locale selection (user → cookie → Accept-Language → default) and text direction."""

from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_babel import get_locale
from flask_login import current_user

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
    }


def add_content_language(response):  # type: ignore[no-untyped-def]
    """Pages say their language; the service worker picks the offline page by it."""
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Language", current_language())
    return response
