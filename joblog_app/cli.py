"""Flask commands: ``flask seed-demo``, ``flask translate ...``."""

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
        from .demo import DEMO_CITIZENS, has_users, seed

        if if_empty and has_users():
            click.echo("Demo data: the database already has users; nothing added.")
        else:
            seed()
            click.echo("Demo data created.")
        click.echo("Log in as a demo citizen with one of these phone numbers;")
        click.echo("the one-time code is printed in this server's log:")
        for citizen in DEMO_CITIZENS:
            click.echo(f"  {citizen.phone[3:]}  {citizen.name} ({citizen.language}, "
                       f"{citizen.group.value})")

    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Relay what is due now, then stop (cron, tests).")
    @click.option("--interval", default=1.0, show_default=True, help="Seconds between idle polls.")
    def worker(once: bool, interval: float) -> None:
        """Background work: relay pending entries to the municipal record."""
        from .record.worker import run

        run(once=once, interval=interval)

    @app.cli.command("record-service")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=8089, show_default=True)
    @click.option("--db", "db_path", default=None, help="SQLite file (default: instance folder).")
    @click.option("--client-id", default="joblog", show_default=True)
    @click.option("--client-secret", envvar="JOBLOG_RECORD_CLIENT_SECRET", default="dev-secret")
    @click.option("--latency-ms", default=0, help="Fault: added latency per request.")
    @click.option("--error-rate", default=0.0, help="Fault: share answered 500/503.")
    @click.option("--rate-limit-rate", default=0.0, help="Fault: share answered 429.")
    @click.option("--retry-after", default=1, help="Fault: Retry-After seconds on 429.")
    @click.option("--drop-after-store-rate", default=0.0,
                  help="Fault: share whose connection is dropped after the entry was stored.")
    def record_service(host: str, port: int, db_path: str | None, client_id: str,
                       client_secret: str, latency_ms: int, error_rate: float,
                       rate_limit_rate: float, retry_after: int,
                       drop_after_store_rate: float) -> None:
        """Run the reference record service (the REST contract, with switchable faults)."""
        from .record.reference_service import serve

        path = db_path or str(Path(app.instance_path) / "reference-record.sqlite")
        click.echo(f"Reference record service on http://{host}:{port} (data in {path})")
        serve(path, host, port, client_id, client_secret,
              {"latency_ms": latency_ms, "error_rate": error_rate,
               "rate_limit_rate": rate_limit_rate, "retry_after": retry_after,
               "drop_after_store_rate": drop_after_store_rate})

    @app.cli.group("record")
    def record() -> None:
        """Delivery to the municipal record: status and retries (administrators)."""

    @record.command("status")
    def record_status() -> None:
        """Counts by state, queue health and the failed entries with their reasons."""
        from .record import services

        for state, count in sorted(services.counts_by_state().items()):
            click.echo(f"{state:10} {count}")
        health = services.queue_health()
        age = "-" if health.oldest_pending_seconds is None else f"{health.oldest_pending_seconds:.0f}s"
        click.echo(f"queue depth {health.depth}, oldest pending {age}, "
                   f"waiting for staff {health.waiting}")
        for a in services.failed_entries():
            click.echo(f"failed #{a.id} citizen #{a.citizen_id} {a.kind.value}: {a.record_error}")

    @record.command("retry")
    @click.argument("activity_ids", nargs=-1, type=int)
    def record_retry(activity_ids: tuple[int, ...]) -> None:
        """Send failed entries again (all, or the given ids)."""
        from .record import services

        n = services.retry_failed(list(activity_ids) or None)
        click.echo(f"{n} entries will be sent again.")

    @record.command("gateway")
    @click.argument("municipality_code")
    @click.argument("kind", type=click.Choice(["http", "export", "none"]))
    def record_gateway(municipality_code: str, kind: str) -> None:
        """Choose how a municipality's entries reach the record."""
        import sqlalchemy as sa

        from .auth.models import Municipality, RecordGatewayKind
        from .extensions import db
        from .record import services

        m = db.session.scalar(sa.select(Municipality).where(Municipality.code == municipality_code))
        if m is None:
            raise click.ClickException(f"no municipality with code {municipality_code}")
        services.set_gateway(m, RecordGatewayKind(kind))
        click.echo(f"{m.name}: gateway {kind}")

    @record.command("cpr")
    @click.argument("identifier")
    def record_cpr(identifier: str) -> None:
        """Put a citizen's CPR number on file (asked for, never an argument: shell history)."""
        from .auth.services import find_citizen
        from .record import services
        from .record.cpr import CprError, mask, normalize

        user = find_citizen(identifier)
        if user is None:
            raise click.ClickException("no active citizen with that phone number or e-mail")
        raw = click.prompt("CPR number", hide_input=True)
        try:
            number = normalize(raw)
        except CprError:
            raise click.ClickException("that is not a CPR number (DDMMYY-XXXX)") from None
        services.set_cpr(user, number)
        click.echo(f"{user.name}: CPR {mask(number)} on file; waiting entries will be sent.")

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
        _babel("extract", "-F", "babel.cfg", "-k", "_l", "-k", "_plural_forms:2,3",
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
