"""The catalogs keep to docs/glossary.md: the app's own name, and none of the words we avoid.

The two tables marked *(checked)* in the glossary are the rules, so adding a row there is all
it takes to keep a word from drifting back into any catalog (also the staff pages' strings)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = ROOT / "docs" / "glossary.md"
LANGS = ["da", "uk", "ar", "en"]


def _table(heading: str) -> list[list[str]]:
    """The rows of the first Markdown table under the ``## heading…`` line (header dropped)."""
    lines = GLOSSARY.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"## {heading}"))
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip().strip("`").replace("\\|", "|")
                 for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        rows.append(cells)
    assert len(rows) > 2, f"no table under '## {heading}' in {GLOSSARY}"
    return rows[2:]  # header and |---| line


def _entries(lang: str) -> list[tuple[str, list[str]]]:
    """(English source, every translated form) for each message of ``lang``'s catalog."""
    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f, locale=lang)
    out = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        # A soft hyphen (a break point in a long Danish word) must not hide a word from us.
        texts = [t.replace("\u00ad", "") for t in (ids if lang == "en" else strings)]
        out.append((" / ".join(ids), texts))
    return out


AVOID = _table("Words we avoid")
NAMES = {row[0]: row[1:3] for row in _table("The app's own name")}


@pytest.mark.parametrize("lang", LANGS)
def test_no_avoided_word_in_the_catalog(lang):
    rules = [(avoid, unless) for language, avoid, unless, *_ in AVOID if language == lang]
    assert rules, f"the glossary has no avoided words for {lang}"
    found = []
    for source, strings in _entries(lang):
        for avoid, unless in rules:
            if unless not in ("", "—") and re.search(unless, source, re.IGNORECASE):
                continue
            for text in strings:
                if avoid.casefold() in text.casefold():
                    found.append(f"{avoid!r} in {text!r} (English: {source!r})")
    assert not found, f"{lang}: words docs/glossary.md tells us to avoid:\n" + "\n".join(found)


@pytest.mark.parametrize("lang", LANGS)
def test_the_app_is_called_by_its_own_name(lang):
    name, short = NAMES[lang]
    translated = dict((source, strings[0]) for source, strings in _entries(lang))
    assert translated["My job search"] == name
    assert translated["Job search"] == short
    assert "joblog" not in name.casefold() and "joblog" not in short.casefold()


def test_the_rules_catch_what_the_review_found():
    """Guards the guard: each rule must match the mistake it was written for."""
    def caught(lang: str, source: str, text: str) -> bool:
        return any(lang == language and avoid.casefold() in text.casefold()
                   and not (unless not in ("", "—") and re.search(unless, source, re.I))
                   for language, avoid, unless, *_ in AVOID)

    assert caught("ar", "%(num)s job search registered.", "سُجِّلت محاولة بحث عن عمل واحدة.")
    assert not caught("ar", "Too many wrong tries. Ask for a new code.", "محاولات خاطئة كثيرة جدًا.")
    assert caught("uk", "Waiting — the job centre must add your CPR number", "центр зайнятості")
    assert caught("uk", "You are offline", "Ви офлайн")
    assert caught("da", "My job search", "Joblog")
    assert caught("da", "Put this app on your home screen.", "Læg jobloggen på din hjemmeskærm.")
    assert not caught("da", "All your entries are in Joblog.", "Alle dine registreringer er i Joblog.")
