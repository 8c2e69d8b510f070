"""``flask cafes create``: a job café from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..extensions import db
from ..staff.services import municipality_by_code
from . import services

cafes = AppGroup("cafes", help="Job cafés.")


@cafes.command("create")
@click.option("--municipality", "code", required=True, help="The municipality's code, e.g. 101.")
@click.option("--name", required=True)
@click.option("--place", required=True, help="Where it is, e.g. the library's address.")
@click.option("--weekday", required=True, type=click.IntRange(0, 6), help="0 = Monday.")
@click.option("--opens", required=True, help="HH:MM")
@click.option("--closes", required=True, help="HH:MM")
@click.option("--languages", default="da", show_default=True, help="e.g. da,uk,ar")
def create(code: str, name: str, place: str, weekday: int, opens: str, closes: str,
           languages: str) -> None:
    """Create a job café; helpers then open its sessions from the staff pages."""
    municipality = municipality_by_code(code)
    if municipality is None:
        raise click.ClickException(f"no municipality with code {code}")
    try:
        cafe = services.create_cafe(municipality.id, {
            "name": name, "place": place, "weekday": str(weekday), "opens": opens,
            "closes": closes, "languages": languages.split(",")})
    except services.CafeError as exc:
        raise click.ClickException(f"{exc.field}: {exc.message}") from None
    db.session.commit()
    click.echo(f"Created café #{cafe.id} in {municipality.name}.")
