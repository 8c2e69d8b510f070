"""All four catalogs compile, nothing untranslated or fuzzy, placeholders match."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LANGS = ["da", "uk", "ar", "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
EXPECTED_PLURALS = {"da": 2, "en": 2, "uk": 3, "ar": 6}


def _catalog(lang: str):  # type: ignore[no-untyped-def]
    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


def _template_ids() -> set[str]:
    with open(ROOT / "translations" / "messages.pot", "rb") as f:
        return {str(m.id) for m in read_po(f) if m.id}


@pytest.mark.parametrize("lang", LANGS)
def test_catalog_is_complete_and_consistent(lang, tmp_path):
    catalog = _catalog(lang)
    assert catalog.num_plurals == EXPECTED_PLURALS[lang]
    ids = set()
    for message in catalog:
        if not message.id:
            continue
        ids.add(str(message.id))
        where = f"{lang}: {message.id!r}"
        assert not message.fuzzy, f"fuzzy {where}"
        msgids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated {where}"
        wanted = set().union(*(PLACEHOLDER.findall(m) for m in msgids))
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) <= wanted, f"unknown placeholder in {where}"
            if not message.pluralizable:
                assert set(PLACEHOLDER.findall(s)) == wanted, f"placeholders differ {where}"
            assert s.count("<bdi>") == msgids[0].count("<bdi>"), f"<bdi> lost in {where}"
    assert ids == _template_ids(), f"{lang} catalog is not up to date with messages.pot"
    with open(tmp_path / "messages.mo", "wb") as out:
        write_mo(out, catalog)


def test_template_is_up_to_date_with_the_code(tmp_path):
    """Every _() in code and templates is in messages.pot (run `flask translate update`)."""
    from babel.messages.frontend import CommandLineInterface

    out = tmp_path / "fresh.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"),
                                "-k", "_l", "-k", "_plural_forms:2,3", "--no-location", "-o", str(out),
                                str(ROOT)])
    with open(out, "rb") as f:
        fresh = {str(m.id) for m in read_po(f) if m.id}
    assert fresh == _template_ids()


@pytest.mark.parametrize(("n", "expected"), [
    (0, "لا توجد تسجيلات"), (1, "تسجيل واحد"), (2, "تسجيلان"), (3, "3 تسجيلات"),
    (11, "11 تسجيلًا"), (99, "99 تسجيلًا"),
    (100, "100 تسجيل"), (103, "103 تسجيلات"),
])
def test_arabic_uses_all_six_forms_in_gettext_order(n, expected, tmp_path):
    """Babel's Arabic order puts 100–102 (CLDR "other") before 11–99 (CLDR "many")."""
    from babel.support import Translations

    catalog = _catalog("ar")
    with open(tmp_path / "messages.mo", "wb") as out:
        write_mo(out, catalog)
    with open(tmp_path / "messages.mo", "rb") as f:
        translations = Translations(f)
    text = translations.ungettext("%(num)s entry", "%(num)s entries", n) % {"num": n}
    assert text == expected


# --- The Arabic plural order is guarded by `flask translate` ---------------------------------
BABEL_219_AR = ("nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 "
                ": n%100>=11 && n%100<=99 ? 4 : 5);")


def test_arabic_header_is_the_order_the_forms_are_written_for():
    from joblog_app.cli import PLURAL_FORMS, plural_forms_problem

    ar = ROOT / "translations" / "ar" / "LC_MESSAGES" / "messages.po"
    assert plural_forms_problem(ar, "ar") is None
    assert " ".join(_catalog("ar").plural_forms.split()) == PLURAL_FORMS["ar"]


def _copy_translations(tmp_path: Path, ar_header: str | None) -> Path:
    import shutil

    shutil.copytree(ROOT / "translations", tmp_path / "translations",
                    ignore=shutil.ignore_patterns("*.mo"))
    ar = tmp_path / "translations" / "ar" / "LC_MESSAGES" / "messages.po"
    if ar_header is None:
        ar.unlink()
    else:
        text = ar.read_text(encoding="utf-8")
        text = re.sub(r'"Plural-Forms: .*?\\n"\n', f'"Plural-Forms: {ar_header}\\\\n"\n', text,
                      flags=re.S)
        ar.write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("command", ["check", "compile", "update"])
def test_translate_refuses_the_other_arabic_plural_order(app, tmp_path, monkeypatch, command):
    """Babel 2.19 writes forms 4 and 5 the other way round on `pybabel init`; a catalog with
    that header would show "100 طلب" for 11–99. The commands stop before touching anything."""
    from joblog_app import cli

    root = _copy_translations(tmp_path, BABEL_219_AR)
    monkeypatch.setattr(cli, "ROOT", root)
    before = (root / "translations" / "ar" / "LC_MESSAGES" / "messages.po").read_bytes()
    result = app.test_cli_runner().invoke(args=["translate", command])
    assert result.exit_code != 0
    assert "Plural-Forms" in result.output and "never run `pybabel init`" in result.output
    assert (root / "translations" / "ar" / "LC_MESSAGES" / "messages.po").read_bytes() == before
    assert not list(root.glob("translations/*/LC_MESSAGES/messages.mo"))


def test_translate_update_never_inits_the_arabic_catalog(app, tmp_path, monkeypatch):
    from joblog_app import cli

    root = _copy_translations(tmp_path, None)
    monkeypatch.setattr(cli, "ROOT", root)
    result = app.test_cli_runner().invoke(args=["translate", "update"])
    assert result.exit_code != 0 and "restore it from git" in result.output
    assert not (root / "translations" / "ar" / "LC_MESSAGES" / "messages.po").exists()


def test_translate_check_accepts_our_catalogs(app):
    result = app.test_cli_runner().invoke(args=["translate", "check"])
    assert result.exit_code == 0, result.output
