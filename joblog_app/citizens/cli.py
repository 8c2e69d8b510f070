"""``flask citizens ...``: citizen data that staff put on file, for administrators."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..auth.services import find_citizen
from ..extensions import db
from . import services
from .cpr import CprError, CprInUse

citizens = AppGroup("citizens", help="Citizen data put on file by staff.")


@citizens.command("cpr")
@click.argument("identifier")
def put_cpr_on_file(identifier: str) -> None:
    """Put a citizen's CPR number on file, by phone number or e-mail. The number is asked
    for, never an argument (shell history), and shown masked."""
    user = find_citizen(identifier)
    if user is None:
        raise click.ClickException("no active citizen with that phone number or e-mail")
    raw = click.prompt("CPR number", hide_input=True)
    try:
        masked = services.store_cpr(user.id, raw)
    except CprInUse:
        raise click.ClickException("that CPR number is on file for another citizen") from None
    except CprError:
        raise click.ClickException("that is not a CPR number (DDMMYY-XXXX)") from None
    db.session.commit()
    click.echo(f"{user.name}: CPR {masked} on file; waiting entries will be sent.")
