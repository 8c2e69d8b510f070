"""App-wide Flask commands: ``flask seed-demo``, ``flask worker``, ``flask translate ...``.

Each feature adds its own group in its package (``flask record``, ``flask citizens``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from flask import Flask

from .config import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent

# Our catalogs use Babel's Arabic plural order up to 2.18: form 4 is 100–102 (CLDR "other"),
# form 5 is 11–99 ("many"); every Arabic msgstr[4]/[5] is written for that order. Babel 2.19
# writes the opposite order on ``pybabel init``, which would silently swap those forms. So
# the commands below refuse a catalog whose header differs, and never init an existing one.
PLURAL_FORMS = {
    "ar": "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : "
          "n%100>=0 && n%100<=2 ? 4 : 5);",
}


def plural_forms_problem(po: Path, lang: str) -> str | None:
    """Why ``po``'s Plural-Forms header is not the one its msgstr forms are written for."""
    wanted = PLURAL_FORMS.get(lang)
    if wanted is None or not po.exists():
        return None
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        header = dict(read_po(f, locale=lang).mime_headers).get("Plural-Forms", "")
    if " ".join(header.split()) != wanted:
        return (f"{po}: Plural-Forms is {header!r}, expected {wanted!r} (Babel <= 2.18's order, "
                f"which every msgstr[n] is written for). Restore the header from git; never run "
                f"`pybabel init` on an existing catalog. See docs/translations.md.")
    return None


def check_plural_forms(root: Path) -> None:
    problems = [p for lang in LANGUAGES
                if (p := plural_forms_problem(_po(root, lang), lang))]
    if problems:
        raise click.ClickException("\n".join(problems))


def _po(root: Path, lang: str) -> Path:
    return root / "translations" / lang / "LC_MESSAGES" / "messages.po"


def register_cli(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when users already exist.")
    def seed_demo(if_empty: bool) -> None:
        """Create a demo municipality, citizens (one per language) and staff users."""
        from .demo import DEMO_CITIZENS, DEMO_STAFF, has_users, seed

        if if_empty and has_users():
            click.echo("Demo data: the database already has users; nothing added.")
        else:
            from .extensions import db

            seed()
            db.session.commit()
            click.echo("Demo data created.")
        click.echo("Log in as a demo citizen with one of these phone numbers;")
        click.echo("the one-time code is printed in this server's log:")
        for citizen in DEMO_CITIZENS:
            click.echo(f"  {citizen.phone[3:]}  {citizen.name} ({citizen.language}, "
                       f"{citizen.group.value})")
        click.echo("Log in as demo staff with one of these e-mails (code in this server's log).")
        click.echo("On the first login you set up a second step: a passkey (open the app at")
        click.echo("http://localhost:<port>, not 127.0.0.1: passkeys need a domain name) or an")
        click.echo("authenticator app (scan the QR code). Lost it: flask staff reset <e-mail>.")
        for name, email, role in DEMO_STAFF:
            click.echo(f"  {email}  {name} ({role.value})")

    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Run each job once over what is due now, then stop.")
    @click.option("--interval", default=1.0, show_default=True, help="Seconds between idle polls.")
    @click.option("--job", "jobs", multiple=True, help="Run only this job (repeatable).")
    def worker(once: bool, interval: float, jobs: tuple[str, ...]) -> None:
        """Background work: run every registered job (joblog_app/worker.py) until stopped."""
        from .worker import registered_jobs, run

        known = [job.name for job in registered_jobs()]
        unknown = [name for name in jobs if name not in known]
        if unknown:
            raise click.ClickException(f"no such job: {', '.join(unknown)} (jobs: {', '.join(known)})")
        totals = run(once=once, interval=interval, only=list(jobs) or None)
        if once:
            for name, handled in totals.items():
                click.echo(f"{name}: {handled}")

    @app.cli.group("translate")
    def translate() -> None:
        """Extract, update and compile the translation catalogs."""

    def _babel(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True,
                       cwd=ROOT)

    @translate.command("update")
    def update() -> None:
        """Extract messages.pot and merge it into every language (keeps each header)."""
        check_plural_forms(ROOT)
        for lang in PLURAL_FORMS:
            if not _po(ROOT, lang).exists():
                raise click.ClickException(
                    f"no {lang} catalog: restore it from git rather than `pybabel init`, whose "
                    f"plural order depends on the Babel version (docs/translations.md)")
        _babel("extract", "-F", "babel.cfg", "-k", "_l", "-k", "_ln:1,2", "-k", "_plural_forms:2,3",
               "--no-location", "--sort-output",
               "-o", "translations/messages.pot", ".")
        for lang in LANGUAGES:
            if _po(ROOT, lang).exists():  # update keeps the header; init would replace it
                _babel("update", "-i", "translations/messages.pot", "-d", "translations",
                       "-l", lang, "--no-fuzzy-matching", "--ignore-obsolete")
            else:
                _babel("init", "-i", "translations/messages.pot", "-d", "translations", "-l", lang)
        check_plural_forms(ROOT)

    @translate.command("compile")
    def compile_() -> None:
        """Compile .po files to .mo (done by make run and make test)."""
        check_plural_forms(ROOT)
        _babel("compile", "-d", "translations", "--statistics")

    @translate.command("check")
    def check() -> None:
        """Refuse catalogs whose plural header is not the one their forms are written for."""
        check_plural_forms(ROOT)
        click.echo("Plural-Forms headers are as expected.")
