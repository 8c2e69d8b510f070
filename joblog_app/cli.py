"""Flask commands: ``flask seed-demo``, ``flask translate ...``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from flask import Flask

from .config import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent


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
        """Extract messages.pot and merge it into every language."""
        _babel("extract", "-F", "babel.cfg", "-k", "_l", "-k", "_plural_forms:2,3",
               "--no-location", "--sort-output",
               "-o", "translations/messages.pot", ".")
        for lang in LANGUAGES:
            po = ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po"
            if po.exists():
                _babel("update", "-i", "translations/messages.pot", "-d", "translations",
                       "-l", lang, "--no-fuzzy-matching")
            else:
                _babel("init", "-i", "translations/messages.pot", "-d", "translations", "-l", lang)

    @translate.command("compile")
    def compile_() -> None:
        """Compile .po files to .mo (done by make run and make test)."""
        _babel("compile", "-d", "translations", "--statistics")
