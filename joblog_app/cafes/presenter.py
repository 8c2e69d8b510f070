"""Words for the café pages: languages, weekdays, a visitor's status and checklist items,
decided here so templates only display."""

from __future__ import annotations

from datetime import time

from babel.dates import get_day_names
from flask_babel import format_time, get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l

from ..progress.services import Progress, Smiley
from ..record.services import CitizenSync
from .models import Cafe, ChecklistItem

LANGUAGE_WORDS = {"da": _l("Danish"), "uk": _l("Ukrainian"), "ar": _l("Arabic"),
                  "en": _l("English")}
SUGGESTION_WORDS = {
    "applications_2": _l("Register 2 applications"),
    "cv": _l("Update the CV"),
    "coffee_meeting": _l("Plan one coffee meeting"),
}
SMILEY_WORDS = {Smiley.GREEN: _l("Green"), Smiley.LIGHT_GREEN: _l("Light green"),
                Smiley.RED: _l("Red")}


def language_word(code: str) -> str:
    return str(LANGUAGE_WORDS.get(code, code))


def weekday_names() -> list[str]:
    """Monday first, as ``date.weekday()``, in the reader's language."""
    names = get_day_names("wide", locale=str(get_locale() or "da"))
    return [names[n] for n in range(7)]


def clock(value: time) -> str:
    return format_time(value, "short")


def cafe_when(cafe: Cafe) -> str:
    return gettext("%(day)s %(opens)s–%(closes)s", day=weekday_names()[cafe.weekday],
                   opens=clock(cafe.opens_at), closes=clock(cafe.closes_at))


def cafe_languages(cafe: Cafe) -> str:
    return ", ".join(language_word(code) for code in cafe.language_codes)


def status_words(p: Progress | None) -> str:
    """The smiley in words, with the count, for the helper."""
    if p is None:
        return gettext("No job search requirement")
    count = ngettext("%(num)s job search this month", "%(num)s job searches this month",
                     p.count)
    return gettext("%(smiley)s: %(count)s (goal %(goal)s)", smiley=SMILEY_WORDS[p.smiley],
                   count=count, goal=p.target)


def waiting_words(sync: CitizenSync) -> str:
    """The entries not yet in the record, for the helper."""
    parts = []
    if sync.failed:
        parts.append(ngettext("%(num)s entry has a problem", "%(num)s entries have a problem",
                              sync.failed))
    if sync.on_the_way:
        parts.append(ngettext("%(num)s entry waiting for Joblog",
                              "%(num)s entries waiting for Joblog", sync.on_the_way))
    return " · ".join(parts) if parts else gettext("All entries are in Joblog")


def item_words(item: ChecklistItem) -> str:
    """A suggestion in the reader's language, or the text the helper typed."""
    if item.suggestion:
        return str(SUGGESTION_WORDS.get(item.suggestion, item.suggestion))
    return item.text or ""
